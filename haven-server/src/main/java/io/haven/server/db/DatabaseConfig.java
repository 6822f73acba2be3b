package io.haven.server.db;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the server's database is: a JDBC URL (SQLite or PostgreSQL) with optional credentials
 * (PostgreSQL also reads {@code user} and {@code password} from the URL's query).
 */
public record DatabaseConfig(String jdbcUrl, String user, String password) {
    private static final String SQLITE = "jdbc:sqlite:";

    public DatabaseConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    }

    /**
     * The embedded SQLite database file {@code dataDir/db/haven.db}. {@link Database} opens it in
     * write-ahead-log mode with {@code synchronous=FULL}: a commit is in the log, and the log on
     * disk, before the commit returns, so a server that is killed (SIGKILL, the OOM killer) or
     * loses power keeps every job it has accepted. docs/decisions.md says why this is SQLite and
     * not H2, which lost its last commits when killed ({@code KilledServerKeepsCommitsTest}).
     */
    public static DatabaseConfig embedded(Path dataDir) {
        Path file = dataDir.toAbsolutePath().normalize().resolve("db").resolve("haven.db");
        return new DatabaseConfig(SQLITE + file, null, null);
    }

    /** Whether this is an SQLite database (a file this process opens itself). */
    public boolean isEmbedded() {
        return jdbcUrl.startsWith(SQLITE);
    }

    /**
     * The SQLite database's file: the URL without {@code jdbc:sqlite:}, an optional {@code file:}
     * and the query. Empty for PostgreSQL and for SQLite's in-memory databases.
     */
    public Optional<Path> embeddedFile() {
        if (!isEmbedded()) {
            return Optional.empty();
        }
        String s = jdbcUrl.substring(SQLITE.length());
        int q = s.indexOf('?');
        if (q >= 0) {
            if (s.substring(q).contains("mode=memory")) {
                return Optional.empty();
            }
            s = s.substring(0, q);
        }
        if (s.startsWith("file:")) {
            s = s.substring("file:".length());
        }
        if (s.isEmpty() || s.equals(":memory:")) {
            return Optional.empty();
        }
        return Optional.of(Path.of(s).toAbsolutePath().normalize());
    }

    /** The URL without its query (which may hold a password), for messages. */
    public String display() {
        int q = jdbcUrl.indexOf('?');
        return q < 0 ? jdbcUrl : jdbcUrl.substring(0, q);
    }

    @Override
    public String toString() {
        return "DatabaseConfig[" + display() + ", user=" + user + "]";
    }
}
