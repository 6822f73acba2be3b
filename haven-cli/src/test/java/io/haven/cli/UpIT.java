package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's main command, {@code haven up}: a whole single-machine installation (server,
 * embedded database, local repository, local agent) that the CLI can use at once, and that starts
 * again as it was.
 */
class UpIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void upSetsUpServerRepositoryAndAgentThenBacksUpThroughThem() throws Exception {
        HavenCli haven = new HavenCli(tmp.resolve("unused"), "unused");
        haven.env("HAVEN_REPO", null).env("HAVEN_PASSWORD", null).env("HAVEN_CONFIG_DIR", tmp.resolve("cli").toString())
                .env("HAVEN_ADMIN_PASSWORD", null);
        Path data = tmp.resolve("haven");
        Path files = Files.createDirectories(tmp.resolve("files"));
        Files.writeString(files.resolve("note.txt"), "keep me");
        JsonNode first;
        Process up = haven.builder("up", "--data", data.toString(), "--listen", "127.0.0.1:0", "--json")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            first = JSON.readTree(new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8)).readLine());
            assertThat(first.get("firstRun").asBoolean()).isTrue();
            assertThat(first.get("adminPassword").asText()).hasSizeGreaterThan(16);
            assertThat(Files.getPosixFilePermissions(data.resolve("repository.password")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
            String agent = first.get("agent").asText();
            // the CLI is logged in already: the agent is there and online
            JsonNode agents = await(haven, "agent", "list", "--json");
            assertThat(agents.get("agents").get(0).get("name").asText()).isEqualTo(agent);
            haven.run("workload", "create", "files", "--agent", agent, "--path", files.toString()).expect(0);
            JsonNode job = JSON.readTree(haven.run("workload", "backup", "files", "--wait", "--json").expect(0).out());
            assertThat(job.get("state").asText()).isEqualTo("succeeded");
            assertThat(job.get("result").get("files_new").asInt()).isEqualTo(1);
        } finally {
            up.destroy();
            assertThat(up.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        // a second start: same CA, same agent, no new admin password; the repository holds the snapshot
        up = haven.builder("up", "--data", data.toString(), "--listen", "127.0.0.1:0", "--json")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            JsonNode again = JSON.readTree(new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8)).readLine());
            assertThat(again.get("firstRun").asBoolean()).isFalse();
            assertThat(again.get("adminPassword").isNull()).isTrue();
            assertThat(again.get("caFingerprintSha256").asText()).isEqualTo(first.get("caFingerprintSha256").asText());
        } finally {
            up.destroy();
            assertThat(up.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        HavenCli local = new HavenCli(data.resolve("repository"), Files.readString(data.resolve("repository.password")).trim());
        assertThat(local.run("snapshots", "--json").expect(0).out()).contains("workload:files");
    }

    /** Retries a CLI call until the freshly started agent has reported. */
    private static JsonNode await(HavenCli haven, String... args) throws Exception {
        for (int i = 0; i < 50; i++) {
            HavenCli.Result r = haven.run(args);
            if (r.exit() == 0) {
                JsonNode n = JSON.readTree(r.out());
                if (n.get("agents").size() > 0 && n.get("agents").get(0).get("online").asBoolean()) {
                    return n;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the local agent did not come online");
    }
}
