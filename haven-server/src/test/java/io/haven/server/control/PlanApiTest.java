package io.haven.server.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.agent.Enroller;
import io.haven.server.HavenServer;
import io.haven.server.HavenServerTest;
import io.haven.server.TestClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import io.haven.repository.Repository;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.snapshot.Snapshot;
import io.haven.repository.BlobId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DR plans through the API: validation with lines and fields, against the inventory, versions, export. */
class PlanApiTest {
    @TempDir
    static Path dir;
    static HavenServer server;
    static TestClient client;
    static String admin;
    static String viewer;
    static String shop;

    @BeforeAll
    static void start() throws Exception {
        server = HavenServer.start(HavenServerTest.config(dir.resolve("server")).withControl(ControlPlaneTest.FAST));
        client = new TestClient(server.uri(), server.tls().caCertificateFile());
        admin = client.login("admin", HavenServerTest.ADMIN_PW);
        client.post("/api/v1/users", admin, Map.of("username", "vic", "password", "viewer-password", "role", "viewer"));
        viewer = client.login("vic", "viewer-password");
        try (InputStream in = PlanApiTest.class.getResourceAsStream("/shop-plan.yaml")) {
            shop = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static void enrol(String name, String site) throws Exception {
        String t = client.post("/api/v1/enrollment-tokens", admin, Map.of("site", site)).json().get("token").asText();
        Enroller.enroll(server.uri(), t, name, null, Map.of(), null, dir.resolve("agents/" + name), new SecureRandom());
    }

    @Test
    void aPlanIsCheckedAgainstTheInventoryThenStoredInVersions() throws Exception {
        JsonNode v = client.post("/api/v1/plans/validate", viewer, Map.of("yaml", shop, "source", "shop.yaml")).json();
        assertThat(v.get("valid").asBoolean()).isFalse();
        assertThat(v.get("problems").toString()).contains("no site named 'hq'", "no enrolled agent named 'dr-db-1'");
        var refused = client.post("/api/v1/plans", admin, Map.of("yaml", shop, "source", "shop.yaml"));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body()).contains("recoverySite: no site named 'dr'");

        client.post("/api/v1/sites", admin, Map.of("name", "hq"));
        client.post("/api/v1/sites", admin, Map.of("name", "dr"));
        enrol("dr-db-1", "dr");
        enrol("dr-app-1", "dr");
        enrol("dr-web-1", "hq");
        JsonNode wrongSite = client.post("/api/v1/plans/validate", viewer, Map.of("yaml", shop)).json();
        assertThat(wrongSite.get("problems").get(0).get("text").asText())
                .isEqualTo("plan.yaml: workloads[2].recovery.host: agent 'dr-web-1' is at site 'hq', not the recovery site 'dr'");
        client.post("/api/v1/agents/dr-web-1", admin, Map.of("site", "dr"));

        assertThat(client.post("/api/v1/plans", viewer, Map.of("yaml", shop)).status()).isEqualTo(403);
        var applied = client.post("/api/v1/plans", admin, Map.of("yaml", shop, "source", "shop.yaml"));
        assertThat(applied.status()).as(applied.body()).isEqualTo(201);
        assertThat(applied.json().get("version").asInt()).isEqualTo(1);
        assertThat(applied.json().get("mode").asText()).isEqualTo("continuous");
        var again = client.post("/api/v1/plans", admin, Map.of("yaml", shop));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("changed").asBoolean()).isFalse();
        String changed = shop.replace("rpo: 15s", "rpo: 30s");
        assertThat(client.post("/api/v1/plans", admin, Map.of("yaml", changed)).json().get("version").asInt()).isEqualTo(2);
        assertThat(client.get("/api/v1/plans/shop", viewer).json().get("rpoSeconds").asInt()).isEqualTo(30);
        // stored as given, plus the line that says its version (the file had none)
        assertThat(client.get("/api/v1/plans/shop?version=1", viewer).json().get("yaml").asText())
                .isEqualTo(shop.replaceFirst("(?m)^name: shop$", "name: shop\nversion: 1"));
        assertThat(client.get("/api/v1/plans/shop/versions", viewer).json().get("versions")).hasSize(2);
        JsonNode listed = null;
        for (JsonNode p : client.get("/api/v1/plans", viewer).json().get("plans")) {
            listed = p.get("name").asText().equals("shop") ? p : listed;
        }
        assertThat(listed.get("steps").toString()).contains("boot database [db]");
        assertThat(client.get("/api/v1/audit?limit=20", admin).body()).contains("plan:shop v2");

        // edits: each validated and stored as the next version
        var added = client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "add-step", "position", 1,
                "definition", Map.of("delay", "warm-caches", "duration", "5s")));
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        assertThat(added.json().get("version").asInt()).isEqualTo(3);
        assertThat(added.json().get("steps").get(1).asText()).isEqualTo("delay warm-caches 5s");
        var badStep = client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "add-step",
                "definition", Map.of("delay", "forever", "duration", "3 weeks")));
        assertThat(badStep.status()).isEqualTo(400);
        assertThat(badStep.body()).contains("the step has 1 problem(s)", "duration: ").doesNotContainPattern("plan:\\d+:");
        // a step sent as text, as plan edit --add-step does: its problems at the lines of that text
        var badText = client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "add-step", "source", "slow.yaml",
                "definitionYaml", "# wait for the caches\ndelay: forever\nduration: 3 weeks\ncolour: red\n"));
        assertThat(badText.status()).isEqualTo(400);
        assertThat(badText.json().get("error").get("message").asText()).contains("the step has 2 problem(s)", "slow.yaml:3:11: duration: ",
                "slow.yaml:4:1: colour: unknown field 'colour'");
        // a step that is valid alone but not in the plan: by path, not by lines of a text the operator never saw
        var taken = client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "add-step", "source", "again.yaml",
                "definitionYaml", "boot: again\nworkloads: [db]\n"));
        assertThat(taken.status()).isEqualTo(400);
        assertThat(taken.json().get("error").get("message").asText()).contains("the edit leaves the plan with", "plan: runbook[")
                .doesNotContainPattern("plan:\\d+:");
        var full = client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "remove-step", "step", "database"));
        assertThat(full.status()).isEqualTo(409);
        assertThat(full.body()).contains("database");
        assertThat(client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "move-workload", "workload", "db", "to", "application"))
                .status()).isEqualTo(201);
        assertThat(client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "remove-step", "step", "database")).status())
                .isEqualTo(201);
        // warm-caches is first already (database, before it, is gone): an edit that changes nothing stores nothing
        var moved = client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "move-step", "step", "warm-caches", "position", 0));
        assertThat(moved.json().get("steps").get(0).asText()).isEqualTo("delay warm-caches 5s");
        assertThat(moved.status()).isEqualTo(200);
        assertThat(moved.json().get("changed").asBoolean()).isFalse();
        var movedBack = client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "move-step", "step", "warm-caches", "position", 1));
        assertThat(movedBack.status()).isEqualTo(201);
        assertThat(movedBack.json().get("version").asInt()).isEqualTo(6);
        assertThat(client.post("/api/v1/plans/shop/edits", viewer, Map.of("edit", "remove-step", "step", "warm-caches")).status())
                .isEqualTo(403);
        assertThat(client.post("/api/v1/plans/shop/edits", admin, Map.of("edit", "explode")).status()).isEqualTo(400);
        assertThat(client.get("/api/v1/plans/shop/versions", viewer).json().get("versions")).hasSize(6);
    }

    @Test
    void editsAdvanceTheVersionThatExportStatusAndRunsShow() throws Exception {
        client.post("/api/v1/sites", admin, Map.of("name", "va"));
        client.post("/api/v1/sites", admin, Map.of("name", "vb"));
        enrol("va-1", "va");
        enrol("vb-1", "vb");
        String site = """
                # a plan whose versions are counted
                name: site
                protectedSite: va
                recoverySite: vb
                mode: as-needed
                rpo: 1h
                workloads:
                  - name: w
                    driver: process
                    protected: {host: va-1, volumes: [/srv/va/w]}
                    recovery: {host: vb-1, volumes: [/srv/vb/w]}
                    probe: {command: "true"}
                    options:
                      command: /bin/sleep 1000
                """;
        assertThat(client.post("/api/v1/plans", admin, Map.of("yaml", site)).json().get("version").asInt()).isEqualTo(1);
        var added = client.post("/api/v1/plans/site/edits", admin, Map.of("edit", "add-step", "position", 1,
                "definition", Map.of("delay", "settle", "duration", "40s")));
        assertThat(added.json().get("version").asInt()).as(added.body()).isEqualTo(2);
        var renamed = client.post("/api/v1/plans/site/edits", admin, Map.of("edit", "rename-step", "step", "settle", "name", "wait"));
        assertThat(renamed.json().get("version").asInt()).as(renamed.body()).isEqualTo(3);

        // export (the stored document), the plan's status, and a run made of it all say 3
        String exported = client.get("/api/v1/plans/site", viewer).json().get("yaml").asText();
        assertThat(exported).contains("\nversion: 3\n");
        assertThat(io.haven.runbook.PlanYaml.parse(exported, "site.yaml").version()).isEqualTo(3);
        assertThat(client.get("/api/v1/plans/site?version=2", viewer).json().get("yaml").asText()).contains("\nversion: 2\n");
        assertThat(client.get("/api/v1/plans/site?version=1", viewer).json().get("yaml").asText())
                .isEqualTo(site.replace("name: site\n", "name: site\nversion: 1\n")); // as applied, saying its version
        assertThat(client.get("/api/v1/plans/site/status", viewer).json().get("version").asInt()).isEqualTo(3);
        var run = client.post("/api/v1/plans/site/runs", admin, Map.of("kind", "planned"));
        assertThat(run.status()).as(run.body()).isEqualTo(201);
        assertThat(run.json().get("planVersion").asInt()).isEqualTo(3);
        assertThat(run.json().get("text").asText()).contains("of plan site v3,");
        assertThat(client.get("/api/v1/runs?plan=site", viewer).json().get("runs").get(0).get("planVersion").asInt()).isEqualTo(3);
        client.post("/api/v1/runs/" + run.json().get("id").asText() + "/abort", admin, Map.of());

        // the exported text applied again changes nothing; changed, it is version 4 and says so,
        // with the author's comment kept
        var same = client.post("/api/v1/plans", admin, Map.of("yaml", exported));
        assertThat(same.status()).as(same.body()).isEqualTo(200);
        assertThat(same.json().get("version").asInt()).isEqualTo(3);
        assertThat(client.post("/api/v1/plans", admin, Map.of("yaml", site.replace("rpo: 1h", "rpo: 2h"))).json().get("version").asInt())
                .isEqualTo(4);
        String v4 = client.get("/api/v1/plans/site", viewer).json().get("yaml").asText();
        assertThat(v4).startsWith("# a plan whose versions are counted\nname: site\nversion: 4\n").contains("rpo: 2h");
    }

    @Test
    void replicationSnapshotsAreForgottenByTheCopiesOwnRetention() throws Exception {
        client.post("/api/v1/sites", admin, Map.of("name", "ra"));
        client.post("/api/v1/sites", admin, Map.of("name", "rb"));
        enrol("ra-1", "ra");
        enrol("rb-1", "rb");
        Path repoDir = dir.resolve("dr-repo");
        var registered = client.post("/api/v1/repositories", admin, Map.of("name", "drrepo", "location", repoDir.toString(),
                "password", "repository-password"));
        assertThat(registered.status()).as(registered.body()).isEqualTo(201);
        // 68 replication points 15 s apart, as an RPO of 15 s makes in 17 minutes; 12 of a plan that keeps 3, and 12
        // of a plan the server does not have
        Instant t0 = Instant.parse("2026-11-30T10:00:00Z");
        try (Repository repo = Repository.open(new LocalBackend(repoDir), "repository-password".toCharArray(), Clock.systemUTC(),
                new SecureRandom())) {
            for (int i = 0; i < 68; i++) {
                repo.saveSnapshot(point(t0.plusSeconds(15L * i), "kept", "w"));
            }
            for (int i = 0; i < 12; i++) {
                repo.saveSnapshot(point(t0.plusSeconds(15L * i), "fewer", "v"));
                repo.saveSnapshot(point(t0.plusSeconds(15L * i), "other", "w"));
            }
        }
        // plans whose protected placement is explicit: no backup policy covers them
        String kept = """
                name: kept
                protectedSite: ra
                recoverySite: rb
                mode: as-needed
                rpo: 15s
                repository: drrepo
                workloads:
                  - name: w
                    driver: process
                    protected: {host: ra-1, volumes: [/srv/ra/w]}
                    recovery: {host: rb-1, volumes: [/srv/rb/w]}
                    probe: {command: "true"}
                    options:
                      command: /bin/sleep 1000
                """;
        var applied = client.post("/api/v1/plans", admin, Map.of("yaml", kept));
        assertThat(applied.status()).as(applied.body()).isEqualTo(201);
        String fewer = kept.replace("name: kept", "name: fewer").replace("name: w", "name: v").replace("/w]", "/v]")
                .replace("repository: drrepo", "repository: drrepo\nretention: {last: 3, hourly: 0}");
        applied = client.post("/api/v1/plans", admin, Map.of("yaml", fewer));
        assertThat(applied.status()).as(applied.body()).isEqualTo(201);
        JsonNode retention = client.get("/api/v1/plans/fewer", admin).json().get("retention");
        assertThat(List.of(retention.get("last").asInt(), retention.get("hourly").asInt(), retention.get("daily").asInt(),
                retention.get("weekly").asInt(), retention.get("monthly").asInt())).containsExactly(3, 0, 30, 0, 0);
        assertThat(client.get("/api/v1/plans/kept", admin).json().get("retention").get("hourly").asInt()).isEqualTo(48);
        List<Repository.SnapshotEntry> left = List.of();
        List<Repository.SnapshotEntry> leftFewer = List.of();
        for (long end = System.nanoTime() + 30_000_000_000L; System.nanoTime() < end; Thread.sleep(200)) {
            left = server.control().repositories().snapshots("drrepo", "plan:kept");
            leftFewer = server.control().repositories().snapshots("drrepo", "plan:fewer");
            if (left.size() <= 10 && leftFewer.size() <= 3) {
                break;
            }
        }
        // the newest 10 (all in one hour and one day, so the hourly and daily rules add none)
        assertThat(left).extracting(e -> e.time()).containsExactlyElementsOf(
                java.util.stream.IntStream.range(58, 68).mapToObj(i -> t0.plusSeconds(15L * i)).toList());
        // the plan's own retention: the newest 3
        assertThat(leftFewer).extracting(e -> e.time()).containsExactlyElementsOf(
                java.util.stream.IntStream.range(9, 12).mapToObj(i -> t0.plusSeconds(15L * i)).toList());
        assertThat(server.control().repositories().snapshots("drrepo", "plan:other")).hasSize(12);

        // a database's copy is a streaming standby: a run asked for an older point is refused, not run with the newest
        String pg = kept.replace("name: kept", "name: pg").replace("name: w", "name: db").replace("driver: process", "driver: postgres")
                .replace("/w]}", "/db], addresses: [127.0.0.5]}").replace("probe: {command: \"true\"}", "probe: {tcp: 127.0.0.5, port: 5432}")
                .replace("command: /bin/sleep 1000", "port: \"5432\"");
        applied = client.post("/api/v1/plans", admin, Map.of("yaml", pg));
        assertThat(applied.status()).as(applied.body()).isEqualTo(201);
        var pointed = client.post("/api/v1/plans/pg/runs", admin, Map.of("kind", "forced", "confirm", true,
                "pointAt", "2026-11-30T10:00:00Z"));
        assertThat(pointed.status()).as(pointed.body()).isEqualTo(400);
        assertThat(pointed.json().get("error").get("message").asText()).contains("PostgreSQL workload(s) db", "leave --point out");
        assertThat(client.get("/api/v1/runs?plan=pg", admin).json().get("runs")).isEmpty();
    }

    private static Snapshot point(Instant time, String plan, String workload) {
        return new Snapshot(1, time.toString(), BlobId.of(new byte[32]).hex(), List.of("/srv/ra/" + workload), "ra-1", "haven", 0, 0,
                List.of("haven-dr", "plan:" + plan, "workload:" + workload), List.of(), null, "test", null);
    }

    @Test
    void aMalformedPlanGetsEveryProblemWithItsLine() throws Exception {
        String bad = """
                name: broken
                protectedSite: hq
                recoverySite: dr
                mode: sometimes
                rpo: 15 parsecs
                workloads:
                  - name: db
                    driver: postgres
                    recovery: {host: h, volumes: [/d], addresses: [10.0.0.1]}
                    probe: {tcp: 10.0.0.1, port: 70000, timeout: 1m}
                """;
        JsonNode v = client.post("/api/v1/plans/validate", viewer, Map.of("yaml", bad, "source", "broken.yaml")).json();
        assertThat(v.get("valid").asBoolean()).isFalse();
        String all = v.get("problems").toString();
        assertThat(all).contains("broken.yaml:4:", "broken.yaml:5:", "port");
        var r = client.post("/api/v1/plans", admin, Map.of("yaml", bad, "source", "broken.yaml"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("error").get("message").asText()).contains("problem(s)").contains("broken.yaml:10:");
    }
}
