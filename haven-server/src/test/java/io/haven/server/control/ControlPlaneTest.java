package io.haven.server.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.agent.AgentDaemon;
import io.haven.agent.Enroller;
import io.haven.agent.HostProbe;
import io.haven.agent.Identity;
import io.haven.agent.ServerClient;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Messages;
import io.haven.server.HavenServer;
import io.haven.server.HavenServerTest;
import io.haven.server.ServerConfig;
import io.haven.server.TestClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane on a real server (embedded SQLite, HTTPS on loopback) with enrolled agents: raw ones whose
 * every request the test makes, and real in-process agent daemons that run backups and restores.
 */
class ControlPlaneTest {
    static final ServerConfig.Control FAST = new ServerConfig.Control(Duration.ofSeconds(1), Duration.ofMillis(200),
            Duration.ofSeconds(4), 8 * 1024);

    @TempDir
    static Path dir;
    static HavenServer server;
    static TestClient client;
    static String admin;
    static String viewer;

    @BeforeAll
    static void start() throws Exception {
        server = HavenServer.start(HavenServerTest.config(dir.resolve("server")).withControl(FAST));
        client = new TestClient(server.uri(), server.tls().caCertificateFile());
        admin = client.login("admin", HavenServerTest.ADMIN_PW);
        ok(client.post("/api/v1/users", admin, Map.of("username", "vera", "password", "viewer-password", "role", "viewer")), 201);
        viewer = client.login("vera", "viewer-password");
        ok(client.post("/api/v1/sites", admin, Map.of("name", "siteA")), 201);
        ok(client.post("/api/v1/repositories", admin, Map.of("name", "main", "location", dir.resolve("repo").toString(),
                "password", "repository-password")), 201);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static JsonNode ok(TestClient.Res r, int status) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        return r.json();
    }

    static String token() throws Exception {
        return ok(client.post("/api/v1/enrollment-tokens", admin, Map.of("site", "siteA")), 201).get("token").asText();
    }

    static Identity enroll(String name) throws Exception {
        return Enroller.enroll(server.uri(), token(), name, null, Map.of("role", "test"), HostProbe.facts(), dir.resolve("agents/" + name),
                new SecureRandom());
    }

    /** A group with one policy (daily, so it does not fire by itself) holding these agents. */
    static void group(String group, String... agents) throws Exception {
        ok(client.post("/api/v1/groups", admin, Map.of("name", group)), 201);
        if (agents.length > 0) {
            ok(client.post("/api/v1/groups/" + group + "/members", admin, Map.of("agents", List.of(agents))), 200);
        }
        ok(client.post("/api/v1/policies", admin, Map.of("name", group + "-policy", "group", group, "repository", "main",
                "schedule", "every 1d")), 201);
    }

    static void workload(String name, String agent, String pool, Path path) throws Exception {
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("name", name);
        w.put("agent", agent);
        w.put("pool", pool);
        w.put("paths", List.of(path.toString()));
        ok(client.post("/api/v1/workloads", admin, w), 201);
    }

    static long backupNow(String workload) throws Exception {
        return ok(client.post("/api/v1/workloads/" + workload + "/backup", admin, Map.of()), 202).get("id").asLong();
    }

    static JsonNode job(long id) throws Exception {
        return ok(client.get("/api/v1/jobs/" + id, admin), 200);
    }

