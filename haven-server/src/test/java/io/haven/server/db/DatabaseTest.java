package io.haven.server.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded database: its file, its lock, ids and the settings {@link Database} opens it with. */
class DatabaseTest {
    @TempDir
    Path dir;

    @Test
    void theEmbeddedDatabaseIsOneFileUnderDbWithTheSafeSettings() {
        DatabaseConfig config = DatabaseConfig.embedded(dir);
        assertThat(config.isEmbedded()).isTrue();
        assertThat(config.embeddedFile()).contains(dir.toAbsolutePath().resolve("db/haven.db"));
        try (Database db = Database.open(config)) {
            assertThat(query(db, "PRAGMA journal_mode")).isEqualTo("wal");
            assertThat(query(db, "PRAGMA synchronous")).isEqualTo("2"); // FULL
            assertThat(query(db, "PRAGMA foreign_keys")).isEqualTo("1");
            assertThat(query(db, "SELECT 'A' LIKE 'a'")).isEqualTo("0");
        }
        assertThat(dir.resolve("db/haven.db")).isRegularFile();
    }

    @Test
    void aSecondOpenOfTheSameFileIsRefusedAsBusyUntilTheFirstCloses() {
        DatabaseConfig config = DatabaseConfig.embedded(dir);
        try (Database first = Database.open(config)) {
            assertThatThrownBy(() -> Database.open(config)).isInstanceOfSatisfying(HavenException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.BUSY)).hasMessageContaining("in use by another process");
        }
        try (Database again = Database.open(config)) {
            again.jdbi().useHandle(h -> h.execute("SELECT 1"));
        }
    }

    @Test
    void idsAreNeverHandedOutTwiceEvenAfterADelete() {
        try (Database db = Database.open(DatabaseConfig.embedded(dir))) {
            long first = insertSite(db, "a");
            long second = insertSite(db, "b");
            db.jdbi().useHandle(h -> h.execute("DELETE FROM sites WHERE id = ?", second));
            assertThat(insertSite(db, "c")).isGreaterThan(second).isGreaterThan(first);
        }
    }

    @Test
    void anAgentIsFoundByEitherCertificateSerialThroughIndexes() {
        try (Database db = Database.open(DatabaseConfig.embedded(dir))) {
            // the query of Agents.holderOf, run on every agent call
            List<String> plan = db.jdbi().withHandle(h -> h.createQuery("EXPLAIN QUERY PLAN SELECT id FROM agents "
                    + "WHERE cert_serial = :s OR prev_cert_serial = :s").bind("s", "x").map((rs, c) -> rs.getString("detail")).list());
            assertThat(String.join("\n", plan)).contains("MULTI-INDEX OR").contains("agents_prev_cert_serial")
                    .doesNotContain("SCAN agents");
        }
    }

    @Test
    void anH2DatabaseFromAnEarlierBuildIsNeitherOpenedNorReplaced() throws Exception {
        Path h2 = Files.createDirectories(dir.resolve("db")).resolve("haven.mv.db");
        Files.write(h2, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> Database.open(DatabaseConfig.embedded(dir))).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE)).hasMessageContaining("holds an H2 database")
                .hasMessageContaining("Move haven.mv.db aside");
        assertThat(dir.resolve("db/haven.db")).doesNotExist();
        assertThat(Files.readAllBytes(h2)).containsExactly(1, 2, 3);
    }

    @Test
    void embeddedFileIsTheSqlitePathAndEmptyForMemoryAndPostgres() {
        assertThat(new DatabaseConfig("jdbc:sqlite:/a/b.db", null, null).embeddedFile()).contains(Path.of("/a/b.db"));
        assertThat(new DatabaseConfig("jdbc:sqlite:file:/a/b.db?cache=private", null, null).embeddedFile()).contains(Path.of("/a/b.db"));
        assertThat(new DatabaseConfig("jdbc:sqlite::memory:", null, null).embeddedFile()).isEmpty();
        assertThat(new DatabaseConfig("jdbc:sqlite:file:x?mode=memory", null, null).embeddedFile()).isEmpty();
        assertThat(new DatabaseConfig("jdbc:postgresql://h/db", null, null).embeddedFile()).isEmpty();
    }

    @Test
    void aValueLongerThanItsColumnIsRefusedWithTheFieldsName() {
        assertThat(Columns.fit("the description", "x".repeat(256), 256)).hasSize(256);
        assertThat(Columns.fit("the description", null, 256)).isNull();
        assertThat(Columns.fit("the description", "ü".repeat(10), 10)).hasSize(10); // characters, not bytes
        assertThatThrownBy(() -> Columns.fit("the description", "x".repeat(257), 256)).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE)).hasMessage("the description is longer than 256 characters");
    }

    private static String query(Database db, String sql) {
        return db.jdbi().withHandle(h -> h.createQuery(sql).mapTo(String.class).one());
    }

    private static long insertSite(Database db, String name) {
        return db.jdbi().withHandle(h -> h.createUpdate("INSERT INTO sites (name, created_at) VALUES (:n, 0)").bind("n", name)
                .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one());
    }
}
