/*
 * Haven's sample application, tier 2 of 3: the application service of the "shop".
 *
 * A single-file Java 21 program (no build): run it with the PostgreSQL JDBC driver on the class path,
 *
 *   java -cp postgresql-42.7.14.jar ShopApp.java --listen 127.0.10.1:8081 --data /srv/shop/app \
 *        --db 127.0.10.1:5432 [--db-user haven] [--db-name postgres]
 *
 * It keeps records in PostgreSQL (table `records`, created when missing) and, for each record, an
 * attachment file DATA/attachments/ID.txt with the same text, so that a DR test can check both a
 * database and a plain volume. HTTP (text/plain, UTF-8):
 *
 *   GET  /health           200 "ok\n" when the database answers SELECT 1, else 503 and the reason
 *   POST /records          body = the record's text (no tab, CR or LF); 201 "ID\n" once the row is
 *                          committed and the attachment is on disk (written to a temporary file,
 *                          fsynced, renamed, directory fsynced); 400 for a bad body, 503 when the
 *                          database fails
 *   GET  /records          200, every record as "ID<TAB>TEXT\n", by id
 *   GET  /records/ID       200 the record's text, 404 when there is none
 *   GET  /attachments/ID   200 the attachment's content, 404 when there is none
 *   GET  /info             200 "key<TAB>value" lines: listen address, database, data directory,
 *                          and whether the database is a standby (in recovery)
 *
 * Database connections are pooled: an idle connection is checked before it is used, and one that
 * fails is dropped, so the service reconnects by itself after the database restarts or moves.
 * SIGTERM stops it (the HTTP server, then the connections).
 */

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

public class ShopApp {
    static final String USAGE = "usage: java -cp POSTGRESQL_JAR ShopApp.java --listen ADDR:PORT --data DIR --db HOST:PORT"
            + " [--db-user USER] [--db-name NAME]";

    final String jdbcUrl;
    final Properties dbProps = new Properties();
    final String dbAddress;
    final Path data;
    final Path attachments;
    final String listen;
    final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
    volatile boolean closed;

