package io.haven.server.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;

/**
 * The server's database: a connection pool, the schema brought up to date by Flyway
 * ({@code classpath:db/migration}) and one {@link Jdbi} for all SQL. Thread-safe; close once.
 */
public final class Database implements AutoCloseable {
    private final HikariDataSource pool;
    private final Jdbi jdbi;
    private final DatabaseConfig config;

    private Database(DatabaseConfig config, HikariDataSource pool) {
        this.config = config;
        this.pool = pool;
        this.jdbi = Jdbi.create(pool);
    }

    /**
     * Opens the database and applies pending migrations.
     *
     * @throws HavenException BUSY when the embedded database is held by another process (a running
     *     server), IO when the database cannot be reached or migrated
     */
    public static Database open(DatabaseConfig config) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(config.jdbcUrl());
        if (config.user() != null) {
            hc.setUsername(config.user());
        }
        if (config.password() != null) {
            hc.setPassword(config.password());
        }
        hc.setMaximumPoolSize(config.isEmbedded() ? 8 : 16);
        hc.setMinimumIdle(1);
        hc.setPoolName("haven-db");
        hc.setInitializationFailTimeout(1);
        hc.setConnectionTimeout(10_000);
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw failure(config, e);
        }
        try {
            Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
            return new Database(config, pool);
        } catch (RuntimeException e) {
            pool.close();
            throw failure(config, e);
        }
    }

    private static HavenException failure(DatabaseConfig config, RuntimeException e) {
        String msg = rootMessage(e);
        if (config.isEmbedded() && msg.contains("already in use")) {
            return new HavenException(ErrorCode.BUSY, "the database " + config.display()
                    + " is in use by another process (is 'haven server' running on this data directory?)", e);
        }
        return new HavenException(ErrorCode.IO, "cannot open the database " + config.display() + ": " + msg, e);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        StringBuilder sb = new StringBuilder();
        while (t != null) {
            String m = t.getMessage();
            if (m != null && sb.indexOf(m) < 0) {
                // wrappers repeat their cause's message: keep each text once
                sb.append(m).append("; ");
            }
            t = t.getCause();
        }
        return sb.length() == 0 ? e.toString() : sb.substring(0, sb.length() - 2);
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public DatabaseConfig config() {
        return config;
    }

    /** Runs a trivial query; throws what the database throws. */
    public void ping() throws SQLException {
        try (var c = pool.getConnection(); var s = c.createStatement()) {
            s.setQueryTimeout(5);
            s.execute("SELECT 1");
        }
    }

    /**
     * Closes every connection. The embedded H2 database closes itself when its last connection
     * goes, which releases its file lock.
     */
    @Override
    public void close() {
        pool.close();
    }
}
