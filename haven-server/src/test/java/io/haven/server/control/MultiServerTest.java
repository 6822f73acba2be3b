package io.haven.server.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.agent.Enroller;
import io.haven.agent.Identity;
import io.haven.protocol.Messages;
import io.haven.server.HavenServer;
import io.haven.server.HavenServerTest;
import io.haven.server.LocalPostgres;
import io.haven.server.ServerConfig;
import io.haven.server.TestClient;
import io.haven.server.db.DatabaseConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers on one real PostgreSQL (started by the test on loopback), sharing one CA, under
 * load: jobs queued through both, agents polling both at once, both schedulers running. Every
 * job must start exactly once and end; a schedule tick must make its jobs once.
 */
class MultiServerTest {
    static final int AGENTS = 8;
    static final int JOBS = 240;

    @TempDir
    Path dir;

    @Test
    void twoServersOnOnePostgresqlNeverStartAJobTwiceOrLoseOne() throws Exception {
        assumeTrue(LocalPostgres.available(), "needs the machine's PostgreSQL and root");
        try (LocalPostgres pg = LocalPostgres.start()) {
            DatabaseConfig db = new DatabaseConfig(pg.jdbcUrl(), "haven", null);
            ServerConfig c1 = HavenServerTest.config(dir.resolve("s1")).withDatabase(db).withControl(ControlPlaneTest.FAST);
            ServerConfig c2 = HavenServerTest.config(dir.resolve("s2")).withDatabase(db).withControl(ControlPlaneTest.FAST);
            try (HavenServer s1 = HavenServer.start(c1)) {
                // the second server shares the first one's CA, so agents trust and are trusted by both
                Files.createDirectories(dir.resolve("s2/tls"));
                for (String f : List.of("ca.crt", "ca.key")) {
                    Files.copy(dir.resolve("s1/tls/" + f), dir.resolve("s2/tls/" + f), StandardCopyOption.COPY_ATTRIBUTES);
                }
                try (HavenServer s2 = HavenServer.start(c2)) {
                    run(s1, s2);
                }
            }
        }
    }

    private void run(HavenServer s1, HavenServer s2) throws Exception {
        TestClient a1 = new TestClient(s1.uri(), s1.tls().caCertificateFile());
        TestClient a2 = new TestClient(s2.uri(), s2.tls().caCertificateFile());
        String t1 = a1.login("admin", HavenServerTest.ADMIN_PW);
        String t2 = a2.login("admin", HavenServerTest.ADMIN_PW);
        a1.post("/api/v1/repositories", t1, Map.of("name", "main", "location", dir.resolve("repo").toString(), "password", "repository-password"));
        a1.post("/api/v1/groups", t1, Map.of("name", "fleet"));
        List<RawAgent[]> agents = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) {
            TestClient via = i % 2 == 0 ? a1 : a2;
            String tok = via.post("/api/v1/enrollment-tokens", i % 2 == 0 ? t1 : t2, Map.of()).json().get("token").asText();
            Identity id = Enroller.enroll((i % 2 == 0 ? s1 : s2).uri(), tok, "agent-" + i, null, Map.of(), null, dir.resolve("agent-" + i),
                    new SecureRandom());
            agents.add(new RawAgent[] {new RawAgent(id, s1.uri()), new RawAgent(id, s2.uri())});
            names.add("agent-" + i);
        }
        a2.post("/api/v1/groups/fleet/members", t2, Map.of("agents", names));
        a1.post("/api/v1/policies", t1, Map.of("name", "fleet-policy", "group", "fleet", "repository", "main", "schedule", "every 1d"));
        Files.createDirectories(dir.resolve("data"));
        for (int i = 0; i < AGENTS; i++) {
            a1.post("/api/v1/workloads", t1, Map.of("name", "w" + i, "agent", "agent-" + i, "paths", List.of(dir.resolve("data").toString())));
        }
        a2.post("/api/v1/workloads", t2, Map.of("name", "pooled", "pool", "fleet", "paths", List.of(dir.resolve("data").toString())));
        for (RawAgent[] a : agents) {
            a[1].instance = a[0].instance; // one agent process, talking to either server
            a[0].heartbeat(3, List.of());
        }

        Map<Long, String> delivered = new ConcurrentHashMap<>();
        List<Long> duplicates = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(AGENTS + 4);
        List<Future<?>> pollers = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) {
            RawAgent[] a = agents.get(i);
            int n = i;
            pollers.add(pool.submit(() -> {
                int round = 0;
                while (!stop.get()) {
                    RawAgent via = a[round++ % 2];
                    for (Messages.Task t : via.poll(3, 1)) {
                        if (delivered.putIfAbsent(t.jobId(), "agent-" + n) != null) {
                            duplicates.add(t.jobId());
                        }
                        a[round % 2].finish(t.jobId(), "succeeded");
                    }
                }
                return null;
            }));
        }
        // queue jobs through both servers at once
        List<Long> created = Collections.synchronizedList(new ArrayList<>());
        List<Future<?>> makers = new ArrayList<>();
        for (int m = 0; m < 4; m++) {
            int mm = m;
            makers.add(pool.submit(() -> {
                TestClient via = mm % 2 == 0 ? a1 : a2;
                String tok = mm % 2 == 0 ? t1 : t2;
                for (int j = mm; j < JOBS; j += 4) {
                    String w = j % 5 == 0 ? "pooled" : "w" + (j % AGENTS);
                    var r = via.post("/api/v1/workloads/" + w + "/backup", tok, Map.of());
                    assertThat(r.status()).as(r.body()).isEqualTo(202);
                    created.add(r.json().get("id").asLong());
                }
                return null;
            }));
        }
        for (Future<?> f : makers) {
            f.get(120, TimeUnit.SECONDS);
        }
        // a schedule tick, due on both servers at the same moment
        s1.control().inventory().jdbi().useHandle(h -> h.createUpdate("UPDATE policies SET next_backup_at = :t")
                .bind("t", Instant.now().toEpochMilli() - 1000).execute());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Set<Long> all;
        while (true) {
            JsonNode jobs = a1.get("/api/v1/jobs?limit=1000", t1).json().get("jobs");
            all = new HashSet<>();
            int open = 0;
            for (JsonNode j : jobs) {
                all.add(j.get("id").asLong());
                if (!j.get("state").asText().equals("succeeded")) {
                    open++;
                }
            }
            if (open == 0 && all.size() == JOBS + AGENTS + 1) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(open + " job(s) not done, " + all.size() + " in all");
            }
            Thread.sleep(200);
        }
        stop.set(true);
        for (Future<?> f : pollers) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(duplicates).as("jobs started twice").isEmpty();
        assertThat(created).hasSize(JOBS);
        // every job was delivered exactly once: the 240 asked for and one per workload from the tick
        assertThat(delivered.keySet()).containsExactlyInAnyOrderElementsOf(all);
        JsonNode scheduled = a2.get("/api/v1/jobs?limit=1000", t2).json().get("jobs");
        Map<String, Integer> perWorkload = new HashMap<>();
        for (JsonNode j : scheduled) {
            if (j.get("origin").asText().equals("schedule")) {
                perWorkload.merge(j.get("workload").asText(), 1, Integer::sum);
            }
        }
        assertThat(perWorkload).hasSize(AGENTS + 1).allSatisfy((w, n) -> assertThat(n).as(w).isEqualTo(1));
        // pooled jobs went to several agents
        assertThat(delivered.entrySet().stream().filter(e -> created.contains(e.getKey())).map(Map.Entry::getValue).distinct().count())
                .isEqualTo(AGENTS);
    }
}
