package io.haven.server.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.StatementCustomizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded database's statement cache, through {@link Database}: real SQLite, the pool and Jdbi. */
class SqliteStatementCacheTest {
    @TempDir
    Path dir;

    /** Records the statement objects Jdbi executes. */
    private static final class Seen implements StatementCustomizer {
        final Set<PreparedStatement> statements = Collections.newSetFromMap(new IdentityHashMap<>());
        final List<PreparedStatement> order = new ArrayList<>();

        @Override
        public void beforeExecution(PreparedStatement stmt, StatementContext ctx) {
            statements.add(stmt);
            order.add(stmt);
        }
    }

    @Test
    void aStatementIsPreparedOnceAndReusedAcrossHandlesWithFreshParameters() {
        try (Database db = Database.open(DatabaseConfig.embedded(dir))) {
            for (String name : List.of("a", "b", "c")) {
                db.jdbi().useHandle(h -> h.execute("INSERT INTO sites (name, created_at) VALUES (?, 0)", name));
            }
            Seen seen = new Seen();
            List<String> got = new ArrayList<>();
            for (String name : List.of("a", "c", "b", "nothing")) {
                got.add(db.jdbi().withHandle(h -> h.createQuery("SELECT name FROM sites WHERE name = :n").bind("n", name)
                        .addCustomizer(seen).mapTo(String.class).findOne().orElse("-")));
            }
            assertThat(got).containsExactly("a", "c", "b", "-");
            assertThat(seen.order).hasSize(4);
            assertThat(seen.statements).as("one prepared statement for the four calls").hasSize(1);
            // a kept statement still holds its last values: a call that leaves one unbound is refused, not answered with them
            assertThatThrownBy(() -> db.jdbi().withHandle(h -> h.createQuery("SELECT name FROM sites WHERE name = :n")
                    .mapTo(String.class).findOne())).hasMessageContaining("Missing named parameter 'n'");
            db.jdbi().useHandle(h -> h.createQuery("SELECT name FROM sites WHERE name = ? OR name = ?").bind(0, "a").bind(1, "b")
                    .mapTo(String.class).list());
            assertThatThrownBy(() -> db.jdbi().withHandle(h -> h.createQuery("SELECT name FROM sites WHERE name = ? OR name = ?")
                    .bind(0, "c").mapTo(String.class).list())).hasMessageContaining("Missing positional parameter");
        }
    }

    @Test
    void theSameSqlUsedTwiceAtOnceGetsTwoStatements() {
        try (Database db = Database.open(DatabaseConfig.embedded(dir))) {
            for (String name : List.of("a", "b")) {
                db.jdbi().useHandle(h -> h.execute("INSERT INTO sites (name, created_at) VALUES (?, 0)", name));
            }
            String sql = "SELECT name FROM sites WHERE name >= :n ORDER BY name";
            Seen seen = new Seen();
            List<String> pairs = db.jdbi().withHandle(h -> {
                List<String> out = new ArrayList<>();
                try (var outer = h.createQuery(sql).bind("n", "a").addCustomizer(seen).mapTo(String.class).stream()) {
                    outer.forEach(x -> h.createQuery(sql).bind("n", "b").addCustomizer(seen).mapTo(String.class).list()
                            .forEach(y -> out.add(x + y)));
                }
                return out;
            });
            assertThat(pairs).containsExactly("ab", "bb");
            assertThat(seen.statements).as("the outer query's statement is busy while the inner one runs").hasSize(2);
        }
    }

