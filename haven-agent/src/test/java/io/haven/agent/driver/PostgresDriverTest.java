package io.haven.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code postgres} driver with the machine's PostgreSQL (skipped where there is none or the
 * test is not root): the conformance suite, then a DR copy's life — standby seeded from a base
 * backup, replication, promotion (failover), and the old primary rewound into a standby of the
 * new one (failback).
 */
class PostgresDriverTest extends DriverConformanceTest {
    static Path base;
    private final Map<Path, Integer> ports = new ConcurrentHashMap<>();

    @BeforeAll
    static void machine() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/lib/postgresql")), "no PostgreSQL binaries");
        assumeTrue("root".equals(System.getProperty("user.name")), "runs PostgreSQL as the postgres user: needs root");
        // the postgres user must reach the data directories: a traversable temp base
        base = Files.createTempDirectory("haven-pg-driver");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterAll
    static void clean() throws IOException {
        if (base != null) {
            try (Stream<Path> s = Files.walk(base)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Override
    Driver driver() {
        return new PostgresDriver();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Test directories live under a base the postgres user can traverse. */
    private Path place(Path dir) {
        Path p = base.resolve(Integer.toHexString(dir.toString().hashCode()));
        try {
            Files.createDirectories(p);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return p;
    }

    @Override
    WorkloadInstance instance(Path dir, String name) {
        Path at = place(dir);
        int port = ports.computeIfAbsent(at, d -> freePort());
        return new WorkloadInstance(name, Map.of("data", at.resolve("data")), "127.0.0.1",
                Map.of("port", port, "initdb", true, "config", Map.of("fsync", "off")), at.resolve("run"));
    }

    @Override
    Probe probe(WorkloadInstance w) {
        return new Probe.Tcp("127.0.0.1", PostgresDriver.port(w));
    }

    @Override
    WorkloadInstance badInstance(Path dir) {
        return new WorkloadInstance("bad", Map.of(), "127.0.0.1", Map.of("port", 70000), place(dir).resolve("bad-run"));
    }

    @Test
    void aStandbyFollowsItsPrimaryTakesOverAndTheOldPrimaryRejoinsAsItsStandby() throws Exception {
        PostgresDriver pg = new PostgresDriver();
        WorkloadInstance a = instance(dir.resolve("site-a"), "db");
        Path bAt = place(dir.resolve("site-b"));
        int bPort = freePort();
        WorkloadInstance b = new WorkloadInstance("db", Map.of("data", bAt.resolve("data")), "127.0.0.1",
                Map.of("port", bPort), bAt.resolve("run"));
        started = a;
        try {
            pg.start(a);
            pg.sql(a, "CREATE TABLE orders (id int PRIMARY KEY, note text)");
            pg.sql(a, "INSERT INTO orders VALUES (1, 'before the standby')");
            // the DR copy: a standby at the recovery site, from a base backup
            pg.seedStandby(b, "127.0.0.1", PostgresDriver.port(a), false);
            assertThat(pg.isStandby(b)).isTrue();
            pg.sql(a, "INSERT INTO orders VALUES (2, 'streamed')");
            awaitRows(pg, b, 2);
            assertThat(pg.replayLagSeconds(b)).isGreaterThanOrEqualTo(0);
            // failover: the primary is stopped, the standby promoted; writes go to B
            pg.stop(a, Duration.ofSeconds(10));
            pg.promote(b);
            assertThat(pg.isStandby(b)).isFalse();
            pg.sql(b, "INSERT INTO orders VALUES (3, 'written at B')");
            // failback, first half: A rewinds to the fork and follows B
            String how = pg.rejoinAsStandby(a, "127.0.0.1", bPort);
            assertThat(how).isIn("rewound", "reseeded");
            assertThat(pg.isStandby(a)).isTrue();
            awaitRows(pg, a, 3);
            // then B hands back: B stops, A is promoted, B rejoins as A's standby
            pg.stop(b, Duration.ofSeconds(10));
            pg.promote(a);
            pg.sql(a, "INSERT INTO orders VALUES (4, 'home again')");
            pg.rejoinAsStandby(b, "127.0.0.1", PostgresDriver.port(a));
            awaitRows(pg, b, 4);
            assertThat(pg.sql(b, "SELECT string_agg(note, ',' ORDER BY id) FROM orders"))
                    .isEqualTo("before the standby,streamed,written at B,home again");
        } finally {
            pg.stop(b, Duration.ofSeconds(10));
        }
    }

    @Test
    void seedingRefusesAVolumeThatHoldsData() throws Exception {
        PostgresDriver pg = new PostgresDriver();
        WorkloadInstance a = started = instance(dir.resolve("guard"), "guarded");
        pg.start(a);
        WorkloadInstance other = instance(dir.resolve("guard-b"), "guarded");
        pg.prepare(other); // initdb: the volume holds a cluster now
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> pg.seedStandby(other, "127.0.0.1", PostgresDriver.port(a), false))
                .hasMessageContaining("not empty");
    }

    private static void awaitRows(PostgresDriver pg, WorkloadInstance w, int n) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (Integer.parseInt(pg.sql(w, "SELECT count(*) FROM orders")) >= n) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the standby did not reach " + n + " rows: " + pg.sql(w, "SELECT count(*) FROM orders"));
    }
}
