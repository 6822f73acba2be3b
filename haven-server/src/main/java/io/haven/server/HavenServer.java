package io.haven.server;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.audit.AuditLog;
import io.haven.server.auth.PasswordHasher;
import io.haven.server.auth.Role;
import io.haven.server.auth.Tokens;
import io.haven.server.auth.Users;
import io.haven.server.db.Database;
import io.haven.server.http.Endpoints;
import io.haven.server.http.Metrics;
import io.haven.server.http.Route;
import io.haven.server.http.Router;
import io.haven.server.notify.NotificationEndpoints;
import io.haven.server.notify.Notifier;
import io.haven.server.tls.ServerTls;
import io.haven.server.http.Route;
import java.net.URI;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The {@code haven server} process: one HTTPS port (Jetty 12, TLS 1.2/1.3 only, no plain-HTTP
 * connector), the database, users, tokens, the audit log and notifications.
 *
 * <p>Start-up order: data directory → TLS material (CA created on first start, then reused) →
 * database and migrations → first admin when there is no user → notifier → HTTPS listener. A
 * failure at any step closes what was opened and throws a {@link HavenException}.
 * {@link #close()} stops the listener first, then drains the notifier, then closes the database.
 * Thread-safe.
 */
public final class HavenServer implements AutoCloseable {
    /** The user name of the admin created at first start. */
    public static final String FIRST_ADMIN = "admin";

    private final ServerConfig config;
    private final DataDirLock lock;
    private final ServerTls tls;
    private final Database db;
    private final Notifier notifier;
    private final Server jetty;
    private final ServerConnector connector;
    private final Router router;
    private final ControlPlane control;
    private final String generatedAdminPassword;
    private final boolean createdAdmin;
    private boolean closed;

    private HavenServer(ServerConfig config, DataDirLock lock, ServerTls tls, Database db, Notifier notifier, Server jetty,
            ServerConnector connector, Router router, ControlPlane control, boolean createdAdmin, String generatedAdminPassword) {
        this.control = control;
        this.config = config;
        this.lock = lock;
        this.tls = tls;
        this.db = db;
        this.notifier = notifier;
        this.jetty = jetty;
        this.connector = connector;
        this.router = router;
        this.createdAdmin = createdAdmin;
        this.generatedAdminPassword = generatedAdminPassword;
    }

    /**
     * Starts the server and returns once it accepts connections.
     *
     * @throws HavenException IO when the data directory, database or port cannot be used, BUSY
     *     when another server holds the embedded database
     */
    public static HavenServer start(ServerConfig config) {
        createDataDir(config.dataDir());
        DataDirLock lock = DataDirLock.acquire(config.dataDir());
        try {
            return start(config, lock);
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private static HavenServer start(ServerConfig config, DataDirLock lock) {
        ServerTls tls = ServerTls.loadOrCreate(config.dataDir().resolve("tls"), config.certificateHosts(), config.clock(),
                config.random());
        Database db = Database.open(config.database());
        Notifier notifier = null;
        ControlPlane control = null;
        Server jetty = null;
        try {
            PasswordHasher hasher = new PasswordHasher(config.passwords(), config.random());
            Users users = new Users(db.jdbi(), hasher, config.clock());
            // checked only when it would be used: a restart with HAVEN_ADMIN_PASSWORD still set (to anything) ignores it
            if (config.adminPassword() != null && config.adminPassword().length() < PasswordHasher.MIN_LENGTH && users.count() == 0) {
                throw new HavenException(ErrorCode.USAGE, "the first admin's password (HAVEN_ADMIN_PASSWORD) must have at least "
                        + PasswordHasher.MIN_LENGTH + " characters");
            }
            Tokens tokens = new Tokens(db.jdbi(), config.clock(), config.random());
            AuditLog audit = new AuditLog(db.jdbi(), config.clock());
            ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
            Metrics metrics = new Metrics(config.clock().millis());
            Endpoints endpoints = new Endpoints(db, users, tokens, audit, metrics, json, config.sessionTtl(), version(), config.clock());
            // payloads name the server by its URL, known once the port is bound
            AtomicReference<String> name = new AtomicReference<>("https://" + config.host() + ":" + config.port());
            notifier = new Notifier(db.jdbi(), config.clock(), Notifier.Settings.defaults(), name::get,
                    problem -> System.err.println("haven server: notifications: " + problem.getMessage()), version());
            control = ControlPlane.create(config, db, tls, json);
            control.addListener(new ControlNotifications(notifier, control));
            List<Route> routes = new ArrayList<>(endpoints.routes());
            routes.addAll(new NotificationEndpoints(notifier, json).routes());
            routes.addAll(control.routes());
            Router router = new Router(routes, tokens, control.agentEndpoints()::authenticate, audit, metrics, json, System::nanoTime);

            QueuedThreadPool threads = new QueuedThreadPool(64, 4);
            threads.setName("haven-http");
            // agents' task polls wait on the server for up to 30 s: on virtual threads, a thousand
            // waiting polls cost memory, not platform threads
            threads.setVirtualThreadsExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            jetty = new Server(threads);
            HttpConfiguration http = new HttpConfiguration();
            http.setSendServerVersion(false);
            http.setSendDateHeader(true);
            // Jetty's per-connection header cache is a 96 KiB table on every kept-alive connection;
            // a thousand agents keep about two connections each (task poll, heartbeats), which made
            // 190 MiB of the 256 MiB heap (bench/control-plane.sh). Headers are parsed afresh instead.
            http.setHeaderCacheSize(0);
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            secure.setSniHostCheck(false);
            http.addCustomizer(secure);
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setSslContext(tls.sslContext());
            ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
            // agents present a client certificate from our CA; users and browsers present none
            ssl.setWantClientAuth(true);
            ServerConnector connector = new ServerConnector(jetty, new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()),
                    new HttpConnectionFactory(http));
            connector.setHost(config.host().startsWith("[") ? config.host().substring(1, config.host().length() - 1) : config.host());
            connector.setPort(config.port());
            connector.setIdleTimeout(60_000);
            jetty.addConnector(connector);
            jetty.setHandler(control.handler(router));
            jetty.setStopTimeout(5_000);
            // the port first: a start that cannot listen must change nothing, or the first admin
            // would be made with a generated password nobody ever sees (the next start makes none)
            try {
                connector.open();
            } catch (Exception e) {
                throw new HavenException(ErrorCode.IO, "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
            }
            boolean createdAdmin = false;
            String generated = null;
            if (users.count() == 0) {
                String pw = config.adminPassword();
                if (pw == null) {
                    byte[] raw = new byte[18];
                    config.random().nextBytes(raw);
                    pw = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
                    generated = pw;
                }
                users.create(FIRST_ADMIN, pw.toCharArray(), Role.ADMIN);
                audit.record("haven server", "create first admin", "user:" + FIRST_ADMIN, "local", 201);
                createdAdmin = true;
            }
            try {
                jetty.start();
            } catch (Exception e) {
                if (createdAdmin) {
                    // nothing listens, so the password would be lost with this process: undo
                    users.deleteFirstAdmin(FIRST_ADMIN);
                    audit.record("haven server", "remove first admin (the start failed)", "user:" + FIRST_ADMIN, "local", 200);
                }
                throw new HavenException(ErrorCode.IO, "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
            }
            control.start();
            HavenServer server = new HavenServer(config, lock, tls, db, notifier, jetty, connector, router, control, createdAdmin, generated);
            name.set(server.uri().toString());
            return server;
        } catch (RuntimeException e) {
            // a start that failed stops quietly: the listener, then what runs on the database, then the database
            if (jetty != null) {
                try {
                    jetty.stop();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (control != null) {
                try {
                    control.stopPolls();
                    control.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (notifier != null) {
                notifier.close();
            }
            try {
                db.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Creates the data directory, readable only by its owner (mode 0700), when it does not exist;
     * an existing one is left as it is.
     */
    public static void createDataDir(java.nio.file.Path dir) {
        try {
            if (!java.nio.file.Files.isDirectory(dir)) {
                if (dir.getParent() != null) {
                    java.nio.file.Files.createDirectories(dir.getParent());
                }
                if (java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                    java.nio.file.Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
                } else {
                    java.nio.file.Files.createDirectory(dir);
                }
            }
        } catch (java.io.IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot create the data directory " + dir + ": " + e, e);
        }
    }

    /** The port the server listens on (the real one when the config asked for 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** {@code https://HOST:PORT} with the configured host ({@code localhost} for a wildcard). */
    public URI uri() {
        String h = ServerConfig.isWildcard(config.host()) ? "localhost" : config.host();
        if (h.contains(":") && !h.startsWith("[")) {
            h = "[" + h + "]";
        }
        return URI.create("https://" + h + ":" + port());
    }

    public ServerTls tls() {
        return tls;
    }

    public ServerConfig config() {
        return config;
    }

    /** The routes served (for documentation checks). */
    public Router router() {
        return router;
    }

    /** The control plane: agents, inventory, jobs, scheduler. */
    public ControlPlane control() {
        return control;
    }

    /**
     * Sends events to the notification channels; {@link Notifier#notify(io.haven.server.notify.Event)}
     * never blocks or throws.
     */
    public Notifier notifier() {
        return notifier;
    }

    /** Whether this start created the first admin. */
    public boolean createdFirstAdmin() {
        return createdAdmin;
    }

    /** The first admin's password when this start generated it (to be shown once). */
    public Optional<String> generatedAdminPassword() {
        return Optional.ofNullable(generatedAdminPassword);
    }

    /** Blocks until the server stops. */
    public void join() throws InterruptedException {
        jetty.join();
    }

    /** Stops the listener, drains the notifier, then closes the database. A second call does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        HavenException failure = null;
        control.stopPolls();
        try {
            jetty.stop();
        } catch (Exception e) {
            failure = new HavenException(ErrorCode.IO, "cannot stop the HTTPS listener: " + e.getMessage(), e);
        }
        control.close();
        notifier.close();
        try {
            db.close();
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = new HavenException(ErrorCode.IO, "cannot close the database: " + e.getMessage(), e);
            } else {
                failure.addSuppressed(e);
            }
        }
        lock.close();
        if (failure != null) {
            throw failure;
        }
    }

    static String version() {
        String v = HavenServer.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
