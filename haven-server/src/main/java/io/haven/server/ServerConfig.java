package io.haven.server;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.auth.PasswordHasher;
import io.haven.server.db.DatabaseConfig;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Everything {@link HavenServer} needs, read once at the edge (the CLI reads options and the
 * environment; no code below reads {@code System.getenv}).
 *
 * @param dataDir the server's own directory: {@code tls/} (CA and server certificate) and
 *     {@code db/} (the embedded database)
 * @param host the address to listen on ({@code 0.0.0.0} or {@code ::} for every interface)
 * @param port the TCP port; 0 picks a free one (see {@link HavenServer#port()})
 * @param certificateHosts names and addresses the server certificate must cover
 * @param database where the database is
 * @param adminPassword the first admin's password when the database has no user yet; null to
 *     generate one (shown once)
 * @param passwords the Argon2id parameters for new password hashes
 * @param sessionTtl how long a login's session token lives
 * @param control timings of the control plane (agents, scheduler)
 */
public record ServerConfig(Path dataDir, String host, int port, List<String> certificateHosts, DatabaseConfig database,
        String adminPassword, PasswordHasher.Params passwords, Duration sessionTtl, InstantSource clock,
        SecureRandom random, Control control) {
    /**
     * Control-plane timings.
     *
     * @param heartbeat how often agents report; an agent is offline after three missed heartbeats
     * @param tick how often the server fires due schedules and settles lost jobs
     * @param lostAfter how long a running job's agent may stay silent before the job is settled failed
     * @param repositoryKdfKib Argon2id memory for keys of repositories the server creates
     */
    public record Control(Duration heartbeat, Duration tick, Duration lostAfter, int repositoryKdfKib) {
        public static final Control DEFAULT = new Control(Duration.ofSeconds(15), Duration.ofSeconds(5), Duration.ofMinutes(15), 64 * 1024);

        public Control {
            if (heartbeat.toSeconds() < 1 || tick.toMillis() < 50 || lostAfter.compareTo(heartbeat.multipliedBy(3)) < 0) {
                throw new HavenException(ErrorCode.USAGE, "control timings: heartbeat >= 1 s, tick >= 50 ms, lostAfter >= 3 heartbeats");
            }
        }

        public Duration offlineAfter() {
            return heartbeat.multipliedBy(3);
        }
    }

    public ServerConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new HavenException(ErrorCode.USAGE, "port " + port + " is outside 0..65535");
        }
        certificateHosts = List.copyOf(certificateHosts);
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(passwords, "passwords");
        if (sessionTtl.isNegative() || sessionTtl.isZero()) {
            throw new HavenException(ErrorCode.USAGE, "the session lifetime must be positive, not " + sessionTtl);
        }
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(random, "random");
        Objects.requireNonNull(control, "control");
    }

    /** Defaults: embedded SQLite in {@code dataDir/db}, OWASP Argon2id parameters, 12-hour sessions. */
    public static ServerConfig defaults(Path dataDir, String host, int port) {
        return new ServerConfig(dataDir, host, port, defaultCertificateHosts(host), DatabaseConfig.embedded(dataDir),
                null, PasswordHasher.Params.DEFAULT, Duration.ofHours(12), InstantSource.system(), new SecureRandom(), Control.DEFAULT);
    }

    /** The listen host (unless it is a wildcard address), {@code localhost}, 127.0.0.1 and ::1. */
    public static List<String> defaultCertificateHosts(String host) {
        var hosts = new LinkedHashSet<String>();
        if (!isWildcard(host)) {
            hosts.add(host);
        }
        hosts.add("localhost");
        hosts.add("127.0.0.1");
        hosts.add("::1");
        return new ArrayList<>(hosts);
    }

    static boolean isWildcard(String host) {
        return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    public ServerConfig withDatabase(DatabaseConfig db) {
        return new ServerConfig(dataDir, host, port, certificateHosts, db, adminPassword, passwords, sessionTtl, clock, random, control);
    }

    public ServerConfig withAdminPassword(String pw) {
        return new ServerConfig(dataDir, host, port, certificateHosts, database, pw, passwords, sessionTtl, clock, random, control);
    }

    public ServerConfig withPasswords(PasswordHasher.Params p) {
        return new ServerConfig(dataDir, host, port, certificateHosts, database, adminPassword, p, sessionTtl, clock, random, control);
    }

    public ServerConfig withCertificateHosts(List<String> hosts) {
        return new ServerConfig(dataDir, host, port, hosts, database, adminPassword, passwords, sessionTtl, clock, random, control);
    }

    public ServerConfig withSessionTtl(Duration ttl) {
        return new ServerConfig(dataDir, host, port, certificateHosts, database, adminPassword, passwords, ttl, clock, random, control);
    }

    public ServerConfig withControl(Control c) {
        return new ServerConfig(dataDir, host, port, certificateHosts, database, adminPassword, passwords, sessionTtl, clock, random, c);
    }

    public ServerConfig withPort(int p) {
        return new ServerConfig(dataDir, host, p, certificateHosts, database, adminPassword, passwords, sessionTtl, clock, random, control);
    }
}
