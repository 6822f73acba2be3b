package io.haven.server.db;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the server's database is: a JDBC URL (H2 or PostgreSQL) with optional credentials
 * (PostgreSQL also reads {@code user} and {@code password} from the URL's query).
 */
public record DatabaseConfig(String jdbcUrl, String user, String password) {
    public DatabaseConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    }

    /** The embedded H2 database file {@code dataDir/db/haven.mv.db}. */
    public static DatabaseConfig embedded(Path dataDir) {
        Path file = dataDir.toAbsolutePath().normalize().resolve("db").resolve("haven");
        return new DatabaseConfig("jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE", "haven", "");
    }

    public boolean isEmbedded() {
        return jdbcUrl.startsWith("jdbc:h2:");
    }

    /** The URL without its query (which may hold a password), for messages. */
    public String display() {
        int q = jdbcUrl.indexOf('?');
        String s = q < 0 ? jdbcUrl : jdbcUrl.substring(0, q);
        int semi = s.indexOf(';');
        return semi < 0 ? s : s.substring(0, semi);
    }

    @Override
    public String toString() {
        return "DatabaseConfig[" + display() + ", user=" + user + "]";
    }
}
