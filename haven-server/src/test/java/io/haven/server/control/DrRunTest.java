package io.haven.server.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.agent.Enroller;
import io.haven.agent.HostProbe;
import io.haven.agent.Identity;
import io.haven.protocol.Messages;
import io.haven.server.HavenServer;
import io.haven.server.HavenServerTest;
import io.haven.server.ServerConfig;
import io.haven.server.TestClient;
import io.haven.server.dns.LocalBind;
import io.haven.server.dns.RecordType;
import io.haven.server.job.Jobs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * DR runs end to end inside one JVM, with real parts: a Haven server, two in-process agent
 * daemons at sites hq (127.0.0.2) and dr (127.0.0.3), a process workload (Python's HTTP server
 * serving its data volume), a real BIND 9 for the DNS step, and the repository on disk. A drill,
 * a planned failover with an approval, commit, a failback, a forced failover with the old site's
 * agent coming back fenced, failing runs, and a server restart in the middle of a run.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DrRunTest {
    static final String HQ = "127.0.0.2";
    static final String DR = "127.0.0.3";
    static final String SANDBOX = "127.0.0.4";
    static final LocalBind.Key KEY = LocalBind.Key.random("haven");

    @TempDir
    static Path dir;
    static int serverPort;
    static HavenServer server;
    static TestClient client;
    static String admin;
    static LocalBind bind;
    static ControlPlaneTest.Daemon hq;
    static ControlPlaneTest.Daemon dr;
    static Identity hqId;
    static int port;
    static Path a;
    static Path b;
    static Path announce;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void start() throws Exception {
        LocalBind.assumeAvailable();
        bind = LocalBind.start(List.of(KEY), List.of(new LocalBind.Zone("example.test", "grant haven zonesub ANY;", "www IN A " + HQ + "\n")));
        serverPort = freePort();
        port = freePort();
        server = HavenServer.start(config());
        client = new TestClient(server.uri(), server.tls().caCertificateFile());
        admin = client.login("admin", HavenServerTest.ADMIN_PW);
        ok(client.post("/api/v1/sites", admin, Map.of("name", "hq")), 201);
        ok(client.post("/api/v1/sites", admin, Map.of("name", "dr")), 201);
        ok(client.post("/api/v1/repositories", admin, Map.of("name", "main", "location", dir.resolve("repo").toString(),
                "password", "repository-password")), 201);
        hqId = enroll("hq-1", "hq");
        hq = new ControlPlaneTest.Daemon(hqId);
        dr = new ControlPlaneTest.Daemon(enroll("dr-1", "dr"));
        a = Files.createDirectories(dir.resolve("site-a/www"));
        b = Files.createDirectories(dir.resolve("site-b/www"));
        Files.writeString(a.resolve("index.html"), "v1\n");
        announce = dir.resolve("announce.log");
        Files.writeString(dir.resolve("tsig.key"), "key \"haven\" {\n  algorithm hmac-sha256;\n  secret \"" + KEY.secret() + "\";\n};\n");
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {hq, dr, server, bind}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // keep closing the rest
                }
            }
        }
        // whatever the runs started: Python HTTP servers on our port
        ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("http.server " + port)).forEach(ProcessHandle::destroyForcibly);
    }

    static ServerConfig config() {
        return ServerConfig.defaults(dir.resolve("server"), "127.0.0.1", serverPort).withAdminPassword(HavenServerTest.ADMIN_PW)
                .withPasswords(HavenServerTest.FAST).withControl(ControlPlaneTest.FAST);
    }

    static Identity enroll(String name, String site) throws Exception {
        String t = ok(client.post("/api/v1/enrollment-tokens", admin, Map.of("site", site)), 201).get("token").asText();
        return Enroller.enroll(server.uri(), t, name, null, Map.of(), HostProbe.facts(), dir.resolve("agents/" + name), new SecureRandom());
    }

    static String plan() {
        return """
                name: web
                protectedSite: hq
                recoverySite: dr
                mode: continuous
                rpo: 10s
                repository: main
                workloads:
                  - name: site
                    driver: process
                    protected: {host: hq-1, volumes: [A], addresses: [HQ]}
                    recovery: {host: dr-1, volumes: [B], addresses: [DR]}
                    sandboxAddresses: [SANDBOX]
                    probe: {http: "http://DR:@PORT@/index.html", status: 200, timeout: 30s}
                    postBoot:
                      - command: /usr/bin/curl -fsS -o /dev/null http://DR:@PORT@/index.html
                        timeout: 10s
                    options:
                      command: /usr/bin/python3 -m http.server @PORT@ --bind ${bind} --directory ${volume.data}
                runbook:
                  - boot: web
                    workloads: [site]
                  - approval: go
                    prompt: Is the site good at its new home?
                    timeout: 10m
                    skipInDrill: true
                  - dns: point-www
                    server: 127.0.0.1:@BINDPORT@
                    zone: example.test.
                    record: www
                    type: A
                    ttl: 5
                    toRecovery: DR
                    toProtected: HQ
                    tsig: {key: haven, algorithm: hmac-sha256, secret: "file:TSIG"}
                  - script: announce
                    where: server
                    command: echo "now at $HAVEN_TARGET_SITE" >> ANNOUNCE
                    timeout: 10s
                """.replace("SANDBOX", SANDBOX).replace("HQ", HQ).replace("DR", DR).replace("@PORT@", Integer.toString(port))
                .replace("@BINDPORT@", Integer.toString(bind.port())).replace("TSIG", dir.resolve("tsig.key").toString())
                .replace("ANNOUNCE", announce.toString()).replace("[A]", "[" + a + "]").replace("[B]", "[" + b + "]");
    }

    @Test
    @Order(1)
    void theDrCopyIsKeptHydratedAndThePlanStartsAtItsProtectedSite() throws Exception {
        ok(client.post("/api/v1/plans", admin, Map.of("yaml", plan(), "source", "web.yaml")), 201);
        // no point yet, moments after the plan came: pending, not missed (and no breach is reported)
        JsonNode first = client.get("/api/v1/plans/web/status", admin).json().get("workloads").get(0);
        assertThat(first.get("pointAt").isNull()).as(first.toString()).isTrue();
        assertThat(first.get("rpo").asText()).isEqualTo("pending");
        JsonNode st = await("the DR copy hydrated", () -> client.get("/api/v1/plans/web/status", admin).json(),
                s -> s.get("recoverable").asBoolean() && s.get("meetsRpo").asBoolean(), 90);
        assertThat(st.get("workloads").get(0).get("point").asText()).isNotBlank();
        assertThat(Files.readString(b.resolve("index.html"))).isEqualTo("v1\n");
        JsonNode started = ok(client.post("/api/v1/plans/web/start", admin, Map.of()), 200);
        assertThat(started.get("started").asBoolean()).as(started.toString()).isTrue();
        assertThat(get(HQ)).isEqualTo("v1\n");
    }

    @Test
    @Order(2)
    void aDrillBootsASandboxCopyAndCleansUpLeavingProductionAlone() throws Exception {
        JsonNode run = ok(client.post("/api/v1/plans/web/runs", admin, Map.of("kind", "test")), 201);
        JsonNode end = awaitRun(run.get("id").asText(), r -> r.get("ended").asBoolean());
        assertThat(end.get("phase").asText()).as(end.get("text").asText()).isEqualTo("succeeded");
        assertThat(end.get("text").asText()).contains("Test failover (drill)", "step 2 'go' (approval): skipInDrill",
                "a drill never changes DNS");
        assertThat(listening(SANDBOX)).isFalse();
        assertThat(listening(DR)).isFalse();
        assertThat(get(HQ)).isEqualTo("v1\n");
        assertThat(bind.query("www.example.test.", RecordType.A).values()).containsExactly(HQ);
        assertThat(Files.exists(announce) && Files.readString(announce).contains("now at")).isTrue(); // scripts run in drills
        Files.deleteIfExists(announce);
    }

    @Test
    @Order(3)
    void aPlannedFailoverLosesNothingMovesDnsAndFencesTheOldSite() throws Exception {
        // a wrong TSIG secret is found before production is stopped: the run is not started
        Path keyFile = dir.resolve("tsig.key");
        String rightKey = Files.readString(keyFile);
        byte[] other = new byte[32];
        new java.security.SecureRandom().nextBytes(other);
        Files.writeString(keyFile, rightKey.replace(KEY.secret(), java.util.Base64.getEncoder().encodeToString(other)));
        var refused = client.post("/api/v1/plans/web/runs", admin, Map.of("kind", "planned"));
        Files.writeString(keyFile, rightKey);
        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.json().get("error").get("message").asText()).contains("step 3 'point-www' (dns) would fail",
                "nothing was stopped", "BADSIG");
        assertThat(get(HQ)).isEqualTo("v1\n");
        assertThat(client.get("/api/v1/runs?plan=web", admin).json().get("runs").toString()).doesNotContain("planned");

        Files.writeString(a.resolve("index.html"), "v2\n");
        Files.writeString(a.resolve("late.txt"), "written just before the failover\n");
        JsonNode run = ok(client.post("/api/v1/plans/web/runs", admin, Map.of("kind", "planned")), 201);
        String id = run.get("id").asText();
        JsonNode waiting = awaitApproval(id);
        assertThat(waiting.get("waitingForApproval").get("prompt").asText()).contains("new home");
        assertThat(get(DR)).isEqualTo("v2\n");
        assertThat(listening(HQ)).isFalse();
        ok(client.post("/api/v1/runs/" + id + "/approve", admin, Map.of()), 200);
        JsonNode end = awaitRun(id, r -> r.get("phase").asText().equals("failed_over") || r.get("ended").asBoolean());
        assertThat(end.get("phase").asText()).as(end.get("text").asText()).isEqualTo("failed_over");
        assertThat(Files.readString(b.resolve("late.txt"))).isEqualTo("written just before the failover\n");
        assertThat(bind.query("www.example.test.", RecordType.A).values()).containsExactly(DR);
        assertThat(Files.readString(announce)).contains("now at dr");
        assertThat(end.get("text").asText()).contains("RPO:       0s (final snapshots after a graceful stop)");
        JsonNode st = client.get("/api/v1/plans/web/status", admin).json();
        assertThat(st.get("fencedAt").toString()).contains("hq");

        assertThat(client.post("/api/v1/plans/web/runs", admin, Map.of("kind", "test")).status()).isEqualTo(409);
        JsonNode committed = ok(client.post("/api/v1/runs/" + id + "/commit", admin, Map.of()), 200);
        assertThat(committed.get("phase").asText()).isEqualTo("committed");
        assertThat(client.get("/api/v1/plans/web/status", admin).json().get("activeSite").asText()).isEqualTo("dr");
    }

    @Test
    @Order(4)
    void aFailbackBringsWhatWasWrittenAtTheRecoverySiteHome() throws Exception {
        assertThat(client.post("/api/v1/plans/web/runs", admin, Map.of("kind", "planned")).status()).isEqualTo(409);
        Files.writeString(b.resolve("index.html"), "v3 written at dr\n");
        JsonNode run = ok(client.post("/api/v1/plans/web/runs", admin, Map.of("kind", "failback")), 201);
        String id = run.get("id").asText();
        awaitApproval(id);
        ok(client.post("/api/v1/runs/" + id + "/approve", admin, Map.of()), 200);
        JsonNode end = awaitRun(id, r -> r.get("phase").asText().equals("failed_over") || r.get("ended").asBoolean());
        assertThat(end.get("phase").asText()).as(end.get("text").asText()).isEqualTo("failed_over");
        assertThat(get(HQ)).isEqualTo("v3 written at dr\n");
        assertThat(listening(DR)).isFalse();
        assertThat(bind.query("www.example.test.", RecordType.A).values()).containsExactly(HQ);
        ok(client.post("/api/v1/runs/" + id + "/commit", admin, Map.of()), 200);
        JsonNode st = client.get("/api/v1/plans/web/status", admin).json();
        assertThat(st.get("activeSite").asText()).isEqualTo("hq");
        assertThat(st.get("fencedAt").toString()).contains("dr").doesNotContain("hq");
    }

    @Test
    @Order(5)
    void aForcedFailoverNeedsConfirmationAndTheLostSiteComesBackFenced() throws Exception {
        // the copy at dr catches up with hq (continuous mode) before the disaster
        Files.writeString(a.resolve("index.html"), "v4 before the disaster\n");
        await("v4 at the copy", () -> Files.exists(b.resolve("index.html")) ? Files.readString(b.resolve("index.html")) : "",
                s -> s.startsWith("v4"), 60);

        // site hq is lost: its agent and its service die
        hq.close();
        ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("http.server " + port + " --bind " + HQ))
                .forEach(ProcessHandle::destroyForcibly);
        // with hq gone nothing new is replicated: once the newest point is two RPOs old, a breach is reported
        java.util.List<String> breaches = new java.util.concurrent.CopyOnWriteArrayList<>();
        server.control().addListener(new io.haven.server.ControlPlane.Listener() {
            @Override
            public void rpo(io.haven.server.dr.DrCopies.Status status, boolean breach) {
                breaches.add(status.plan() + "/" + status.workload() + " " + (breach ? "breach" : "met") + " at " + status.ageSeconds() + "s");
            }
        });
        await("an RPO breach", () -> breaches, l -> l.stream().anyMatch(x -> x.startsWith("web/site breach")), 60);
        JsonNode late = client.get("/api/v1/plans/web/status", admin).json();
        assertThat(late.get("meetsRpo").asBoolean()).isFalse();
        assertThat(late.get("workloads").get(0).get("rpo").asText()).isEqualTo("missed");
        assertThat(late.get("workloads").get(0).get("ageSeconds").asLong()).isGreaterThan(20);
        var refused = client.post("/api/v1/plans/web/runs", admin, Map.of("kind", "forced"));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body()).contains("Confirm it explicitly");
        JsonNode run = ok(client.post("/api/v1/plans/web/runs", admin, Map.of("kind", "forced", "confirm", true)), 201);
        String id = run.get("id").asText();
        awaitApproval(id);
        ok(client.post("/api/v1/runs/" + id + "/approve", admin, Map.of()), 200);
        JsonNode end = awaitRun(id, r -> r.get("phase").asText().equals("failed_over") || r.get("ended").asBoolean());
        assertThat(end.get("phase").asText()).as(end.get("text").asText()).isEqualTo("failed_over");
        assertThat(get(DR)).startsWith("v4");
        assertThat(bind.query("www.example.test.", RecordType.A).values()).containsExactly(DR);
        ok(client.post("/api/v1/runs/" + id + "/commit", admin, Map.of()), 200);

        // hq's agent returns: it is told the plan is fenced there and refuses to start its workload
        hq = new ControlPlaneTest.Daemon(hqId);
        long agentId = server.control().agents().get("hq-1").id();
        Jobs.Job start = server.control().jobs().createDr("dr", "test", null, "start:test", agentId, null,
                new Messages.DrSpec("start", null, "start:test", "web", "site", "process", Map.of("command",
                        "/usr/bin/python3 -m http.server " + port + " --bind ${bind} --directory ${volume.data}"), List.of(a.toString()), HQ,
                        false, null, null, "hq-1", null, null, null, null, null, null, null), "a stale start");
        Jobs.Job done = await("the stale start refused", () -> server.control().jobs().get(start.id()), j -> j.state().done(), 60);
        assertThat(done.state()).isEqualTo(Jobs.State.FAILED);
        assertThat(done.message()).contains("fenced");
        assertThat(listening(HQ)).isFalse();
    }

    @Test
    @Order(6)
    void failingScriptsProbesAndDenialsEndRunsInAClearReportedState() throws Exception {
        ok(client.post("/api/v1/plans", admin, Map.of("yaml", small("fails", "exit 3", "true", false))), 201);
        awaitRecoverable("fails");
        JsonNode failed = awaitRun(ok(client.post("/api/v1/plans/fails/runs", admin, Map.of("kind", "test")), 201).get("id").asText(),
                r -> r.get("ended").asBoolean());
        assertThat(failed.get("phase").asText()).isEqualTo("failed");
        assertThat(failed.get("failure").asText()).contains("check").contains("exit");

        ok(client.post("/api/v1/plans", admin, Map.of("yaml", small("probes", "true", "false", false))), 201);
        awaitRecoverable("probes");
        JsonNode red = awaitRun(ok(client.post("/api/v1/plans/probes/runs", admin, Map.of("kind", "test")), 201).get("id").asText(),
                r -> r.get("ended").asBoolean());
        assertThat(red.get("phase").asText()).isEqualTo("failed");
        assertThat(red.get("failure").asText()).contains("probe not green within 3s");

        ok(client.post("/api/v1/plans", admin, Map.of("yaml", small("denied", "true", "true", true))), 201);
        awaitRecoverable("denied");
        String id = ok(client.post("/api/v1/plans/denied/runs", admin, Map.of("kind", "test")), 201).get("id").asText();
        awaitRun(id, r -> r.has("waitingForApproval") || r.get("ended").asBoolean());
        ok(client.post("/api/v1/runs/" + id + "/deny", admin, Map.of("reason", "not today")), 200);
        JsonNode aborted = awaitRun(id, r -> r.get("ended").asBoolean());
        assertThat(aborted.get("phase").asText()).isEqualTo("aborted");
        assertThat(aborted.get("text").asText()).contains("not today");

        // a planned failover denied part way leaves the protected site stopped and fenced: the plan's status says so
        // (and what undoes it) until it is rolled back
        assertThat(client.get("/api/v1/plans/denied/status", admin).json().get("attention").isNull()).isTrue();
        String moved = ok(client.post("/api/v1/plans/denied/runs", admin, Map.of("kind", "planned")), 201).get("id").asText();
        awaitApproval(moved);
        ok(client.post("/api/v1/runs/" + moved + "/deny", admin, Map.of("reason", "not now")), 200);
        assertThat(awaitRun(moved, r -> r.get("ended").asBoolean()).get("phase").asText()).isEqualTo("aborted");
        JsonNode status = client.get("/api/v1/plans/denied/status", admin).json();
        assertThat(status.get("attention").asText()).contains("site hq, where the plan runs, is fenced", "run " + moved,
                "ended aborted", "haven failover denied --rollback");
        ok(client.post("/api/v1/runs/" + moved + "/rollback", admin, Map.of()), 200);
        assertThat(awaitRun(moved, r -> r.get("phase").asText().equals("rolled_back")).get("phase").asText()).isEqualTo("rolled_back");
        assertThat(client.get("/api/v1/plans/denied/status", admin).json().get("attention").isNull()).isTrue();
    }

    @Test
    @Order(7)
    void aRunGoesOnAfterTheServerIsRestartedInItsMiddle() throws Exception {
        ok(client.post("/api/v1/plans", admin, Map.of("yaml", small("restart", "true", "true", false).replace("  - script: check",
                "  - delay: wait\n    duration: 6s\n  - script: check"))), 201);
        awaitRecoverable("restart");
        // a drill, and a planned failover, each with the server killed in its middle
        for (String kind : List.of("test", "planned")) {
            String id = ok(client.post("/api/v1/plans/restart/runs", admin, Map.of("kind", kind)), 201).get("id").asText();
            awaitRun(id, r -> r.get("report").get("steps").get(1).get("status").asText().equals("RUNNING"));
            server.close();
            server = HavenServer.start(config());
            client = new TestClient(server.uri(), server.tls().caCertificateFile());
            admin = client.login("admin", HavenServerTest.ADMIN_PW);
            JsonNode end = awaitRun(id, r -> r.get("ended").asBoolean() || r.get("phase").asText().equals("failed_over"));
            assertThat(end.get("phase").asText()).as(end.get("text").asText()).isEqualTo(kind.equals("test") ? "succeeded" : "failed_over");
            if (kind.equals("planned")) {
                assertThat(Files.readString(dir.resolve("restart/a-copy/data.txt"))).isEqualTo("restart\n");
                ok(client.post("/api/v1/runs/" + id + "/commit", admin, Map.of()), 200);
            }
        }
    }

    @Test
    @Order(8)
    void aPlanWithADrillScheduleIsDrilledWhenItIsDue() throws Exception {
        ok(client.post("/api/v1/plans", admin, Map.of("yaml", small("scheduled", "true", "true", false).replace("mode: as-needed",
                "mode: as-needed\ndrills:\n  schedule: every 1d\n  timeZone: Europe/Berlin"))), 201);
        awaitRecoverable("scheduled");
        JsonNode planned = await("the next drill planned", () -> client.get("/api/v1/plans/scheduled/status", admin).json(),
                s -> s.hasNonNull("nextDrillAt"), 30);
        assertThat(java.time.Instant.parse(planned.get("nextDrillAt").asText())).isAfter(java.time.Instant.now());
        // make it due now
        server.control().inventory().jdbi().useHandle(h -> h.createUpdate("UPDATE dr_plan_state SET next_drill_at = :t WHERE plan_name = 'scheduled'")
                .bind("t", System.currentTimeMillis() - 1000).execute());
        JsonNode run = await("a scheduled drill", () -> client.get("/api/v1/runs?plan=scheduled", admin).json().get("runs"),
                r -> !r.isEmpty(), 30).get(0);
        assertThat(run.get("kind").asText()).isEqualTo("test");
        assertThat(run.get("createdBy").asText()).isEqualTo("schedule");
        assertThat(awaitRun(run.get("id").asText(), r -> r.get("ended").asBoolean()).get("phase").asText()).isEqualTo("succeeded");
        JsonNode after = client.get("/api/v1/plans/scheduled/status", admin).json();
        assertThat(java.time.Instant.parse(after.get("nextDrillAt").asText())).isAfter(java.time.Instant.now());
        var bad = client.post("/api/v1/plans", admin, Map.of("yaml", small("badly", "true", "true", false).replace("mode: as-needed",
                "mode: as-needed\ndrills:\n  schedule: every 3 weeks")));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body()).contains("drills.schedule");
    }

    @Test
    @Order(9)
    void aPlannedFailoverWithAnHttpStepIsRolledBack() throws Exception {
        java.util.List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer hook = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/pause", x -> {
            calls.add(x.getRequestMethod() + " " + x.getRequestURI());
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        hook.start();
        try {
            String yaml = small("undo", "true", "true", false).replace("sleep 600", "sleep 6017").replace("  - script: check",
                    "  - http: pause-jobs\n    method: POST\n    url: http://127.0.0.1:" + hook.getAddress().getPort() + "/pause\n"
                            + "    status: 204\n  - script: check");
            ok(client.post("/api/v1/plans", admin, Map.of("yaml", yaml)), 201);
            awaitRecoverable("undo");
            assertThat(ok(client.post("/api/v1/plans/undo/start", admin, Map.of()), 200).get("started").asBoolean()).isTrue();
            await("the workload running at hq", DrRunTest::sleepers, n -> n == 1, 10);
            String id = ok(client.post("/api/v1/plans/undo/runs", admin, Map.of("kind", "planned")), 201).get("id").asText();
            JsonNode over = awaitRun(id, r -> r.get("phase").asText().equals("failed_over") || r.get("ended").asBoolean());
            assertThat(over.get("phase").asText()).as(over.get("text").asText()).isEqualTo("failed_over");
            assertThat(calls).containsExactly("POST /pause");
            // stopped at hq, started at dr (a stopped process may linger a moment as a zombie: this container reaps late)
            await("one copy running, at dr", DrRunTest::sleepers, n -> n == 1, 10);
            ok(client.post("/api/v1/runs/" + id + "/rollback", admin, Map.of()), 200);
            JsonNode back = awaitRun(id, r -> r.get("ended").asBoolean());
            assertThat(back.get("phase").asText()).as(back.get("text").asText()).isEqualTo("rolled_back");
            JsonNode st = client.get("/api/v1/plans/undo/status", admin).json();
            assertThat(st.get("activeSite").asText()).isEqualTo("hq");
            assertThat(st.get("fencedAt").toString()).isEqualTo("[\"dr\"]");
            await("the workload running again at hq only", DrRunTest::sleepers, n -> n == 1, 30);
        } finally {
            hook.stop(0);
            ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").endsWith("sleep 6017")).forEach(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * A planned failover whose protected agent is down waits in {@code stopping} for it to take
     * the stop job; the run's view says which job waits for which agent, and the run goes on
     * when the agent is back.
     */
    @Test
    @Order(10)
    void aPlannedFailoverSaysWhenItWaitsForAnAgentThatIsOffline() throws Exception {
        try {
            String yaml = small("stall", "true", "true", false).replace("sleep 600", "sleep 6018");
            ok(client.post("/api/v1/plans", admin, Map.of("yaml", yaml)), 201);
            awaitRecoverable("stall");
            assertThat(ok(client.post("/api/v1/plans/stall/start", admin, Map.of()), 200).get("started").asBoolean()).isTrue();
            await("the workload running at hq", () -> stalled(), n -> n == 1, 10);
            hq.close();
            await("hq-1 offline", () -> client.get("/api/v1/agents/hq-1", admin).json(), a -> !a.get("online").asBoolean(), 30);
            String id = ok(client.post("/api/v1/plans/stall/runs", admin, Map.of("kind", "planned")), 201).get("id").asText();
            JsonNode waiting = awaitRun(id, r -> r.path("waitingOn").size() > 0);
            assertThat(waiting.get("phase").asText()).isEqualTo("stopping");
            JsonNode w = waiting.get("waitingOn").get(0);
            assertThat(w.get("agent").asText()).isEqualTo("hq-1");
            assertThat(w.get("agentState").asText()).isEqualTo("offline");
            assertThat(w.get("jobState").asText()).isEqualTo("queued");
            assertThat(w.get("lastSeenAt").asText()).isNotBlank();
            assertThat(waiting.get("text").asText()).contains("Waiting: job " + w.get("job").asText(), "for agent hq-1, which is offline",
                    "haven run abort " + id);
            assertThat(waiting.get("text").asText()).contains("Waiting: " + w.get("message").asText());
            hq = new ControlPlaneTest.Daemon(hqId);
            JsonNode over = awaitRun(id, r -> r.get("phase").asText().equals("failed_over") || r.get("ended").asBoolean());
            assertThat(over.get("phase").asText()).as(over.get("text").asText()).isEqualTo("failed_over");
            assertThat(over.get("waitingOn")).isEmpty();
            assertThat(over.get("text").asText()).doesNotContain("Waiting:");
            // a plan with a run open (here failed over, its source fenced) is not deleted: its history stays
            var deleted = client.send(java.net.http.HttpRequest.newBuilder(server.uri().resolve("/api/v1/plans/stall")).DELETE(), admin);
            assertThat(deleted.status()).as(deleted.body()).isEqualTo(409);
            assertThat(deleted.body()).contains("has run " + id + " open");
            assertThat(client.get("/api/v1/plans/stall/versions", admin).status()).isEqualTo(200);
            ok(client.post("/api/v1/runs/" + id + "/rollback", admin, Map.of()), 200);
            assertThat(awaitRun(id, r -> r.get("ended").asBoolean()).get("phase").asText()).isEqualTo("rolled_back");
        } finally {
            ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").endsWith("sleep 6018")).forEach(ProcessHandle::destroyForcibly);
        }
    }

    static long stalled() {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").endsWith("sleep 6018")).count();
    }

    static long sleepers() {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").endsWith("sleep 6017")).count();
    }

    /** A drill-only plan with one sleeping process on dr-1, a script step and a command probe. */
    static String small(String name, String script, String probe, boolean approval) throws IOException {
        Path vol = Files.createDirectories(dir.resolve(name + "/a"));
        Files.writeString(vol.resolve("data.txt"), name + "\n");
        return """
                name: NAME
                protectedSite: hq
                recoverySite: dr
                mode: as-needed
                rpo: 10s
                workloads:
                  - name: NAME-w
                    driver: process
                    protected: {host: hq-1, volumes: [VOL]}
                    recovery: {host: dr-1, volumes: [VOL-copy]}
                    probe: {command: "PROBE", timeout: 3s}
                    options:
                      command: sleep 600
                runbook:
                  - boot: up
                    workloads: [NAME-w]
                APPROVAL  - script: check
                    where: WHERE
                    command: SCRIPT
                    timeout: 10s
                """.replace("NAME", name).replace("VOL", vol.toString()).replace("PROBE", probe).replace("SCRIPT", script)
                .replace("WHERE", name.equals("fails") ? "host dr-1" : "server").replace("APPROVAL", approval ? "  - approval: ok\n    prompt: go?\n    timeout: 5m\n" : "");
    }

    static void awaitRecoverable(String plan) throws Exception {
        await("plan " + plan + " recoverable", () -> client.get("/api/v1/plans/" + plan + "/status", admin).json(),
                s -> s.get("workloads").get(0).hasNonNull("pointAt"), 60);
    }

    static JsonNode awaitApproval(String id) throws Exception {
        JsonNode r = awaitRun(id, x -> x.has("waitingForApproval") || x.get("ended").asBoolean());
        assertThat(r.has("waitingForApproval")).as(r.get("text").asText()).isTrue();
        return r;
    }

    static JsonNode awaitRun(String id, Predicate<JsonNode> done) throws Exception {
        return await("run " + id, () -> client.get("/api/v1/runs/" + id, admin).json(), done, 120);
    }

    interface Source<T> {
        T get() throws Exception;
    }

    static <T> T await(String what, Source<T> source, Predicate<T> done, int seconds) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = source.get();
                if (done.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                // the server restarts
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out waiting for " + what + "; last: " + (last instanceof JsonNode n && n.has("text") ? n.get("text").asText() : last));
    }

    static JsonNode ok(TestClient.Res r, int status) throws IOException {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        return r.json();
    }

    static String get(String host) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/index.html")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    static boolean listening(String host) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
