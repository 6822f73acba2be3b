package io.haven.server.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.haven.core.ErrorCode;
import io.haven.core.ExclusiveFileLock;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;

/**
 * The server's database: a connection pool, the schema brought up to date by Flyway
 * ({@code classpath:db/migration/sqlite} or {@code .../postgresql}) and one {@link Jdbi} for all
 * SQL. Thread-safe; close once.
 *
 * <p>An SQLite database is opened with the write-ahead log, {@code synchronous=FULL} (every commit
 * is on disk before it returns), foreign keys enforced, case-sensitive {@code LIKE} (as in
 * PostgreSQL), {@code BEGIN IMMEDIATE} transactions (a transaction that reads and then writes
 * cannot fail half-way for want of the write lock) and a 10 s wait for the lock, through one
 * pooled connection (see the pool's size below), whose prepared statements are kept for reuse
 * ({@link SqliteStatementCache}). One process at a time: the file
 * {@code <database>.lock} is locked for as long as the database is open.
 */
public final class Database implements AutoCloseable {
    /** Prepared statements kept per SQLite connection: every statement Haven runs, with room to spare. */
    static final int STATEMENTS_PER_CONNECTION = 512;
    private final HikariDataSource pool;
    private final Jdbi jdbi;
    private final DatabaseConfig config;
    private final ExclusiveFileLock lockFile;
    private final SqliteStatementCache statements;

    private Database(DatabaseConfig config, HikariDataSource pool, ExclusiveFileLock lockFile) {
        this.config = config;
        this.pool = pool;
        this.lockFile = lockFile;
        this.jdbi = Jdbi.create(pool);
        this.statements = config.isEmbedded() ? new SqliteStatementCache(STATEMENTS_PER_CONNECTION) : null;
        if (statements != null) {
            jdbi.setStatementBuilderFactory(statements);
        }
    }

    /**
     * Opens the database and applies pending migrations.
     *
     * @throws HavenException BUSY when the embedded database is held by another process (a running
     *     server), IO when the database cannot be reached or migrated
     */
    public static Database open(DatabaseConfig config) {
        Optional<Path> file = config.embeddedFile();
        file.ifPresent(f -> refuseH2(config, f));
        ExclusiveFileLock lock = file.map(f -> lock(config, f)).orElse(null);
        try {
            return open(config, lock);
        } catch (RuntimeException e) {
            closeQuietly(lock);
            throw e;
        }
    }

    private static Database open(DatabaseConfig config, ExclusiveFileLock lock) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(config.jdbcUrl());
        if (config.user() != null) {
            hc.setUsername(config.user());
        }
        if (config.password() != null) {
            hc.setPassword(config.password());
        }
        if (config.isEmbedded()) {
            hc.addDataSourceProperty("journal_mode", "WAL");
            hc.addDataSourceProperty("synchronous", "FULL");
            hc.addDataSourceProperty("foreign_keys", "true");
            hc.addDataSourceProperty("case_sensitive_like", "true");
            hc.addDataSourceProperty("transaction_mode", "IMMEDIATE");
            hc.addDataSourceProperty("busy_timeout", "10000");
        }
        // SQLite: one connection. It has one writer at a time anyway, and a second connection
        // would wait for the write lock inside SQLite's native code, which holds the carrier
        // thread of the virtual thread that waits: two such waits stop every request on a
        // two-core machine. Waiting for the pool's one connection parks in Java instead.
        hc.setMaximumPoolSize(config.isEmbedded() ? 1 : 16);
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
            String dialect = config.isEmbedded() ? "sqlite" : "postgresql";
            Flyway.configure().dataSource(pool).locations("classpath:db/migration/" + dialect).load().migrate();
            return new Database(config, pool, lock);
        } catch (RuntimeException e) {
            pool.close();
            throw failure(config, e);
        }
    }

    /**
     * Builds before 2026-11-30 kept the embedded database in H2's {@code haven.mv.db}. Starting
     * afresh beside it would look like a server that lost everything, so say what it is.
     */
    private static void refuseH2(DatabaseConfig config, Path file) {
        Path h2 = file.resolveSibling("haven.mv.db");
        if (Files.exists(h2) && !Files.exists(file)) {
            throw new HavenException(ErrorCode.USAGE, "the data directory holds an H2 database (" + h2
                    + ") from a Haven build before 2026-11-30; this build keeps its database in SQLite (" + file.getFileName()
                    + ") and does not convert it. Move " + h2.getFileName() + " aside to start with an empty database");
        }
    }

    /** Locks {@code <file>.lock} (creating the folder), or says that another process holds it. */
    private static ExclusiveFileLock lock(DatabaseConfig config, Path file) {
        Path path = file.resolveSibling(file.getFileName() + ".lock");
        try {
            Files.createDirectories(path.getParent());
            return ExclusiveFileLock.tryAcquire(path).orElseThrow(() -> new HavenException(ErrorCode.BUSY, "the database "
                    + config.display() + " is in use by another process (is 'haven server' running on this data directory?)"));
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot open the database " + config.display() + ": " + e, e);
        }
    }

    private static void closeQuietly(ExclusiveFileLock lock) {
        if (lock != null) {
            try {
                lock.close();
            } catch (IOException ignored) {
                // nothing is lost: the lock goes with the process at the latest
            }
        }
    }

    private static HavenException failure(DatabaseConfig config, RuntimeException e) {
        return new HavenException(ErrorCode.IO, "cannot open the database " + config.display() + ": " + rootMessage(e), e);
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

    /** Closes the kept statements and every connection, then releases the embedded database's lock. */
    @Override
    public void close() {
        try {
            if (statements != null) {
                statements.closeAll();
            }
            pool.close();
        } finally {
            closeQuietly(lockFile);
        }
    }
}
