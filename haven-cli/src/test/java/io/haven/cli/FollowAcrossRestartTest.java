package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.agent.Enroller;
import io.haven.agent.HostProbe;
import io.haven.agent.Identity;
import io.haven.agent.ServerClient;
import io.haven.protocol.AgentApi;
import io.haven.protocol.Messages;
import io.haven.server.HavenServer;
import io.haven.server.ServerConfig;
import io.haven.server.auth.PasswordHasher;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command that follows a job rides out a server restart: {@code haven job wait} on the real server (in this
 * process, with an agent driven by hand over mutual TLS) while the server stops and starts again on the same
 * port and data ends with the job's real outcome, not "cannot reach the Haven server" and exit 1. A server that
 * stays away ends it with exit 5, the outcome unknown, and the command to look.
 */
class FollowAcrossRestartTest {
    static final String PW = "admin-password-1";

    @TempDir
    Path dir;
    HavenServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        FollowReads.patience = Duration.ofMinutes(2);
        FollowReads.every = Duration.ofSeconds(2);
    }

    ServerConfig config(int port) {
        return ServerConfig.defaults(dir.resolve("server"), "127.0.0.1", port).withAdminPassword(PW)
                .withPasswords(new PasswordHasher.Params(1024, 1, 1))
                .withControl(new ServerConfig.Control(Duration.ofSeconds(1), Duration.ofMillis(200), Duration.ofSeconds(30), 8 * 1024));
    }

    record Run(Thread thread, AtomicInteger exit, ByteArrayOutputStream out, ByteArrayOutputStream err) {}

    Run haven(Map<String, String> vars, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Env env = new Env(vars, dir, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(new byte[0]), false);
        AtomicInteger exit = new AtomicInteger(-1);
        Thread t = new Thread(() -> exit.set(Main.run(env, args)), "haven " + String.join(" ", args));
        t.start();
        return new Run(t, exit, out, err);
    }

    /** A running job of an agent driven by hand; returns the agent's client and instance, and the job id. */
    record Setup(ServerClient agent, String instance, long job, Map<String, String> vars) {}

    Setup runningJob() throws Exception {
        server = HavenServer.start(config(0));
        String ca = Files.readString(server.tls().caCertificateFile());
        ApiClient anon = new ApiClient(server.uri(), ca, null);
        ApiClient api = new ApiClient(server.uri(), ca, anon.post("/api/v1/login", Map.of("username", "admin", "password", PW)).get("token").asText());
        api.post("/api/v1/sites", Map.of("name", "hq"));
        api.post("/api/v1/repositories", Map.of("name", "main", "location", dir.resolve("repo").toString(), "password", "repository-password"));
        String token = api.post("/api/v1/enrollment-tokens", Map.of("site", "hq")).get("token").asText();
        Identity id = Enroller.enroll(server.uri(), token, "host1", null, Map.of(), HostProbe.facts(), dir.resolve("agent"), new SecureRandom());
        api.post("/api/v1/groups", Map.of("name", "g"));
        api.post("/api/v1/groups/g/members", Map.of("agents", List.of("host1")));
        api.post("/api/v1/policies", Map.of("name", "p", "group", "g", "repository", "main", "schedule", "every 1d"));
        Files.createDirectories(dir.resolve("data"));
        api.post("/api/v1/workloads", Map.of("name", "files", "agent", "host1", "paths", List.of(dir.resolve("data").toString())));
        ServerClient agent = new ServerClient(server.uri(), id.sslContext());
        String instance = UUID.randomUUID().toString();
        long job = api.post("/api/v1/workloads/files/backup", Map.of()).get("id").asLong();
        Messages.TaskBatch batch = agent.get(AgentApi.TASKS + "?free=1&wait=5&instance=" + instance, Messages.TaskBatch.class,
                Duration.ofSeconds(20));
        assertThat(batch.tasks()).hasSize(1);
        Map<String, String> vars = Map.of("HAVEN_CONFIG_DIR", dir.resolve("cli").toString(), "HAVEN_SERVER_PASSWORD", PW);
        Run login = haven(vars, "login", "--server", server.uri().toString(), "--ca", server.tls().caCertificateFile().toString());
        login.thread().join(30_000);
        assertThat(login.exit().get()).as(login.err().toString()).isZero();
        return new Setup(agent, instance, job, vars);
    }

    @Test
    void jobWaitRidesOutAServerRestartAndEndsWithTheJobsOutcome() throws Exception {
        Setup s = runningJob();
        int port = server.port();
        Run wait = haven(s.vars(), "job", "wait", Long.toString(s.job()));
        Thread.sleep(1500);
        assertThat(wait.thread().isAlive()).as(wait.err().toString()).isTrue();
        server.close();
        server = null;
        Thread.sleep(4000); // the command finds the server gone
        server = HavenServer.start(config(port));
        s.agent().post(AgentApi.finish(s.job()), new Messages.Finish("succeeded", "done by test", Map.of("ok", true), List.of()), Map.class,
                Duration.ofSeconds(20));
        wait.thread().join(60_000);
        String err = wait.err().toString();
        assertThat(wait.exit().get()).as(err + wait.out()).isEqualTo(Main.EXIT_OK);
        assertThat(err).contains("server unreachable, retrying");
        assertThat(wait.out().toString()).contains("succeeded");
    }

    @Test
    void aServerThatStaysAwayEndsTheWaitWithExitFiveAndHowToLook() throws Exception {
        Setup s = runningJob();
        FollowReads.patience = Duration.ofSeconds(3);
        FollowReads.every = Duration.ofMillis(500);
        Run wait = haven(s.vars(), "job", "wait", Long.toString(s.job()));
        Thread.sleep(1500);
        server.close();
        server = null;
        wait.thread().join(60_000);
        String err = wait.err().toString();
        assertThat(wait.exit().get()).as(err).isEqualTo(Main.EXIT_UNKNOWN).isEqualTo(5);
        assertThat(err).contains("server unreachable, retrying").contains("outcome is unknown").contains("haven job show " + s.job());
    }
}
