package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.agent.Enroller;
import io.haven.agent.HostProbe;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.snapshot.Snapshot;
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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plan and run commands against the real server, in this process, with agents enrolled (mutual TLS identities)
 * but not running: what {@code plan show} and {@code plan edit --add-step} print, and that the commands following
 * a run ({@code drill}, {@code run watch}, {@code run show}) say when it waits for an agent that cannot answer.
 */
class PlanAndRunCommandsTest {
    static final String PW = "admin-password-1";

    @TempDir
    Path dir;
    HavenServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    record Result(int exit, String out, String err) {}

    /** A command running in this process. */
    record Running(Thread thread, int[] exit, ByteArrayOutputStream out, ByteArrayOutputStream err, String line) {
        Result await() throws InterruptedException {
            thread.join(60_000);
            assertThat(thread.isAlive()).as("haven %s still runs", line).isFalse();
            return new Result(exit[0], out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
    }

    Running start(Map<String, String> vars, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Env env = new Env(vars, dir, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(new byte[0]), false);
        int[] exit = {-1};
        Thread t = new Thread(() -> exit[0] = Main.run(env, args), "haven " + String.join(" ", args));
        t.start();
        return new Running(t, exit, out, err, String.join(" ", args));
    }

    Result haven(Map<String, String> vars, String... args) throws InterruptedException {
        return start(vars, args).await();
    }

    ApiClient api;
    Map<String, String> vars;

    ServerConfig config(int port) {
        return ServerConfig.defaults(dir.resolve("server"), "127.0.0.1", port).withAdminPassword(PW)
                .withPasswords(new PasswordHasher.Params(1024, 1, 1))
                .withControl(new ServerConfig.Control(Duration.ofSeconds(1), Duration.ofMillis(200), Duration.ofSeconds(30), 8 * 1024));
    }

    /** A server with sites hq and dr, an agent enrolled at each, plan {@code app} between them, and the CLI logged in. */
    void serverWithPlan(String extraPlanLines) throws Exception {
        server = HavenServer.start(config(0));
        String ca = Files.readString(server.tls().caCertificateFile());
        ApiClient anon = new ApiClient(server.uri(), ca, null);
        api = new ApiClient(server.uri(), ca, anon.post("/api/v1/login", Map.of("username", "admin", "password", PW)).get("token").asText());
        api.post("/api/v1/sites", Map.of("name", "hq"));
        api.post("/api/v1/sites", Map.of("name", "dr"));
        api.post("/api/v1/repositories", Map.of("name", "main", "location", dir.resolve("repo").toString(), "password", "repository-password"));
        for (String[] a : new String[][] {{"hq-1", "hq"}, {"dr-1", "dr"}}) {
            String token = api.post("/api/v1/enrollment-tokens", Map.of("site", a[1])).get("token").asText();
            Enroller.enroll(server.uri(), token, a[0], null, Map.of(), HostProbe.facts(), dir.resolve("agent-" + a[0]), new SecureRandom());
        }
        api.post("/api/v1/plans", Map.of("yaml", """
                name: app
                protectedSite: hq
                recoverySite: dr
                mode: as-needed
                rpo: 1h
                """ + extraPlanLines + """
                workloads:
                  - name: w
                    driver: process
                    protected: {host: hq-1, volumes: [/srv/hq/w]}
                    recovery: {host: dr-1, volumes: [/srv/dr/w]}
                    probe: {command: "true"}
                    options:
                      command: /bin/sleep 1000
                """));
        vars = Map.of("HAVEN_CONFIG_DIR", dir.resolve("cli").toString(), "HAVEN_SERVER_PASSWORD", PW);
        Result login = haven(vars, "login", "--server", server.uri().toString(), "--ca", server.tls().caCertificateFile().toString());
        assertThat(login.exit()).as(login.err()).isZero();
    }

    @Test
    void planShowSaysWhatTheCopiesKeepAndAddStepReportsTheStepFilesLines() throws Exception {
        serverWithPlan("retention: {daily: 90, monthly: 12}\n");
        Result show = haven(vars, "plan", "show", "app");
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("replication points kept: last 10, hourly 48, daily 90, monthly 12");
        // a new plan without a point: not recoverable yet, and its RPO pending (not MISSED) until two RPOs have passed
        Result status = haven(vars, "plan", "status", "app");
        assertThat(status.exit()).as(status.out() + status.err()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(status.out()).contains(" pending ").doesNotContain("MISSED");

        Path step = Files.writeString(dir.resolve("slow.yaml"), "# let the caches warm\ndelay: warm\nduration: 3 weeks\n");
        Result bad = haven(vars, "plan", "edit", "app", "--add-step", step.toString());
        assertThat(bad.exit()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(bad.err()).contains("the step has 1 problem(s)", step + ":3:11: duration: ");
        Files.writeString(step, "# let the caches warm\ndelay: warm\nduration: 30s\n");
        Result zero = haven(vars, "plan", "edit", "app", "--add-step", step.toString(), "--position", "0");
        assertThat(zero.exit()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(zero.err()).contains("--position counts from 1 (the first step)");
        Result good = haven(vars, "plan", "edit", "app", "--add-step", step.toString(), "--position", "2");
        assertThat(good.exit()).as(good.err()).isZero();
        assertThat(good.out()).contains("is now version 2", "2. delay warm 30s");
        // valid alone, not in this plan: named by its place in the runbook, without lines of a text nobody has seen
        Files.writeString(step, "delay: warm\nduration: 1m\n");
        Result taken = haven(vars, "plan", "edit", "app", "--add-step", step.toString());
        assertThat(taken.exit()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(taken.err()).contains("the edit leaves the plan with", "plan: runbook[").doesNotContainPattern("plan:\\d+:");
        // the retention survives the edit
        assertThat(haven(vars, "plan", "show", "app").out()).contains("daily 90, monthly 12");
        Result missing = haven(vars, "plan", "validate", "-f", dir.resolve("nope.yaml").toString());
        assertThat(missing.exit()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(missing.err()).contains("cannot read " + dir.resolve("nope.yaml") + ": no such file");
    }

    @Test
    void drillRunWatchAndRunShowSayTheRunWaitsForAnAgentThatIsOffline() throws Exception {
        serverWithPlan("");
        // a recovery point of w from hq-1, as replication would have written it
        try (Repository repo = Repository.open(new LocalBackend(dir.resolve("repo")), "repository-password".toCharArray(),
                Clock.systemUTC(), new SecureRandom())) {
            repo.saveSnapshot(new Snapshot(1, Instant.now().minusSeconds(60).toString(), BlobId.of(new byte[32]).hex(),
                    List.of("/srv/hq/w"), "hq-1", "haven", 0, 0, List.of("haven-dr", "plan:app", "workload:w"), List.of(), null, "test", null));
        }
        // dr-1 was enrolled but never polls: offline three heartbeats (3 s here) after it was last heard from, and the
        // drill's preparation job waits for it

        Result drill = haven(vars, "drill", "app", "--timeout", "8s");
        assertThat(drill.exit()).as(drill.out() + drill.err()).isEqualTo(Main.EXIT_UNKNOWN);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("haven run watch (\\S+)\\)").matcher(drill.out());
        assertThat(m.find()).as(drill.out()).isTrue();
        String runId = m.group(1);
        JsonNode run = api.get("/api/v1/runs/" + runId);
        assertThat(run.get("waitingOn")).as(run.toString()).hasSize(1);
        String message = run.get("waitingOn").get(0).get("message").asText();
        assertThat(message).contains("dr-1", "offline");
        // printed once, in the server's words, while the run waits; then the timeout ends the command, not the run
        assertThat(drill.out()).containsOnlyOnce("waiting: " + message).contains("still preparing", "haven run watch " + runId);

        Result watch = haven(vars, "run", "watch", runId, "--timeout", "2s");
        assertThat(watch.exit()).isEqualTo(Main.EXIT_UNKNOWN);
        assertThat(watch.out()).containsOnlyOnce("waiting: " + message);
        Result show = haven(vars, "run", "show", runId);
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("Waiting: " + message);

        // run watch rides out a server restart, as job wait does (FollowAcrossRestartTest), and goes on following
        Running following = start(vars, "run", "watch", runId, "--timeout", "12s");
        Thread.sleep(1500);
        int port = server.port();
        server.close();
        server = null;
        Thread.sleep(3000); // the command finds the server gone
        server = HavenServer.start(config(port));
        Result across = following.await();
        assertThat(across.exit()).as(across.out() + across.err()).isEqualTo(Main.EXIT_UNKNOWN);
        assertThat(across.err()).contains("server unreachable, retrying");
        assertThat(across.out()).contains("still preparing after 12s", "waiting: ");
        assertThat(api.get("/api/v1/runs/" + runId).get("ended").asBoolean()).isFalse();
    }
}
