package io.haven.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code haven server --config FILE}: the server's settings in YAML (or JSON). Command-line options
 * win over the file, the file over the environment. Unknown keys are errors, with their line.
 *
 * <pre>
 * listen: 0.0.0.0:8443
 * data: /var/lib/haven/server
 * db: jdbc:postgresql://db.example.com/haven   # user and password: HAVEN_DB_USER, HAVEN_DB_PASSWORD
 * certHosts: [backup.example.com]
 * agents: { heartbeatSeconds: 15 }
 * jobs: { lostAfterMinutes: 15 }
 * scheduler: { tickMillis: 5000 }
 * repositories: { kdfMemoryKib: 65536 }
 * </pre>
 */
record ServerFile(String listen, String data, String db, List<String> certHosts, Agents agents, Jobs jobs, Scheduler scheduler,
        Repositories repositories) {
    record Agents(Integer heartbeatSeconds) {}

    record Jobs(Integer lostAfterMinutes, Integer lostAfterSeconds) {}

    record Scheduler(Integer tickMillis) {}

    record Repositories(Integer kdfMemoryKib) {}

    static final ServerFile EMPTY = new ServerFile(null, null, null, null, null, null, null, null);

    static ServerFile read(Path file) {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        try {
            ServerFile f = yaml.readValue(Files.readAllBytes(file), ServerFile.class);
            return f == null ? EMPTY : f;
        } catch (JsonMappingException e) {
            JsonLocation l = e.getLocation();
            throw new HavenException(ErrorCode.USAGE, file + (l == null ? "" : ":" + l.getLineNr()) + ": " + e.getOriginalMessage()
                    .replaceAll(" \\(class io\\.haven\\.cli\\.ServerFile[^)]*\\)", "")
                    .replaceAll(", not marked as ignorable \\(\\d+ known properties: ", " (known: "));
        } catch (IOException e) {
            throw new HavenException(ErrorCode.USAGE, "cannot read the server config " + file + ": " + e.getMessage(), e);
        }
    }

    ServerConfig.Control control() {
        ServerConfig.Control d = ServerConfig.Control.DEFAULT;
        Duration heartbeat = agents != null && agents.heartbeatSeconds() != null ? Duration.ofSeconds(agents.heartbeatSeconds()) : d.heartbeat();
        Duration tick = scheduler != null && scheduler.tickMillis() != null ? Duration.ofMillis(scheduler.tickMillis()) : d.tick();
        Duration lost = d.lostAfter();
        if (jobs != null && jobs.lostAfterMinutes() != null) {
            lost = Duration.ofMinutes(jobs.lostAfterMinutes());
        }
        if (jobs != null && jobs.lostAfterSeconds() != null) {
            lost = Duration.ofSeconds(jobs.lostAfterSeconds());
        }
        int kdf = repositories != null && repositories.kdfMemoryKib() != null ? repositories.kdfMemoryKib() : d.repositoryKdfKib();
        return new ServerConfig.Control(heartbeat, tick, lost, kdf);
    }
}