    static JsonNode await(Supplier<JsonNode> what, java.util.function.Predicate<JsonNode> until, Duration max) throws Exception {
        long end = System.nanoTime() + max.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < end) {
            last = what.get();
            if (until.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("condition not met within " + max + "; last: " + last);
    }

    static JsonNode awaitState(long id, String state) throws Exception {
        return await(() -> {
            try {
                return job(id);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, j -> j.get("state").asText().equals(state), Duration.ofSeconds(60));
    }

    static Path tree(String name) throws Exception {
        Path p = dir.resolve("data/" + name);
        Files.createDirectories(p.resolve("sub"));
        Files.writeString(p.resolve("a.txt"), "alpha " + name);
        Files.write(p.resolve("sub/b.bin"), new byte[100_000]);
        return p;
    }

    // --- enrolment and identity

    @Test
    void anEnrolmentTokenWorksOnceAndPinsTheServersCa() throws Exception {
        String t = token();
        Identity a = Enroller.enroll(server.uri(), t, "once-a", null, Map.of(), null, dir.resolve("agents/once-a"), new SecureRandom());
        assertThat(a.agentId()).isPositive();
        assertThat(Files.getPosixFilePermissions(a.dir().resolve("agent.key")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
        assertThatThrownBy(() -> Enroller.enroll(server.uri(), t, "once-b", null, Map.of(), null, dir.resolve("agents/once-b"),
                new SecureRandom())).isInstanceOf(HavenException.class).hasMessageContaining("unknown, used or expired");
        String fresh = token();
        String wrongPin = fresh.substring(0, fresh.lastIndexOf('.') + 1) + "A".repeat(43);
        assertThatThrownBy(() -> Enroller.enroll(server.uri(), wrongPin, "once-c", null, Map.of(), null, dir.resolve("agents/once-c"),
                new SecureRandom())).isInstanceOf(HavenException.class).hasMessageContaining("does not hold the CA the token pins");
        // the pin check failed before the token was sent: the token still works
        Identity c = Enroller.enroll(server.uri(), fresh, "once-c", null, Map.of(), null, dir.resolve("agents/once-c2"), new SecureRandom());
        assertThat(c.name()).isEqualTo("once-c");
        JsonNode shown = ok(client.get("/api/v1/agents/once-a", viewer), 200);
        assertThat(shown.get("site").asText()).isEqualTo("siteA");
        assertThat(shown.get("state").asText()).isEqualTo("active");
    }

    @Test
    void theAgentListPagesByName() throws Exception {
        for (String n : List.of("page-b", "page-a", "page-c")) {
            Enroller.enroll(server.uri(), token(), n, null, Map.of(), null, dir.resolve("agents/" + n), new SecureRandom());
        }
        List<String> all = new ArrayList<>();
        ok(client.get("/api/v1/agents", viewer), 200).get("agents").forEach(a -> all.add(a.get("name").asText()));
        assertThat(all).contains("page-a", "page-b", "page-c").isSorted();
        // pages of two, followed by their 'next', give the same list
        List<String> paged = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            JsonNode page = ok(client.get("/api/v1/agents?limit=2" + (after == null ? "" : "&after=" + after), viewer), 200);
            assertThat(page.get("agents").size()).isBetween(1, 2);
            page.get("agents").forEach(a -> paged.add(a.get("name").asText()));
            after = page.get("next").isNull() ? null : page.get("next").asText();
            pages++;
        } while (after != null && pages < 1000);
        assertThat(paged).isEqualTo(all);
        JsonNode rest = ok(client.get("/api/v1/agents?limit=10000&after=page-a", viewer), 200);
        assertThat(rest.get("agents").get(0).get("name").asText()).isEqualTo("page-b");
        assertThat(rest.get("next").isNull()).isTrue();
        assertThat(client.get("/api/v1/agents?limit=0", viewer).status()).isEqualTo(400);
        assertThat(client.get("/api/v1/agents?limit=x", viewer).status()).isEqualTo(400);
        assertThat(client.get("/api/v1/agents?after=page-a", viewer).body()).contains("needs 'limit'");
    }

    // --- refusals

    @Test
    void agentEndpointsRefuseUsersAndStrangers() throws Exception {
        var none = client.get("/api/v1/agent/tasks?instance=x", null);
        assertThat(none.status()).isEqualTo(401);
        var user = client.get("/api/v1/agent/tasks?instance=x", admin);
        assertThat(user.status()).isEqualTo(403);
        assertThat(user.body()).contains("for agents");
        var enrolWithoutToken = client.post("/api/v1/agent/enroll", null, Map.of("name", "x", "publicKey", "AAAA"));
        assertThat(enrolWithoutToken.status()).isEqualTo(401);
    }

    @Test
    void userEndpointsRefuseAgents() throws Exception {
        Identity id = enroll("nosy");
        ServerClient c = new ServerClient(server.uri(), id.sslContext());
        assertThatThrownBy(() -> c.get("/api/v1/jobs", Map.class, Duration.ofSeconds(10))).isInstanceOf(HavenException.class)
                .satisfies(e -> assertThat(((HavenException) e).code()).isEqualTo(ErrorCode.FORBIDDEN))
                .hasMessageContaining("agents may not call user endpoints");
        assertThatThrownBy(() -> c.post("/api/v1/enrollment-tokens", Map.of(), Map.class, Duration.ofSeconds(10)))
                .isInstanceOf(HavenException.class).hasMessageContaining("agents may not call user endpoints");
        // the refusal is audited with who tried: the certificate's subject, not an empty actor
        JsonNode entries = ok(client.get("/api/v1/audit?limit=20", admin), 200);
        JsonNode refused = null;
        for (JsonNode e : iterable(entries)) {
            if (e.path("action").asText().equals("POST /api/v1/enrollment-tokens") && e.path("status").asInt() == 403) {
                refused = e;
            }
        }
        assertThat(refused).as(entries.toString()).isNotNull();
        assertThat(refused.path("actor").asText()).startsWith("certificate:").contains("nosy");
    }

    private static List<JsonNode> iterable(JsonNode auditPage) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode list : auditPage) {
            if (list.isArray()) {
                list.forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void aViewerReadsJobsButCannotStartOrCancelOne() throws Exception {
        enroll("vhost");
        group("vgroup", "vhost");
        workload("vfiles", "vhost", null, tree("v"));
        var start = client.post("/api/v1/workloads/vfiles/backup", viewer, Map.of());
        assertThat(start.status()).isEqualTo(403);
        assertThat(start.body()).contains("needs the role operator");
        long id = backupNow("vfiles");
        assertThat(client.get("/api/v1/jobs/" + id, viewer).status()).isEqualTo(200);
        assertThat(client.post("/api/v1/jobs/" + id + "/cancel", viewer, Map.of()).status()).isEqualTo(403);
        assertThat(ok(client.post("/api/v1/jobs/" + id + "/cancel", admin, Map.of()), 200).get("state").asText()).isEqualTo("cancelled");
        // refused calls are audited too
        assertThat(client.get("/api/v1/audit?limit=50", admin).body()).contains("POST /api/v1/workloads/vfiles/backup");
    }

    @Test
    void anAgentSeesAndChangesOnlyItsOwnJobs() throws Exception {
        RawAgent a = new RawAgent(enroll("own-a"), server.uri());
        RawAgent b = new RawAgent(enroll("own-b"), server.uri());
        group("owngroup", "own-a", "own-b");
        workload("own-files", "own-a", null, tree("own"));
        a.heartbeat(1, List.of());
        b.heartbeat(1, List.of());
        long id = backupNow("own-files");
        assertThat(b.poll(1, 0)).isEmpty();
        List<Messages.Task> got = a.poll(1, 5);
        assertThat(got).extracting(Messages.Task::jobId).containsExactly(id);
        assertThat(got.get(0).repository().password()).isEqualTo("repository-password");
        assertThatThrownBy(() -> b.progress(id, 10)).isInstanceOf(HavenException.class)
                .satisfies(e -> assertThat(((HavenException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> b.finish(id, "succeeded")).isInstanceOf(HavenException.class);
        assertThat(a.progress(id, 10)).isFalse();
        a.finish(id, "succeeded");
        JsonNode j = job(id);
        assertThat(j.get("state").asText()).isEqualTo("succeeded");
        assertThat(j.get("agent").asText()).isEqualTo("own-a");
        assertThat(ok(client.get("/api/v1/jobs/" + id + "/logs", viewer), 200).get("lines").toString()).contains("at 10");
        assertThatThrownBy(() -> a.finish(id, "failed")).isInstanceOf(HavenException.class).hasMessageContaining("ended already");
    }

    @Test
    void anAgentRenewsItsCertificateAndTheOldOneRetiresWhenTheNewOneIsUsed() throws Exception {
        Identity old = enroll("renewer");
        RawAgent a = new RawAgent(old, server.uri());
        a.heartbeat(1, List.of());
        assertThat(io.haven.agent.Renewal.due(old, Instant.now(), io.haven.agent.Renewal.RENEW_BEFORE)).isFalse();
        assertThat(io.haven.agent.Renewal.due(old, Instant.now().plus(Duration.ofDays(340)), io.haven.agent.Renewal.RENEW_BEFORE)).isTrue();
        Identity fresh = io.haven.agent.Renewal.renew(old, new SecureRandom());
        assertThat(fresh.certificate().getSerialNumber()).isNotEqualTo(old.certificate().getSerialNumber());
        assertThat(fresh.key()).isNotEqualTo(old.key());
        assertThat(Identity.load(old.dir()).certificate()).isEqualTo(fresh.certificate());
        // until the new certificate is used, the old one still works (a crash before the save locks nothing out)
        a.heartbeat(1, List.of());
        RawAgent b = new RawAgent(fresh, server.uri());
        b.instance = a.instance;
        b.heartbeat(1, List.of());
        assertThatThrownBy(() -> a.heartbeat(1, List.of())).isInstanceOf(HavenException.class)
                .hasMessageContaining("belongs to no enrolled agent");
        b.heartbeat(1, List.of());
        assertThat(ok(client.get("/api/v1/agents/renewer", viewer), 200).get("certificateExpiresAt").asText())
                .isEqualTo(fresh.certificate().getNotAfter().toInstant().toString());
        assertThat(client.get("/api/v1/audit?limit=20", admin).body()).contains("agent:renewer certificate");
    }

    @Test
    void disabledAgentsAreRefusedUntilEnabledAndRevokedOnesForGood() throws Exception {
        RawAgent a = new RawAgent(enroll("flaky"), server.uri());
        a.heartbeat(1, List.of());
        ok(client.post("/api/v1/agents/flaky/disable", admin, Map.of()), 200);
        assertThatThrownBy(() -> a.heartbeat(1, List.of())).isInstanceOf(HavenException.class).hasMessageContaining("disabled");
        ok(client.post("/api/v1/agents/flaky/enable", admin, Map.of()), 200);
        a.heartbeat(1, List.of());
        assertThat(client.post("/api/v1/agents/flaky/revoke", viewer, Map.of()).status()).isEqualTo(403);
        ok(client.post("/api/v1/agents/flaky/revoke", admin, Map.of()), 200);
        assertThatThrownBy(() -> a.heartbeat(1, List.of())).isInstanceOf(HavenException.class).hasMessageContaining("revoked");
        assertThat(client.post("/api/v1/agents/flaky/enable", admin, Map.of()).status()).isEqualTo(409);
    }

    @Test
    void anAgentReachesARepositoryOnlyWhileItRunsAJobThatUsesIt() throws Exception {
        Identity id = enroll("repo-peek");
        var backend = new io.haven.repository.backend.RestBackend(server.uri().resolve("/repo/v1/main"), id.sslContext(),
                Duration.ofSeconds(10));
        assertThatThrownBy(() -> backend.list("snapshots")).isInstanceOf(HavenException.class).hasMessageContaining("runs no job");
        var anonymous = client.get("/repo/v1/main/list?dir=keys", admin);
        assertThat(anonymous.status()).isEqualTo(401);
    }

    // --- scheduler rules

    @Test
    void aBackupNowWhoseAgentIsOfflineWaitsAndRunsWhenItReturnsThenRestoresElsewhere() throws Exception {
        Identity host = enroll("late");
        Identity other = enroll("other-host");
        group("lategroup", "late");
        Path data = tree("late");
        workload("late-files", "late", null, data);
        long id = backupNow("late-files");
        Thread.sleep(1000);
        assertThat(job(id).get("state").asText()).isEqualTo("queued");
        try (Daemon d = new Daemon(host); Daemon o = new Daemon(other)) {
            JsonNode done = awaitState(id, "succeeded");
            assertThat(done.get("agent").asText()).isEqualTo("late");
            assertThat(done.get("result").get("files_new").asInt()).isEqualTo(2);
            // the second backup is incremental: nothing changed, nothing read
            long again = backupNow("late-files");
            JsonNode second = awaitState(again, "succeeded");
            assertThat(second.get("result").get("files_unmodified").asInt()).isEqualTo(2);
            assertThat(second.get("result").get("parent").asText()).isEqualTo(done.get("result").get("snapshot_id").asText());
            JsonNode snaps = ok(client.get("/api/v1/snapshots?workload=late-files", viewer), 200).get("snapshots");
            assertThat(snaps).hasSize(2);
            JsonNode w = ok(client.get("/api/v1/workloads/late-files", viewer), 200);
            assertThat(w.get("lastBackupState").asText()).isEqualTo("succeeded");
            assertThat(w.get("lastSuccessfulBackupAt").asText()).isEqualTo(second.get("finishedAt").asText());
            // restore to another host and path
            Path target = dir.resolve("restored-late");
            long r = ok(client.post("/api/v1/restores", admin, Map.of("workload", "late-files", "agent", "other-host",
                    "targetPath", target.toString())), 202).get("id").asLong();
            JsonNode restored = awaitState(r, "succeeded");
            assertThat(restored.get("agent").asText()).isEqualTo("other-host");
            assertThat(Files.readString(target.resolve(data.toString().substring(1)).resolve("a.txt"))).isEqualTo("alpha late");
            // a DR copy kept up to date: a sync restore writes only what differs and deletes what the snapshot lacks
            Path copy = target.resolve(data.toString().substring(1));
            Files.writeString(copy.resolve("stray.txt"), "not in the snapshot");
            Files.writeString(copy.resolve("a.txt"), "edited at B");
            long sync = ok(client.post("/api/v1/restores", admin, Map.of("workload", "late-files", "agent", "other-host",
                    "targetPath", target.toString(), "sync", true)), 202).get("id").asLong();
            JsonNode synced = awaitState(sync, "succeeded");
            assertThat(synced.get("result").get("files_written").asInt()).isEqualTo(1);
            assertThat(synced.get("result").get("files_kept").asInt()).isEqualTo(1);
            assertThat(synced.get("result").get("deleted").asInt()).isEqualTo(1);
            assertThat(copy.resolve("stray.txt")).doesNotExist();
            assertThat(Files.readString(copy.resolve("a.txt"))).isEqualTo("alpha late");
            assertThat(client.post("/api/v1/restores", admin, Map.of("workload", "late-files", "sync", true)).status()).isEqualTo(400);
            // a restore that cannot succeed removes what it created
            Path blocked = dir.resolve("blocked");
            Files.writeString(blocked, "a file where a directory should be");
            long bad = ok(client.post("/api/v1/restores", admin, Map.of("workload", "late-files", "agent", "other-host",
                    "targetPath", blocked.toString())), 202).get("id").asLong();
            JsonNode failed = awaitState(bad, "failed");
            assertThat(failed.get("message").asText()).contains("not a directory");
            assertThat(Files.readString(blocked)).isEqualTo("a file where a directory should be");
        }
    }

    @Test
    void retentionRunsAsAScheduledMaintenanceJobOnTheServer() throws Exception {
        Identity host = enroll("keeper");
        ok(client.post("/api/v1/groups", admin, Map.of("name", "keepgroup")), 201);
        ok(client.post("/api/v1/groups/keepgroup/members", admin, Map.of("agents", List.of("keeper"))), 200);
        ok(client.post("/api/v1/policies", admin, Map.of("name", "keep-one", "group", "keepgroup", "repository", "main",
                "schedule", "every 1d", "retention", Map.of("keepLast", 1), "maintenanceSchedule", "every 1d")), 201);
        Path data = tree("keeper");
        workload("keeper-files", "keeper", null, data);
        try (Daemon d = new Daemon(host)) {
            awaitState(backupNow("keeper-files"), "succeeded");
            Files.writeString(data.resolve("a.txt"), "changed");
            awaitState(backupNow("keeper-files"), "succeeded");
        }
        assertThat(ok(client.get("/api/v1/snapshots?workload=keeper-files", viewer), 200).get("snapshots")).hasSize(2);
        server.control().inventory().jdbi().useHandle(h -> h.createUpdate("UPDATE policies SET next_maintenance_at = :t WHERE name = 'keep-one'")
                .bind("t", Instant.now().minusSeconds(1).toEpochMilli()).execute());
        JsonNode m = await(() -> get("/api/v1/jobs?type=maintenance").get("jobs"),
                js -> js.size() > 0 && js.get(0).get("state").asText().equals("succeeded"), Duration.ofSeconds(60)).get(0);
        assertThat(m.get("result").get("snapshotsRemoved")).hasSize(1);
        assertThat(ok(client.get("/api/v1/snapshots?workload=keeper-files", viewer), 200).get("snapshots")).hasSize(1);
        assertThat(ok(client.get("/api/v1/jobs/" + m.get("id").asLong() + "/logs", viewer), 200).get("lines").toString())
                .contains("workload:keeper-files: kept 1, removed 1").contains("prune");
    }

    @Test
    void policiesChangeAndInventoryIsDeletedInTheRightOrder() throws Exception {
        enroll("tidy");
        group("tidygroup", "tidy");
        workload("tidy-files", "tidy", null, tree("tidy"));
        JsonNode before = ok(client.get("/api/v1/policies/tidygroup-policy", viewer), 200);
        JsonNode after = ok(client.post("/api/v1/policies/tidygroup-policy", admin, Map.of("schedule", "0 3 * * *", "timezone",
                "Europe/Berlin", "excludes", List.of("*.tmp"))), 200);
        assertThat(after.get("schedule").asText()).isEqualTo("0 3 * * *");
        assertThat(after.get("excludes").toString()).contains("*.tmp");
        assertThat(after.get("repository").asText()).isEqualTo(before.get("repository").asText());
        assertThat(after.get("nextBackupAt").asText()).isNotEqualTo(before.get("nextBackupAt").asText());
        assertThat(client.post("/api/v1/policies/tidygroup-policy", admin, Map.of("schedule", "every 7x")).status()).isEqualTo(400);
        assertThat(client.send(java.net.http.HttpRequest.newBuilder(server.uri().resolve("/api/v1/groups/tidygroup")).DELETE(), admin)
                .status()).isEqualTo(409);
        assertThat(client.send(java.net.http.HttpRequest.newBuilder(server.uri().resolve("/api/v1/workloads/tidy-files")).DELETE(), viewer)
                .status()).isEqualTo(403);
        assertThat(client.send(java.net.http.HttpRequest.newBuilder(server.uri().resolve("/api/v1/workloads/tidy-files")).DELETE(), admin)
                .status()).isEqualTo(200);
        assertThat(client.send(java.net.http.HttpRequest.newBuilder(server.uri().resolve("/api/v1/policies/tidygroup-policy")).DELETE(), admin)
                .status()).isEqualTo(200);
        assertThat(client.send(java.net.http.HttpRequest.newBuilder(server.uri().resolve("/api/v1/groups/tidygroup")).DELETE(), admin)
                .status()).isEqualTo(200);
        assertThat(client.get("/api/v1/workloads/tidy-files", admin).status()).isEqualTo(404);
    }

    @Test
    void aScheduledBackupWhoseAgentIsOfflineIsRecordedMissed() throws Exception {
        enroll("sleepy");
        group("sleepygroup", "sleepy");
        workload("sleepy-files", "sleepy", null, tree("sleepy"));
        due("sleepygroup-policy", Instant.now().minusSeconds(60));
        JsonNode missed = await(() -> jobsOf("sleepy-files"), js -> js.size() == 1, Duration.ofSeconds(10)).get(0);
        assertThat(missed.get("state").asText()).isEqualTo("missed");
        assertThat(missed.get("origin").asText()).isEqualTo("schedule");
        assertThat(missed.get("message").asText()).contains("offline");
    }

    @Test
    void ticksMissedWhileEveryServerWasDownRunOnce() throws Exception {
        RawAgent a = new RawAgent(enroll("catchup"), server.uri());
        a.heartbeat(1, List.of());
        group("catchupgroup", "catchup");
        workload("catchup-files", "catchup", null, tree("catchup"));
        due("catchupgroup-policy", Instant.now().minus(Duration.ofDays(10)));
        JsonNode js = await(() -> jobsOf("catchup-files"), x -> x.size() >= 1, Duration.ofSeconds(10));
        Thread.sleep(1000); // several more rounds of the loop
        server.control().loop().round();
        js = jobsOf("catchup-files");
        assertThat(js).hasSize(1);
        assertThat(js.get(0).get("state").asText()).isEqualTo("queued");
        JsonNode p = ok(client.get("/api/v1/policies/catchupgroup-policy", viewer), 200);
        assertThat(Instant.parse(p.get("nextBackupAt").asText())).isAfter(Instant.now());
    }

    @Test
    void pooledJobsGoToTheLeastLoadedAgentAndWaitWhenAllAreBusy() throws Exception {
        RawAgent a = new RawAgent(enroll("pool-a"), server.uri());
        RawAgent b = new RawAgent(enroll("pool-b"), server.uri());
        a.heartbeat(2, List.of());
        b.heartbeat(2, List.of());
        group("pool", "pool-a", "pool-b");
        workload("shared", null, "pool", tree("shared"));
        long j1 = backupNow("shared");
        assertThat(a.poll(1, 0)).extracting(Messages.Task::jobId).containsExactly(j1);
        long j2 = backupNow("shared");
        // a runs one of two, b none: b is less loaded, so a does not get the job
        assertThat(a.poll(1, 0)).isEmpty();
        assertThat(b.poll(1, 0)).extracting(Messages.Task::jobId).containsExactly(j2);
        long j3 = backupNow("shared");
        assertThat(a.poll(1, 0)).extracting(Messages.Task::jobId).containsExactly(j3);
        // both full (2 of 2 and... b has 1 of 2): b takes the next one
        long j4 = backupNow("shared");
        assertThat(a.poll(1, 0)).isEmpty();
        assertThat(b.poll(1, 0)).extracting(Messages.Task::jobId).containsExactly(j4);
        // all busy: the next job waits in the queue
        long j5 = backupNow("shared");
        assertThat(a.poll(1, 0)).isEmpty();
        assertThat(b.poll(1, 0)).isEmpty();
        assertThat(job(j5).get("state").asText()).isEqualTo("queued");
        // a slot frees up: the waiting job starts there, even while the agent is already polling
        var waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> a.poll(1, 10));
        Thread.sleep(500);
        a.finish(j1, "succeeded");
        assertThat(waiting.get()).extracting(Messages.Task::jobId).containsExactly(j5);
        for (long j : List.of(j2, j4)) {
            b.finish(j, "succeeded");
        }
        a.finish(j3, "succeeded");
        a.finish(j5, "partial");
        assertThat(job(j5).get("state").asText()).isEqualTo("partial");
    }

    /**
     * A real agent cancels a running backup and the server learns it: the job ends {@code cancelled} within
     * seconds. The backup is held to 1 byte a second, so it blocks in the bandwidth limiter until the cancel
     * interrupts it; the agent used to report the outcome with the interrupt still set, every call failed
     * with "interrupted while talking to the server", and the job stayed running for ever.
     */
    @Test
    void aRealAgentCancelsARunningBackupAndTheJobEndsCancelled() throws Exception {
        Identity host = enroll("stopper");
        ok(client.post("/api/v1/groups", admin, Map.of("name", "stoppergroup")), 201);
        ok(client.post("/api/v1/groups/stoppergroup/members", admin, Map.of("agents", List.of("stopper"))), 200);
        ok(client.post("/api/v1/policies", admin, Map.of("name", "stopper-policy", "group", "stoppergroup", "repository", "main",
                "schedule", "every 1d", "bandwidthLimit", 1)), 201);
        workload("stopper-files", "stopper", null, tree("stopper"));
        try (Daemon d = new Daemon(host)) {
            long id = backupNow("stopper-files");
            awaitState(id, "running");
            Thread.sleep(1000); // into the work: the first writes wait for bandwidth
            assertThat(job(id).get("state").asText()).isEqualTo("running");
            ok(client.post("/api/v1/jobs/" + id + "/cancel", admin, Map.of()), 200);
            JsonNode done = await(() -> {
                try {
                    return job(id);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, j -> !j.get("state").asText().equals("running"), Duration.ofSeconds(15));
            assertThat(done.get("state").asText()).as(done.toString()).isEqualTo("cancelled");
        }
    }

    @Test
    void anAgentThatRestartsGetsItsLostJobsSettledAndCancelReachesRunningJobs() throws Exception {
        RawAgent a = new RawAgent(enroll("phoenix"), server.uri());
        a.heartbeat(2, List.of());
        group("phoenixgroup", "phoenix");
        workload("phoenix-files", "phoenix", null, tree("phoenix"));
        long lost = backupNow("phoenix-files");
        assertThat(a.poll(1, 5)).hasSize(1);
        a.instance = "restarted";
        a.heartbeat(2, List.of());
        JsonNode j = job(lost);
        assertThat(j.get("state").asText()).isEqualTo("failed");
        assertThat(j.get("message").asText()).contains("agent restarted");
        long running = backupNow("phoenix-files");
        assertThat(a.poll(1, 5)).hasSize(1);
        ok(client.post("/api/v1/jobs/" + running + "/cancel", admin, Map.of()), 200);
        assertThat(a.heartbeat(2, List.of(running)).cancel()).containsExactly(running);
        assertThat(a.progress(running, 5)).isTrue();
        a.finish(running, "cancelled");
        assertThat(job(running).get("state").asText()).isEqualTo("cancelled");
    }

    @Test
    void failedJobsMissedSchedulesAndAgentsGoneOfflineAreNotified() throws Exception {
        try (io.haven.server.notify.WebhookReceiver hook = new io.haven.server.notify.WebhookReceiver()) {
            ok(client.post("/api/v1/notifications/channels", admin, Map.of("name", "ops-" + System.nanoTime(), "kind", "webhook",
                    "events", List.of("job_failed", "schedule_missed", "agent_offline"), "config", Map.of("url", hook.url("/ops")))), 201);
            RawAgent a = new RawAgent(enroll("noisy"), server.uri());
            a.heartbeat(1, List.of());
            enroll("absent");
            group("noisygroup", "noisy", "absent");
            workload("noisy-files", "noisy", null, tree("noisy"));
            workload("absent-files", "absent", null, tree("absent"));
            long id = backupNow("noisy-files");
            assertThat(a.poll(1, 5)).hasSize(1);
            a.finish(id, "failed");
            due("noisygroup-policy", Instant.now().minusSeconds(5));
            // noisy stops reporting: offline after three heartbeats (3 s here)
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            List<String> events = new ArrayList<>();
            while (System.nanoTime() < end) {
                events.clear();
                for (var r : hook.received("/ops")) {
                    JsonNode n = io.haven.protocol.Codec.mapper().readTree(r.body());
                    events.add(n.get("event").asText() + " " + n.get("subject").asText());
                }
                if (events.stream().anyMatch(e -> e.startsWith("job_failed") && e.contains("job " + id + " "))
                        && events.stream().anyMatch(e -> e.startsWith("schedule_missed") && e.contains("absent-files"))
                        && events.stream().anyMatch(e -> e.startsWith("agent_offline") && e.contains("agent noisy"))) {
                    return;
                }
                Thread.sleep(200);
            }
            throw new AssertionError("events received: " + events);
        }
    }

    @Test
    void aTaskPollLeftWaitingByAStoppedOrRestartedAgentProcessStartsNoJob() throws Exception {
        RawAgent a = new RawAgent(enroll("orphan"), server.uri());
        a.instance = "boot";
        a.heartbeat(1, List.of());
        group("orphangroup", "orphan");
        workload("orphan-files", "orphan", null, tree("orphan"));
        // a process stops cleanly while its poll waits on the server: after its goodbye that poll starts nothing
        a.instance = "first";
        var stale = java.util.concurrent.CompletableFuture.supplyAsync(() -> a.poll(1, 3));
        await(() -> JSON.valueToTree(instanceOf("orphan")), n -> n.asText().equals("first"), Duration.ofSeconds(10));
        assertThat(get("/api/v1/agents/orphan").get("online").asBoolean()).isTrue();
        a.bye();
        // and the agent shows offline at once, not three heartbeats later
        assertThat(get("/api/v1/agents/orphan").get("online").asBoolean()).isFalse();
        long queued = backupNow("orphan-files");
        assertThat(stale.get()).isEmpty();
        assertThat(job(queued).get("state").asText()).isEqualTo("queued");
        a.instance = "second";
        assertThat(a.poll(1, 5)).extracting(Messages.Task::jobId).containsExactly(queued);
        assertThat(get("/api/v1/agents/orphan").get("online").asBoolean()).isTrue();
        a.finish(queued, "succeeded");
        // a process is killed while its poll waits: once its successor has spoken, that poll starts nothing
        RawAgent killed = new RawAgent(a.id, server.uri());
        killed.instance = "killed";
        var orphan = java.util.concurrent.CompletableFuture.supplyAsync(() -> killed.poll(1, 3));
        await(() -> JSON.valueToTree(instanceOf("orphan")), n -> n.asText().equals("killed"), Duration.ofSeconds(10));
        a.instance = "restarted";
        a.heartbeat(1, List.of());
        long next = backupNow("orphan-files");
        assertThat(orphan.get()).isEmpty();
        assertThat(a.poll(1, 5)).extracting(Messages.Task::jobId).containsExactly(next);
        a.finish(next, "succeeded");
    }

    // --- audit fixes: sync into /, disabled agents, retention values

    /**
     * A sync restore deletes what the snapshot lacks under its target, so no spelling of the root is
     * accepted, with or without a path; in place, a sync of a path syncs that directory where it was.
     * The refusals are asserted while no agent of this workload runs, so a server that accepted one
     * would only queue it.
     */
    @Test
    void aSyncRestoreNeverTargetsTheRootAndSyncsAPathInPlace() throws Exception {
        Identity host = enroll("rooted");
        group("rootedgroup", "rooted");
        Path data = tree("rooted");
        workload("rooted-files", "rooted", null, data);
        try (Daemon d = new Daemon(host)) {
            awaitState(backupNow("rooted-files"), "succeeded");
        }
        String sub = data.resolve("sub").toString();
        for (Map<String, Object> req : List.<Map<String, Object>>of(
                Map.of("workload", "rooted-files", "sync", true, "targetPath", "//"),
                Map.of("workload", "rooted-files", "sync", true),
                Map.of("workload", "rooted-files", "sync", true, "targetPath", "/"),
                Map.of("workload", "rooted-files", "sync", true, "targetPath", "/var/.."),
                Map.of("workload", "rooted-files", "sync", true, "targetPath", "/./"),
                Map.of("workload", "rooted-files", "sync", true, "targetPath", "/", "path", sub),
                Map.of("workload", "rooted-files", "sync", true, "targetPath", "//", "path", sub),
                Map.of("workload", "rooted-files", "sync", true, "targetPath", "/tmp/../", "path", sub),
                Map.of("workload", "rooted-files", "sync", true, "path", "/"))) {
            TestClient.Res r = client.post("/api/v1/restores", admin, req);
            assertThat(r.status()).as(req + ": " + r.body()).isEqualTo(400);
            assertThat(r.body()).contains("refused for the whole root /").contains("--path DIR");
        }
        assertThat(jobsOf("rooted-files")).hasSize(1); // the backup only: nothing was queued
        // in place: --path DIR --sync (no --target) makes DIR equal to the snapshot's DIR, and touches nothing beside it
        Files.writeString(data.resolve("sub/stray.txt"), "not in the snapshot");
        Files.writeString(data.resolve("beside.txt"), "next to the synced directory");
        JsonNode queued = ok(client.post("/api/v1/restores", admin, Map.of("workload", "rooted-files", "sync", true, "path", sub)), 202);
        assertThat(queued.get("message").asText()).endsWith(" to rooted:" + sub);
        try (Daemon d = new Daemon(host)) {
            JsonNode synced = awaitState(queued.get("id").asLong(), "succeeded");
            assertThat(synced.get("result").get("target").asText()).isEqualTo(sub);
            assertThat(synced.get("result").get("deleted").asInt()).isEqualTo(1);
        }
        assertThat(data.resolve("sub/stray.txt")).doesNotExist();
        assertThat(data.resolve("sub/b.bin")).hasSize(100_000);
        assertThat(Files.readString(data.resolve("beside.txt"))).isEqualTo("next to the synced directory");

        // in place without --sync: a file goes back into its directory, a directory onto itself,
        // never into the root the path sits under (before, /b.bin would have been written)
        Files.delete(data.resolve("sub/b.bin"));
        String file = data.resolve("sub/b.bin").toString();
        // both queued before the agent polls: two restores into the same directory at once would
        // race on its files, so the agent is given the second only when the first has ended
        JsonNode one = ok(client.post("/api/v1/restores", admin, Map.of("workload", "rooted-files", "path", file)), 202);
        JsonNode dir = ok(client.post("/api/v1/restores", admin, Map.of("workload", "rooted-files", "path", sub)), 202);
        try (Daemon d = new Daemon(host)) {
            JsonNode first = awaitState(one.get("id").asLong(), "succeeded");
            assertThat(first.get("result").get("target").asText()).isEqualTo(sub);
            JsonNode second = awaitState(dir.get("id").asLong(), "succeeded");
            assertThat(second.get("result").get("target").asText()).isEqualTo(sub);
            assertThat(Instant.parse(second.get("startedAt").asText())).isAfterOrEqualTo(Instant.parse(first.get("finishedAt").asText()));
        }
        assertThat(data.resolve("sub/b.bin")).hasSize(100_000);
        assertThat(data.resolve("sub/sub")).doesNotExist();
        assertThat(Path.of("/b.bin")).doesNotExist();
    }

    /**
     * A restore through an agent checks the target's room first, like {@code haven restore}, and
     * {@code noSpaceCheck} ({@code workload restore --no-space-check}) restores anyway. The file is
     * 64 MiB with a few bytes every 64 KiB, so the estimate (every file in full) is more than the
     * 16 MiB file system holds, while its blocks fit.
     */
    @Test
    void aRestoreThroughAnAgentChecksTheRoomAndCanBeToldNotTo() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "mounts a small tmpfs, which needs root");
        Identity host = enroll("roomy");
        group("roomygroup", "roomy");
        Path data = Files.createDirectories(dir.resolve("data/roomy"));
        Path img = data.resolve("vm.img");
        try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.util.Random r = new java.util.Random(5);
            byte[] b = new byte[512];
            for (long at = 0; at < (64L << 20); at += 64 << 10) {
                r.nextBytes(b);
                ch.write(java.nio.ByteBuffer.wrap(b), at);
            }
        }
        workload("roomy-files", "roomy", null, data);
        Path small = Files.createDirectories(dir.resolve("small"));
        mount("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", small.toString());
        try (Daemon d = new Daemon(host)) {
            awaitState(backupNow("roomy-files"), "succeeded");
            Path target = small.resolve("restore");
            long refused = ok(client.post("/api/v1/restores", admin, Map.of("workload", "roomy-files",
                    "targetPath", target.toString())), 202).get("id").asLong();
            JsonNode failed = awaitState(refused, "failed");
            assertThat(failed.get("message").asText()).contains("not enough room")
                    .contains("'haven workload restore --no-space-check'").doesNotContain("'haven restore --no-space-check'");
            assertThat(target).doesNotExist();
            long anyway = ok(client.post("/api/v1/restores", admin, Map.of("workload", "roomy-files",
                    "targetPath", target.toString(), "noSpaceCheck", true)), 202).get("id").asLong();
            awaitState(anyway, "succeeded");
            assertThat(Files.mismatch(img, target.resolve(img.toString().substring(1)))).isEqualTo(-1);
        } finally {
            mount("umount", small.toString());
        }
    }

    static void mount(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }

    /**
     * A poll that a disabled agent left open hands out no task queued after the disable (nor the
     * repository password): the claim checks the agent's state in its own statement, and the poll
     * ends at once, empty.
     */
    @Test
    void aPollLeftOpenByAnAgentThatIsThenDisabledHandsOutNoTask() throws Exception {
        RawAgent a = new RawAgent(enroll("turncoat"), server.uri());
        RawAgent mate = new RawAgent(enroll("turnmate"), server.uri());
        a.heartbeat(2, List.of());
        group("turnpool", "turncoat", "turnmate");
        workload("turn-pooled", null, "turnpool", tree("turn-pooled"));
        workload("turn-own", "turncoat", null, tree("turn-own"));
        var poll = java.util.concurrent.CompletableFuture.supplyAsync(() -> a.poll(2, 25));
        await(() -> JSON.valueToTree(instanceOf("turncoat")), n -> n.asText().equals(a.instance), Duration.ofSeconds(10));
        Thread.sleep(300); // the poll waits on the server
        long t0 = System.nanoTime();
        ok(client.post("/api/v1/agents/turncoat/disable", admin, Map.of()), 200);
        long pooled = backupNow("turn-pooled");
        // a job for the agent itself that another server queued in the same instant, before it saw the disable
        var jobs = server.control().jobs();
        var w = server.control().inventory().workload("turn-own");
        var p = server.control().backups().policyFor(w, null);
        long raced = jobs.create(new io.haven.server.job.Jobs.NewJob("backup", io.haven.server.job.Jobs.State.QUEUED, "manual", "other-server",
                w.id(), p.id(), p.repositoryId(), w.agentId(), new io.haven.server.job.JobSpec(new Messages.BackupSpec(w.name(), w.name(),
                w.spec().paths(), List.of(), List.of(), 0, false), null, null, null), null)).id();
        // a claim by the disabled agent's live process takes neither, whatever poll makes it
        long turncoat = server.control().agents().get("turncoat").id();
        assertThat(jobs.claimFor(turncoat, a.instance, 2, Duration.ofSeconds(45))).isEmpty();
        assertThat(poll.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
        assertThat(job(pooled).get("state").asText()).isEqualTo("queued"); // for the pool's active member
        // the job queued in the race fails at the next control-loop round, without ever being handed out
        JsonNode failed = awaitState(raced, "failed");
        assertThat(failed.get("startedAt").isNull()).isTrue();
        assertThat(failed.get("message").asText()).contains("agent turncoat is disabled");
        mate.heartbeat(1, List.of());
        assertThat(mate.poll(1, 5)).extracting(Messages.Task::jobId).containsExactly(pooled);
        mate.finish(pooled, "succeeded");
    }

    /**
     * Disabling or revoking an agent ends its jobs: running ones are settled failed, queued ones fail
     * at once; a backup of a workload on such an agent is refused when asked for.
     */
    @Test
    void jobsOfADisabledOrRevokedAgentEndAtOnceAndNewOnesAreRefused() throws Exception {
        RawAgent a = new RawAgent(enroll("quitter"), server.uri());
        a.heartbeat(1, List.of());
        group("quitgroup", "quitter");
        workload("quit-files", "quitter", null, tree("quit-files"));
        long running = backupNow("quit-files");
        assertThat(a.poll(1, 5)).extracting(Messages.Task::jobId).containsExactly(running);
        long queued = backupNow("quit-files");
        assertThat(job(queued).get("state").asText()).isEqualTo("queued");
        ok(client.post("/api/v1/agents/quitter/disable", admin, Map.of()), 200);
        JsonNode r = job(running);
        assertThat(r.get("state").asText()).isEqualTo("failed");
        assertThat(r.get("message").asText()).contains("agent quitter is disabled");
        JsonNode q = job(queued);
        assertThat(q.get("state").asText()).isEqualTo("failed");
        assertThat(q.get("message").asText()).contains("agent quitter is disabled").contains("haven agent enable quitter");
        TestClient.Res refused = client.post("/api/v1/workloads/quit-files/backup", admin, Map.of());
        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.body()).contains("disabled").contains("haven agent enable quitter");
        ok(client.post("/api/v1/agents/quitter/enable", admin, Map.of()), 200);
        long again = backupNow("quit-files");
        ok(client.post("/api/v1/agents/quitter/revoke", admin, Map.of()), 200);
        assertThat(job(again).get("state").asText()).isEqualTo("failed");
        assertThat(job(again).get("message").asText()).contains("agent quitter is revoked");
        refused = client.post("/api/v1/workloads/quit-files/backup", admin, Map.of());
        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.body()).contains("revoked");
    }

    /** Retention values maintenance could not apply are refused when a policy is created or changed, naming the option. */
    @Test
    void invalidRetentionIsRefusedWhenAPolicyIsCreatedOrChanged() throws Exception {
        ok(client.post("/api/v1/groups", admin, Map.of("name", "rq")), 201);
        Map<String, Object> base = Map.of("name", "pq", "group", "rq", "repository", "main", "schedule", "0 3 * * *");
        for (Map<String, Object> keep : List.<Map<String, Object>>of(Map.of("keepWithin", "3x"), Map.of("keepWithin", "5"),
                Map.of("keepWithin", "7d "), Map.of("keepDaily", -3), Map.of("keepLast", -1, "keepWithin", "7d"))) {
            Map<String, Object> req = new LinkedHashMap<>(base);
            req.put("retention", keep);
            TestClient.Res r = client.post("/api/v1/policies", admin, req);
            assertThat(r.status()).as(keep + ": " + r.body()).isEqualTo(400);
            assertThat(r.body()).containsAnyOf("--keep-within", "--keep-daily", "--keep-last");
        }
        assertThat(client.get("/api/v1/policies/pq", admin).status()).isEqualTo(404);
        Map<String, Object> good = new LinkedHashMap<>(base);
        good.put("retention", Map.of("keepDaily", 7, "keepWithin", "1y6m"));
        ok(client.post("/api/v1/policies", admin, good), 201);
        TestClient.Res set = client.post("/api/v1/policies/pq", admin, Map.of("retention", Map.of("keepWithin", "3x")));
        assertThat(set.status()).as(set.body()).isEqualTo(400);
        assertThat(set.body()).contains("--keep-within").contains("3x");
        set = client.post("/api/v1/policies/pq", admin, Map.of("retention", Map.of("keepWeekly", -2)));
        assertThat(set.status()).as(set.body()).isEqualTo(400);
        assertThat(set.body()).contains("--keep-weekly").contains("-2");
        assertThat(ok(client.get("/api/v1/policies/pq", admin), 200).get("retention").get("keepWithin").asText()).isEqualTo("1y6m");
    }

    @Test
    void anUnknownJobTypeOrStateInAListFilterIsRefused() throws Exception {
        TestClient.Res type = client.get("/api/v1/jobs?type=bogus", admin);
        assertThat(type.status()).as(type.body()).isEqualTo(400);
        assertThat(type.body()).contains("no job type 'bogus'", "backup, restore, maintenance, dr");
        assertThat(client.get("/api/v1/jobs?state=bogus", admin).status()).isEqualTo(400);
        for (String t : io.haven.server.job.Jobs.TYPES) {
            ok(client.get("/api/v1/jobs?type=" + t, admin), 200);
        }
    }

    static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** The agent process the server takes as the live one. */
    static String instanceOf(String agent) {
        return server.control().inventory().jdbi().withHandle(h -> h.createQuery("SELECT instance FROM agents WHERE name = :n")
                .bind("n", agent).mapTo(String.class).findOne().orElse(null));
    }

    static JsonNode get(String path) {
        try {
            return ok(client.get(path, admin), 200);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static JsonNode jobsOf(String workload) {
        try {
            return ok(client.get("/api/v1/jobs?workload=" + workload, admin), 200).get("jobs");
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static void due(String policy, Instant at) {
        server.control().inventory().jdbi().useHandle(h -> h.createUpdate("UPDATE policies SET next_backup_at = :t WHERE name = :n")
                .bind("t", at.toEpochMilli()).bind("n", policy).execute());
    }

    /** A real agent daemon in this process. */
    static final class Daemon implements AutoCloseable {
        final AgentDaemon daemon;
        final Thread thread;

        Daemon(Identity id) {
            daemon = new AgentDaemon(id, new AgentDaemon.Options(2, 2, Duration.ofMillis(300), null));
            thread = new Thread(daemon::run, "test-agent-" + id.name());
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            daemon.close();
            thread.join(10_000);
        }
    }

    static List<String> names(JsonNode arr) {
        List<String> out = new ArrayList<>();
        arr.forEach(n -> out.add(n.get("name").asText()));
        return out;
    }
}
