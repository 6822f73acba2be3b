package io.haven.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.haven.server.db.DatabaseConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server on a real PostgreSQL (the machine's own binaries, started by the test on loopback
 * as the {@code postgres} user). Skipped where there are no PostgreSQL binaries or no root to
 * switch users.
 */
class PostgresServerTest {
    static Path pgBin;
    static Path pgData;
    static Process postgres;
    static int pgPort;

    @TempDir
    Path data;

    @BeforeAll
    static void startPostgres() throws Exception {
        pgBin = findBin();
        assumeTrue(pgBin != null, "no PostgreSQL binaries in /usr/lib/postgresql");
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run PostgreSQL as the postgres user");
        pgData = Files.createTempDirectory("haven-pg");
        run("chown", "postgres", pgData.toString());
        run("runuser", "-u", "postgres", "--", pgBin.resolve("initdb").toString(), "-D", pgData.resolve("db").toString(),
                "-U", "haven", "--auth=trust", "-E", "UTF8");
        try (ServerSocket s = new ServerSocket(0)) {
            pgPort = s.getLocalPort();
        }
        postgres = new ProcessBuilder("runuser", "-u", "postgres", "--", pgBin.resolve("postgres").toString(),
                "-D", pgData.resolve("db").toString(), "-p", String.valueOf(pgPort), "-h", "127.0.0.1",
                "-k", pgData.toString(), "-c", "fsync=off")
                .redirectErrorStream(true).redirectOutput(pgData.resolve("log.txt").toFile()).start();
        for (int i = 0; i < 100; i++) {
            try (var sock = new java.net.Socket("127.0.0.1", pgPort)) {
                Thread.sleep(300);
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("PostgreSQL did not start: " + Files.readString(pgData.resolve("log.txt")));
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.destroy();
            postgres.waitFor(20, TimeUnit.SECONDS);
        }
        if (pgData != null) {
            try (Stream<Path> s = Files.walk(pgData)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void theServerMigratesAndServesOnPostgresql() throws Exception {
        var db = new DatabaseConfig("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres", "haven", null);
        try (HavenServer s = HavenServer.start(HavenServerTest.config(data).withDatabase(db))) {
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            assertThat(c.get("/health", null).json().get("database").asText()).isEqualTo("ok");
            String admin = c.login("admin", HavenServerTest.ADMIN_PW);
            assertThat(c.post("/api/v1/users", admin, Map.of("username", "pg-user", "password", "pg-user-password")).status())
                    .isEqualTo(201);
            assertThat(c.get("/api/v1/audit?limit=5", admin).body()).contains("user:pg-user");
            // V3: a channel, a recorded delivery (to a port where nothing listens), deletion keeping the record
            assertThat(c.post("/api/v1/notifications/channels", admin, Map.of("name", "pg-hook", "kind", "webhook",
                    "events", List.of("test"), "config", Map.of("url", "http://127.0.0.1:1/hook"))).status()).isEqualTo(201);
            assertThat(c.post("/api/v1/notifications/test", admin, Map.of("name", "pg-hook")).json().get("status").asText())
                    .isEqualTo("failed");
            assertThat(c.post("/api/v1/notifications/channels/delete", admin, Map.of("name", "pg-hook")).status()).isEqualTo(200);
            assertThat(c.get("/api/v1/notifications/deliveries", admin).json().get("deliveries").get(0).get("channel").asText())
                    .isEqualTo("pg-hook");
        }
        try (HavenServer s = HavenServer.start(HavenServerTest.config(data).withDatabase(db))) {
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            assertThat(c.login("pg-user", "pg-user-password")).startsWith("hvs_");
        }
    }

    private static Path findBin() throws IOException {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return null;
        }
        List<Path> bins = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.map(p -> p.resolve("bin")).filter(p -> Files.isExecutable(p.resolve("postgres"))).forEach(bins::add);
        }
        return bins.isEmpty() ? null : bins.get(bins.size() - 1);
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