    ShopApp(String listen, Path data, String db, String user, String name) {
        this.listen = listen;
        this.data = data;
        this.attachments = data.resolve("attachments");
        this.dbAddress = db;
        String[] hp = hostPort(db, "--db");
        String host = hp[0].contains(":") ? "[" + hp[0] + "]" : hp[0];
        this.jdbcUrl = "jdbc:postgresql://" + host + ":" + hp[1] + "/" + name;
        dbProps.setProperty("user", user);
        dbProps.setProperty("connectTimeout", "3");
        dbProps.setProperty("socketTimeout", "15");
        dbProps.setProperty("loginTimeout", "5");
        dbProps.setProperty("tcpKeepAlive", "true");
        dbProps.setProperty("ApplicationName", "haven-shop-app");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = options(args, "--listen", "--data", "--db", "--db-user", "--db-name");
        for (String required : new String[] {"--listen", "--data", "--db"}) {
            if (!o.containsKey(required)) {
                fail("missing " + required);
            }
        }
        String[] listen = hostPort(o.get("--listen"), "--listen");
        ShopApp app = new ShopApp(o.get("--listen"), Path.of(o.get("--data")).toAbsolutePath(), o.get("--db"),
                o.getOrDefault("--db-user", "haven"), o.getOrDefault("--db-name", "postgres"));
        Files.createDirectories(app.attachments);

        HttpServer server = HttpServer.create(new InetSocketAddress(listen[0], Integer.parseInt(listen[1])), 64);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        server.setExecutor(pool);
        server.createContext("/", app::handle);
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop(1);
            pool.shutdown();
            app.close();
            System.out.println(Instant.now() + " stopped");
        }));
        System.out.println(Instant.now() + " ShopApp listening on http://" + app.listen + " (database " + app.jdbcUrl
                + ", data " + app.data + ")");
    }

    // --- HTTP

    void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getPath();
            try {
                if (path.equals("/health")) {
                    requireMethod(ex, "GET", "HEAD");
                    health(ex);
                } else if (path.equals("/records")) {
                    if (method.equals("POST")) {
                        create(ex);
                    } else {
                        requireMethod(ex, "GET");
                        list(ex);
                    }
                } else if (path.startsWith("/records/")) {
                    requireMethod(ex, "GET");
                    one(ex, id(path.substring("/records/".length())));
                } else if (path.startsWith("/attachments/")) {
                    requireMethod(ex, "GET");
                    attachment(ex, id(path.substring("/attachments/".length())));
                } else if (path.equals("/info")) {
                    requireMethod(ex, "GET");
                    info(ex);
                } else {
                    send(ex, 404, "no such resource: " + path + "\n");
                }
            } catch (HttpError e) {
                send(ex, e.status, e.getMessage() + "\n");
            } catch (SQLException e) {
                send(ex, 503, "database: " + e.getMessage() + "\n");
            } catch (RuntimeException e) {
                send(ex, 500, e + "\n");
            }
        }
    }

    void health(HttpExchange ex) throws IOException, SQLException {
        query(c -> {
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
                r.next();
                return r.getInt(1);
            }
        });
        send(ex, 200, "ok\n");
    }

    void create(HttpExchange ex) throws IOException, SQLException {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        if (body.isEmpty()) {
            throw new HttpError(400, "the record's text (the request body) is empty");
        }
        if (body.indexOf('\t') >= 0 || body.indexOf('\n') >= 0 || body.indexOf('\r') >= 0 || body.indexOf('\0') >= 0) {
            throw new HttpError(400, "the record's text may not contain a tab, CR, LF or NUL");
        }
        long id = query(c -> {
            c.setAutoCommit(false);
            try {
                long newId;
                try (PreparedStatement s = c.prepareStatement("WITH n AS (SELECT nextval(pg_get_serial_sequence('public.records', 'id')) AS id)"
                        + " INSERT INTO records(id, body, attachment) SELECT id, ?, 'attachments/' || id || '.txt' FROM n RETURNING id")) {
                    s.setString(1, body);
                    try (ResultSet r = s.executeQuery()) {
                        r.next();
                        newId = r.getLong(1);
                    }
                }
                // the file first, then the commit: a committed record always has its attachment
                // (a crash in between leaves at most a file without a record)
                writeAtomically(attachments.resolve(newId + ".txt"), body);
                c.commit();
                return newId;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is dropped anyway
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
        ex.getResponseHeaders().set("Location", "/records/" + id);
        send(ex, 201, id + "\n");
    }

    void list(HttpExchange ex) throws IOException, SQLException {
        String all = query(c -> {
            StringBuilder b = new StringBuilder();
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT id, body FROM records ORDER BY id")) {
                while (r.next()) {
                    b.append(r.getLong(1)).append('\t').append(r.getString(2)).append('\n');
                }
            }
            return b.toString();
        });
        send(ex, 200, all);
    }

    void one(HttpExchange ex, long id) throws IOException, SQLException {
        String body = query(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT body FROM records WHERE id = ?")) {
                s.setLong(1, id);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getString(1) : null;
                }
            }
        });
        if (body == null) {
            throw new HttpError(404, "no record " + id);
        }
        send(ex, 200, body);
    }

    void attachment(HttpExchange ex, long id) throws IOException {
        byte[] content;
        try {
            content = Files.readAllBytes(attachments.resolve(id + ".txt"));
        } catch (NoSuchFileException e) {
            throw new HttpError(404, "no attachment " + id);
        }
        send(ex, 200, content);
    }

    void info(HttpExchange ex) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("listen", listen);
        m.put("database", dbAddress);
        m.put("data", data.toString());
        try {
            boolean standby = query(c -> {
                try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT pg_is_in_recovery()")) {
                    r.next();
                    return r.getBoolean(1);
                }
            });
            m.put("standby", String.valueOf(standby));
        } catch (SQLException e) {
            m.put("standby", "unknown (" + e.getMessage().replace('\n', ' ') + ")");
        }
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(k).append('\t').append(v).append('\n'));
        send(ex, 200, b.toString());
    }

    static void requireMethod(HttpExchange ex, String... allowed) {
        for (String a : allowed) {
            if (a.equals(ex.getRequestMethod())) {
                return;
            }
        }
        ex.getResponseHeaders().set("Allow", String.join(", ", allowed));
        throw new HttpError(405, ex.getRequestMethod() + " is not allowed here");
    }

    static long id(String text) {
        if (!text.matches("[0-9]{1,18}")) {
            throw new HttpError(404, "not a record id: " + text);
        }
        return Long.parseLong(text);
    }

    static void send(HttpExchange ex, int status, String text) throws IOException {
        send(ex, status, text.getBytes(StandardCharsets.UTF_8));
    }

    static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    static final class HttpError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        HttpError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    // --- files

    /** Writes a temporary file beside the target, fsyncs it, renames it over the target, fsyncs the directory. */
    static void writeAtomically(Path target, String text) {
        Path dir = target.getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + target + ": " + e, e);
        }
    }

    // --- database

    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs the work on a pooled connection; a connection that fails is closed, never reused. */
    <T> T query(Work<T> work) throws SQLException {
        Connection c = borrow();
        boolean ok = false;
        try {
            T result = work.run(c);
            ok = true;
            return result;
        } finally {
            if (ok && !closed) {
                idle.push(c);
            } else {
                quietClose(c);
            }
        }
    }

    /** An idle connection that still answers, or a new one (with the table created when missing). */
    Connection borrow() throws SQLException {
        for (Connection c = idle.poll(); c != null; c = idle.poll()) {
            try {
                if (c.isValid(2)) {
                    return c;
                }
            } catch (SQLException e) {
                // dropped below
            }
            quietClose(c);
        }
        Connection c = DriverManager.getConnection(jdbcUrl, dbProps);
        try {
            ensureSchema(c);
            return c;
        } catch (SQLException | RuntimeException e) {
            quietClose(c);
            throw e;
        }
    }

    static void ensureSchema(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT to_regclass('public.records') IS NOT NULL")) {
            r.next();
            if (r.getBoolean(1)) {
                return; // also the only way on a read-only standby
            }
        }
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS public.records (id bigserial PRIMARY KEY, body text NOT NULL, attachment text,"
                    + " created_at timestamptz DEFAULT now())");
        } catch (SQLException e) {
            // two connections creating it at once: fine when it is there now
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT to_regclass('public.records') IS NOT NULL")) {
                r.next();
                if (!r.getBoolean(1)) {
                    throw e;
                }
            }
        }
    }

    void close() {
        closed = true;
        for (Connection c = idle.poll(); c != null; c = idle.poll()) {
            quietClose(c);
        }
    }

    static void quietClose(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing to do
        }
    }

    // --- command line

    static Map<String, String> options(String[] args, String... known) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println(USAGE);
                System.exit(0);
            }
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (!java.util.List.of(known).contains(a)) {
                fail("unknown argument " + args[i]);
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    fail(a + " needs a value");
                }
                value = args[++i];
            }
            o.put(a, value);
        }
        return o;
    }

    /** HOST:PORT or [IPv6]:PORT as {host, port}. */
    static String[] hostPort(String text, String option) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || !text.substring(colon + 1).matches("[0-9]{1,5}")) {
            fail(option + " must be HOST:PORT, not " + text);
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new String[] {host, text.substring(colon + 1)};
    }

    static void fail(String message) {
        System.err.println("ShopApp: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }

    static {
        // answer small requests without Nagle's delay (read when the HTTP server class loads)
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }
}