    @Test
    void anIdleKeptStatementHoldsNoReadSnapshotEvenWhenItsQueryStoppedEarly() throws Exception {
        Path file = dir.resolve("db/haven.db");
        try (Database db = Database.open(DatabaseConfig.embedded(dir))) {
            for (String name : List.of("a", "b", "c")) {
                db.jdbi().useHandle(h -> h.execute("INSERT INTO sites (name, created_at) VALUES (?, 0)", name));
            }
            // reads one row of three and stops: the kept statement must have been reset
            java.util.Optional<String> first = db.jdbi().withHandle(h -> h.createQuery("SELECT name FROM sites ORDER BY name")
                    .mapTo(String.class).findFirst());
            assertThat(first).contains("a");
            // a statement with rows, run as an update (no result set to close), is reset too
            db.jdbi().useHandle(h -> h.execute("SELECT name FROM sites ORDER BY name"));
            try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file)) {
                assertThat(checkpointAfterAWrite(other, "d")).as("frames in the log = frames checkpointed").isTrue();
                // the check can tell: a statement left in the middle of its rows pins the snapshot
                try (Connection held = DriverManager.getConnection("jdbc:sqlite:" + file);
                        Statement s = held.createStatement();
                        ResultSet rs = s.executeQuery("SELECT name FROM sites")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(checkpointAfterAWrite(other, "e")).isFalse();
                }
            }
        }
    }

    /** Writes a row through {@code c}, then checkpoints passively: true when every frame was copied. */
    private static boolean checkpointAfterAWrite(Connection c, String name) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 0");
            s.execute("INSERT INTO sites (name, created_at) VALUES ('" + name + "', 0)");
            try (ResultSet r = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
                assertThat(r.next()).isTrue();
                return r.getInt(1) == 0 && r.getInt(2) == r.getInt(3);
            }
        }
    }

    @Test
    void aStatementThatFailedInAWayThatFreedItIsNotKept() {
        try (Database db = Database.open(DatabaseConfig.embedded(dir))) {
            String sql = "SELECT json(:x)";
            // a runtime error in the first step: sqlite-jdbc frees the native statement
            assertThatThrownBy(() -> db.jdbi().withHandle(h -> h.createQuery(sql).bind("x", "not json").mapTo(String.class).one()))
                    .hasMessageContaining("malformed JSON");
            String ok = db.jdbi().withHandle(h -> h.createQuery(sql).bind("x", "{ }").mapTo(String.class).one());
            assertThat(ok).isEqualTo("{}");
        }
    }

    @Test
    void aStatementGivenARowLimitIsNotShared() {
        try (Database db = Database.open(DatabaseConfig.embedded(dir))) {
            for (String name : List.of("a", "b", "c")) {
                db.jdbi().useHandle(h -> h.execute("INSERT INTO sites (name, created_at) VALUES (?, 0)", name));
            }
            String sql = "SELECT name FROM sites ORDER BY name";
            List<String> one = db.jdbi().withHandle(h -> h.createQuery(sql).setMaxRows(1).mapTo(String.class).list());
            List<String> all = db.jdbi().withHandle(h -> h.createQuery(sql).mapTo(String.class).list());
            assertThat(one).containsExactly("a");
            assertThat(all).containsExactly("a", "b", "c");
        }
    }

    @Test
    void statementsThatReturnGeneratedKeysAreNotKept() {
        try (Database db = Database.open(DatabaseConfig.embedded(dir))) {
            Seen seen = new Seen();
            List<Long> ids = new ArrayList<>();
            for (String name : List.of("a", "b")) {
                ids.add(db.jdbi().withHandle(h -> h.createUpdate("INSERT INTO sites (name, created_at) VALUES (:n, 0)").bind("n", name)
                        .addCustomizer(seen).executeAndReturnGeneratedKeys("id").mapTo(Long.class).one()));
            }
            assertThat(ids.get(1)).isGreaterThan(ids.get(0));
            assertThat(seen.statements).hasSize(2);
        }
    }

    @Test
    void theCacheIsBoundedAndClosesWhatItDrops() throws Exception {
        SqliteStatementCache cache = new SqliteStatementCache(2);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("x.db"))) {
            Jdbi jdbi = Jdbi.create(c).setStatementBuilderFactory(cache);
            Seen seen = new Seen();
            for (int i = 0; i < 3; i++) {
                String sql = "SELECT " + i;
                int got = jdbi.withHandle(h -> h.createQuery(sql).addCustomizer(seen).mapTo(Integer.class).one());
                assertThat(got).isEqualTo(i);
            }
            assertThat(cache.idleStatements()).isEqualTo(2);
            assertThat(seen.order.get(0).isClosed()).as("the least recently used one").isTrue();
            assertThat(seen.order.get(2).isClosed()).isFalse();
            jdbi.useHandle(h -> h.createQuery("SELECT 2").addCustomizer(seen).mapTo(Integer.class).one());
            assertThat(seen.order.get(3)).isSameAs(seen.order.get(2));
            cache.closeAll();
            assertThat(seen.order.get(1).isClosed()).isTrue();
            assertThat(seen.order.get(2).isClosed()).isTrue();
            assertThat(cache.idleStatements()).isZero();
            assertThat(c.isClosed()).isFalse();
        }
    }
}
