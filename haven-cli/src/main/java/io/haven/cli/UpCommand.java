package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.agent.AgentDaemon;
import io.haven.agent.Enroller;
import io.haven.agent.HostProbe;
import io.haven.agent.Identity;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.HavenServer;
import io.haven.server.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code haven up}: a complete single-machine installation on embedded defaults — the server
 * (embedded database, its own CA), a repository in a local directory, and an agent on this host
 * enrolled to the server — set up through the API on the first run and started as they are on
 * later runs. Runs until stopped. The CLI is logged in as the admin afterwards.
 */
@Command(name = "up", mixinStandardHelpOptions = true, description = {
    "Start a complete single-machine Haven: server (embedded database), a local repository and a local agent enrolled to it.",
    "The first run sets everything up and prints the admin password once; later runs start what is there. Stop with Ctrl-C."})
final class UpCommand extends RepoCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "DIR", description = "Where everything lives (default: $HAVEN_DATA, else ~/.local/share/haven).")
    String data;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8443",
            description = "The server's address (default: ${DEFAULT-VALUE}; port 0 for a free one).")
    String listen;

    @Override
    public Integer call() throws Exception {
        Path base = env().resolve(data != null ? data : env().get("HAVEN_DATA", env().get("HOME", "/root") + "/.local/share/haven"));
        Path serverDir = base.resolve("server");
        Path agentDir = base.resolve("agent");
        Path repoDir = base.resolve("repository");
        Path repoPassword = base.resolve("repository.password");
        HavenServer.createDataDir(base);
        ServerCommand.HostPort hp = ServerCommand.HostPort.parse(listen);
        ServerConfig cfg = ServerConfig.defaults(serverDir, hp.host(), hp.port()).withAdminPassword(env().get("HAVEN_ADMIN_PASSWORD"));
        HavenServer server = HavenServer.start(cfg);
        AgentDaemon agent = null;
        try {
            String caPem = Files.readString(server.tls().caCertificateFile(), StandardCharsets.US_ASCII);
            boolean first = !Files.exists(agentDir.resolve("agent.json"));
            String adminPassword = server.generatedAdminPassword().orElse(env().get("HAVEN_ADMIN_PASSWORD"));
            if (first) {
                if (adminPassword == null) {
                    throw new HavenException(ErrorCode.USAGE, "the server in " + serverDir + " exists but this machine's agent is not "
                            + "enrolled; set HAVEN_ADMIN_PASSWORD to the admin's password so 'haven up' can finish the set-up");
                }
                setUp(server, caPem, adminPassword, agentDir, repoDir, repoPassword);
            }
            Identity id = Identity.load(agentDir);
            agent = new AgentDaemon(id, new AgentDaemon.Options(2, threads(), Duration.ofSeconds(2), null));
            Thread t = new Thread(agent::run, "haven-local-agent");
            t.setDaemon(true);
            t.start();
            AgentDaemon a = agent;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                a.close();
                server.close();
            }, "haven-up-shutdown"));
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("url", server.uri().toString());
            info.put("caCertificate", server.tls().caCertificateFile().toString());
            info.put("caFingerprintSha256", server.tls().caFingerprint());
            info.put("admin", HavenServer.FIRST_ADMIN);
            info.put("adminPassword", server.generatedAdminPassword().orElse(null));
            info.put("agent", id.name());
            info.put("repository", repoDir.toString());
            info.put("repositoryPasswordFile", repoPassword.toString());
            info.put("firstRun", first);
            if (json()) {
                println(Output.toJson(info));
            } else {
                println("Haven is up on this machine" + (first ? " (set up now)" : "") + ":");
                println("  server:      " + server.uri() + "   (HTTPS; CA " + server.tls().caCertificateFile() + ")");
                println("  CA SHA-256:  " + server.tls().caFingerprint());
                if (server.generatedAdminPassword().isPresent()) {
                    println("  admin:       user 'admin', password " + server.generatedAdminPassword().get() + "   (shown only now)");
                } else {
                    println("  admin:       user 'admin'" + (first ? ", password from HAVEN_ADMIN_PASSWORD" : ""));
                }
                println("  agent:       '" + id.name() + "' on this host, enrolled with a client certificate (" + agentDir + ")");
                println("  repository:  'local' in " + repoDir + " (password in " + repoPassword + ")");
                println("  policy:      'daily' for group 'local' (02:00, keeps 7 daily, 4 weekly, 12 monthly)");
                println("");
                println(first ? "This shell's user is logged in as admin. Next, protect a directory:"
                        : "Log in with: haven login --server " + server.uri() + " --ca " + server.tls().caCertificateFile() + "; then:");
                println("  haven workload create home --agent " + id.name() + " --path " + env().get("HOME", "/root"));
                println("  haven workload backup home --wait");
                println("  haven job list");
                println("Stop with Ctrl-C.");
            }
            env().out().flush();
            server.join();
            return Main.EXIT_OK;
        } catch (RuntimeException e) {
            if (agent != null) {
                agent.close();
            }
            server.close();
            throw e;
        }
    }

    /** First run: through the API, as an operator would. */
    private void setUp(HavenServer server, String caPem, String adminPassword, Path agentDir, Path repoDir, Path repoPasswordFile)
            throws Exception {
        ApiClient anonymous = new ApiClient(server.uri(), caPem, null);
        String token = anonymous.post("/api/v1/login", Map.of("username", HavenServer.FIRST_ADMIN, "password", adminPassword))
                .get("token").asText();
        ApiClient api = new ApiClient(server.uri(), caPem, token);
        if (!api.get("/api/v1/sites").get("sites").findValuesAsText("name").contains("local")) {
            api.post("/api/v1/sites", Map.of("name", "local", "description", "this machine"));
        }
        String repoPassword;
        if (Files.exists(repoPasswordFile)) {
            repoPassword = Files.readString(repoPasswordFile, StandardCharsets.UTF_8).trim();
        } else {
            byte[] raw = new byte[24];
            new SecureRandom().nextBytes(raw);
            repoPassword = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
            Files.writeString(Files.createFile(repoPasswordFile, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------"))), repoPassword + "\n", StandardCharsets.UTF_8);
        }
        if (!api.get("/api/v1/repositories").get("repositories").findValuesAsText("name").contains("local")) {
            api.post("/api/v1/repositories", Map.of("name", "local", "location", repoDir.toString(), "password", repoPassword));
        }
        JsonNode t = api.post("/api/v1/enrollment-tokens", Map.of("site", "local", "expiresInMinutes", 10));
        String name = HostProbe.facts().hostname().replaceAll("[^A-Za-z0-9._-]", "-");
        if (!name.matches("[A-Za-z0-9].*")) {
            name = "local-" + name;
        }
        Enroller.enroll(server.uri(), t.get("token").asText(), name, "local", Map.of(), HostProbe.facts(), agentDir, new SecureRandom());
        if (!api.get("/api/v1/groups").get("groups").findValuesAsText("name").contains("local")) {
            api.post("/api/v1/groups", Map.of("name", "local", "description", "this machine"));
        }
        api.post("/api/v1/groups/local/members", Map.of("agents", List.of(name)));
        if (!api.get("/api/v1/policies").get("policies").findValuesAsText("name").contains("daily")) {
            Map<String, Object> policy = new LinkedHashMap<>();
            policy.put("name", "daily");
            policy.put("group", "local");
            policy.put("repository", "local");
            policy.put("schedule", "0 2 * * *");
            policy.put("timezone", ZoneId.systemDefault().getId());
            policy.put("retention", Map.of("keepDaily", 7, "keepWeekly", 4, "keepMonthly", 12));
            api.post("/api/v1/policies", policy);
        }
        LoginStore.of(env()).save(new LoginStore.Login(server.uri(), token, caPem, HavenServer.FIRST_ADMIN));
    }
}
