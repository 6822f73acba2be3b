package io.haven.cli.shop;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * Runs Haven's sample three-tier application ({@code examples/shop}) outside Haven, for tests:
 * a PostgreSQL cluster, {@code ShopApp} and {@code ShopWeb} as processes of the JDK that runs the
 * test, a BIND 9 {@code named} serving zone {@code shop.test.} with TSIG-signed dynamic updates,
 * and {@code ShopClient}. Everything it starts is stopped by {@link #close()}, newest first; logs
 * go to {@code WORK/logs}.
 *
 * <pre>{@code
 * Shop.assumeAvailable();
 * try (Shop shop = new Shop(tmp)) {
 *     Shop.Database db = shop.database(tmp.resolve("db"), "127.0.10.1", Shop.freePort("127.0.10.1"));
 *     Shop.Service app = shop.app("127.0.10.1", appPort, tmp.resolve("app"), db.address(), db.port());
 *     Shop.Service web = shop.web("127.0.10.1", webPort, app.address(), app.port());
 *     Shop.Dns dns = shop.dns("127.0.10.1");               // www.shop.test. -> 127.0.10.1
 *     List<Shop.Row> rows = shop.client(dns, webPort).write(20);
 * }
 * }</pre>
 *
 * <p>For a Haven DR test: {@link #plan(Map)} fills {@code shop-plan.yaml.template}, {@link #java()}
 * and {@link #jdbcJar()} are what its {@code ${JAVA}} and {@code ${PGJDBC}} need, {@link #dir()}
 * its {@code ${SHOP}}, and a {@link Dns} its {@code ${DNS}}, {@code ${TSIG_KEY}} and
 * {@code ${TSIG_SECRET}} ({@link Dns#secretReference()}).
 */
public final class Shop implements AutoCloseable {
    /** The shop's zone and name. */
    public static final String ZONE = "shop.test.";
    public static final String NAME = "www.shop.test.";
    /** The ports the plan template uses (all three tiers on one address per site). */
    public static final int DB_PORT = 5432;
    public static final int APP_PORT = 8081;
    public static final int WEB_PORT = 8080;

    private static final Duration START_WITHIN = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3)).build();

    private final Path work;
    private final Path logs;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();

    /** A shop whose logs (and the DNS server's files) go under {@code work}. */
    public Shop(Path work) throws IOException {
        this.work = work.toAbsolutePath();
        this.logs = Files.createDirectories(this.work.resolve("logs"));
    }

    // --- what is needed, and where it is

    /** {@code examples/shop}, absolute: system property {@code haven.shop.dir}, else found upwards from the working directory. */
    public static Path dir() {
        String p = System.getProperty("haven.shop.dir");
        if (p != null) {
            return Path.of(p).toAbsolutePath();
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("examples/shop/app/ShopApp.java"))) {
                return d.resolve("examples/shop");
            }
        }
        throw new IllegalStateException("examples/shop not found above " + Path.of("").toAbsolutePath() + " (set -Dhaven.shop.dir)");
    }

    /** The {@code java} binary of the JVM running the test (21 or newer, as the shop needs). */
    public static Path java() {
        return ProcessHandle.current().info().command().map(Path::of)
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
    }

    /**
     * The PostgreSQL JDBC driver jar: the one on the test's class path (haven-server's version,
     * from the local Maven repository), else {@code ~/.m2/repository/org/postgresql/postgresql/V/}.
     */
    public static Path jdbcJar() {
        try {
            Class<?> driver = Class.forName("org.postgresql.Driver");
            var source = driver.getProtectionDomain().getCodeSource();
            if (source != null) {
                Path p = Path.of(source.getLocation().toURI());
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
        } catch (ClassNotFoundException | URISyntaxException e) {
            // look in the local repository
        }
        Path repo = Path.of(System.getProperty("user.home"), ".m2/repository/org/postgresql/postgresql");
        try (Stream<Path> s = Files.list(repo)) {
            return s.map(v -> v.resolve("postgresql-" + v.getFileName() + ".jar")).filter(Files::isRegularFile)
                    .max(Path::compareTo).orElseThrow(() -> new IllegalStateException("no PostgreSQL JDBC jar in " + repo));
        } catch (IOException e) {
            throw new IllegalStateException("no PostgreSQL JDBC jar: " + e, e);
        }
    }

    /** The newest {@code /usr/lib/postgresql/N/bin}, or null. */
    public static Path postgresBin() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return null;
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.resolve("bin")).filter(p -> Files.isExecutable(p.resolve("pg_ctl")))
                    .max((a, b) -> Integer.compare(version(a), version(b))).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static int version(Path bin) {
        String v = bin.getParent().getFileName().toString();
        return v.matches("\\d+") ? Integer.parseInt(v) : 0;
    }

    /** The {@code named} binary, or null. */
    public static Path named() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/usr/local/sbin", "/sbin"));
        for (String d : dirs) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "named"))) {
                return Path.of(d, "named");
            }
        }
        return null;
    }

    /** Skips the calling test unless PostgreSQL's binaries and BIND 9's {@code named} are installed. */
    public static void assumeAvailable() {
        Assumptions.assumeTrue(postgresBin() != null, "PostgreSQL is not installed (/usr/lib/postgresql/N/bin), so the shop test"
                + " is skipped: apt-get install -y postgresql");
        Assumptions.assumeTrue(named() != null, "BIND 9 (named) is not installed, so the shop test is skipped:"
                + " apt-get install -y bind9 bind9-dnsutils");
    }

    /** A TCP port free on {@code address} just now. */
    public static int freePort(String address) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(address))) {
            return s.getLocalPort();
        }
    }

    /**
     * {@code shop-plan.yaml.template} with its upper-case placeholders ({@code ${SITE_A}}…) replaced (the
     * lower-case ones are the process driver's and stay). A placeholder without a value, or a
     * value for no placeholder, is an error.
     */
    public static String plan(Map<String, String> values) throws IOException {
        String template = Files.readString(dir().resolve("shop-plan.yaml.template"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)}").matcher(template);
        StringBuilder out = new StringBuilder();
        Set<String> missing = new TreeSet<>();
        Set<String> used = new TreeSet<>();
        while (m.find()) {
            String v = values.get(m.group(1));
            if (v == null) {
                missing.add(m.group(1));
                v = m.group();
            }
            used.add(m.group(1));
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        Set<String> unused = new TreeSet<>(values.keySet());
        unused.removeAll(used);
        if (!missing.isEmpty() || !unused.isEmpty()) {
            throw new IllegalArgumentException("shop-plan.yaml.template: no value for " + missing + "; no placeholder for " + unused);
        }
        return out.toString();
    }

    // --- starting the tiers

    /**
     * A PostgreSQL cluster in {@code dataDir} (created with {@code initdb}, role {@code haven},
     * trust on loopback, when the directory is missing or empty) listening on {@code address:port}
     * with Unix sockets off, as Haven's postgres driver runs it. As root it runs as {@code postgres}.
     */
    public Database database(Path dataDir, String address, int port) throws Exception {
        Database db = new Database(dataDir.toAbsolutePath(), address, port, Files.createDirectories(logs.resolve("postgres-" + address + "-" + port)));
        db.init();
        db.start();
        started.push(db);
        return db;
    }

    /**
     * Only the {@code initdb} part of {@link #database}: a new cluster in {@code dataDir} (role
     * {@code haven}, trust on loopback, replication allowed from loopback), not started and not
     * stopped by {@link #close()}. For a cluster that Haven's postgres driver is to run: the
     * driver ignores its {@code initdb} option (a DR copy's cluster always comes from its primary).
     */
    public Database initDatabase(Path dataDir, String address, int port) throws Exception {
        Database db = new Database(dataDir.toAbsolutePath(), address, port, Files.createDirectories(logs.resolve("postgres-" + address + "-" + port)));
        db.init();
        return db;
    }

    /** {@code ShopApp} on {@code address:port} with its data in {@code dataDir} and the database at {@code dbHost:dbPort}. */
    public Service app(String address, int port, Path dataDir, String dbHost, int dbPort) throws Exception {
        List<String> cmd = List.of(java().toString(), "-XX:+UseSerialGC", "-Xmx256m", "-cp", jdbcJar().toString(),
                dir().resolve("app/ShopApp.java").toString(), "--listen", address + ":" + port, "--data", dataDir.toAbsolutePath().toString(),
                "--db", dbHost + ":" + dbPort);
        return service("app", address, port, cmd);
    }

    /** {@code ShopWeb} on {@code address:port} in front of the application at {@code appHost:appPort}, serving {@code web/root}. */
    public Service web(String address, int port, String appHost, int appPort) throws Exception {
        List<String> cmd = List.of(java().toString(), "-XX:+UseSerialGC", "-Xmx256m", dir().resolve("web/ShopWeb.java").toString(),
                "--listen", address + ":" + port, "--app", appHost + ":" + appPort, "--root", dir().resolve("web/root").toString());
        return service("web", address, port, cmd);
    }

    private Service service(String kind, String address, int port, List<String> cmd) throws Exception {
        Service s = new Service(kind, address, port, cmd, logs.resolve(kind + "-" + address + "-" + port + ".log"));
        s.start();
        started.push(s);
        return s;
    }

    /** A {@code named} on 127.0.0.1 (a free port) with zone {@code shop.test.}: {@code www} → {@code wwwAddress}, TTL 5 s. */
    public Dns dns(String wwwAddress) throws Exception {
        Dns d = Dns.start(Files.createDirectories(work.resolve("dns-" + System.nanoTime())), wwwAddress);
        started.push(d);
        return d;
    }

    /** The client, asking {@code dns} for {@link #NAME} and talking to the web front on {@code webPort}. */
    public Client client(Dns dns, int webPort) {
        return new Client(dns.server(), NAME, webPort);
    }

    /** Stops everything this shop started, newest first; the first failure is thrown after all were tried. */
    @Override
    public void close() throws Exception {
        Exception first = null;
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    // --- HTTP for tests

    /** An HTTP answer. */
    public record Http(int status, String body) {
    }

    /** GET {@code url}; status 0 (and the exception as the body) when nothing answers. */
    public static Http get(String url) throws InterruptedException {
        return send("GET", url, null);
    }

    /** A request with an optional text body; status 0 when nothing answers. */
    public static Http send(String method, String url, String body) throws InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Http(r.statusCode(), r.body());
        } catch (IOException e) {
            return new Http(0, e.toString());
        }
    }

    /** Waits until GET {@code url} answers {@code status}; fails with the last answer otherwise. */
    public static Http awaitStatus(String url, int status, Duration within) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        Http last;
        do {
            last = get(url);
            if (last.status() == status) {
                return last;
            }
            Thread.sleep(200);
        } while (System.nanoTime() - end < 0);
        throw new AssertionError("GET " + url + " did not answer " + status + " within " + within + "; last: " + last);
    }

    // --- the parts

    /** A PostgreSQL cluster run with {@code pg_ctl}, as Haven's postgres driver does. */
    public static final class Database implements AutoCloseable {
        private final Path dir;
        private final String address;
        private final int port;
        private final Path logDir;
        private final Path bin;
        private final boolean asPostgres;

        Database(Path dir, String address, int port, Path logDir) {
            this.dir = dir;
            this.address = address;
            this.port = port;
            this.logDir = logDir;
            this.bin = postgresBin();
            if (bin == null) {
                throw new IllegalStateException("PostgreSQL is not installed");
            }
            this.asPostgres = "root".equals(System.getProperty("user.name"));
        }

        public String address() {
            return address;
        }

        public int port() {
            return port;
        }

        public Path dir() {
            return dir;
        }

        void init() throws Exception {
            Files.createDirectories(dir);
            if (asPostgres) {
                traversable(dir.getParent());
                traversable(logDir.getParent());
                exec(List.of("chown", "postgres", dir.toString(), logDir.toString()));
            }
            exec(List.of("chmod", "700", dir.toString()));
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    return;
                }
            }
            exec(asUser(bin.resolve("initdb").toString(), "-D", dir.toString(), "-U", "haven", "--auth=trust", "-E", "UTF8",
                    "--no-instructions"));
            Files.writeString(dir.resolve("pg_hba.conf"), "\n# written by the shop test\nhost all all 127.0.0.0/8 trust\n"
                    + "host replication all 127.0.0.0/8 trust\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        }

        /** Starts it (pg_ctl start -w); nothing when it runs. */
        public void start() throws Exception {
            if (running()) {
                return;
            }
            exec(asUser(bin.resolve("pg_ctl").toString(), "-D", dir.toString(), "-l", logDir.resolve("postgres.log").toString(),
                    "-o", "-c port=" + port + " -c listen_addresses=" + address + " -c unix_socket_directories=''", "-w", "-t", "120",
                    "start"));
        }

        /** Stops it (pg_ctl stop -m fast); nothing when it is stopped. */
        public void stop() throws Exception {
            if (running()) {
                exec(asUser(bin.resolve("pg_ctl").toString(), "-D", dir.toString(), "-m", "fast", "-w", "-t", "60", "stop"));
            }
        }

        public boolean running() throws Exception {
            return Files.exists(dir.resolve("postmaster.pid"))
                    && run(asUser(bin.resolve("pg_ctl").toString(), "-D", dir.toString(), "status")).exit() == 0;
        }

        /** A new JDBC connection as {@code haven} to database {@code postgres}. */
        public Connection connect() throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", "haven");
            p.setProperty("connectTimeout", "5");
            return DriverManager.getConnection("jdbc:postgresql://" + address + ":" + port + "/postgres", p);
        }

        /** The first column of the first row of a query, as text (null for no row). */
        public String queryOne(String sql) throws SQLException {
            try (Connection c = connect(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
                return r.next() ? r.getString(1) : null;
            }
        }

        public String log() throws IOException {
            Path l = logDir.resolve("postgres.log");
            return Files.exists(l) ? Files.readString(l) : "";
        }

        @Override
        public void close() throws Exception {
            stop();
        }

        private List<String> asUser(String... cmd) {
            List<String> full = new ArrayList<>();
            if (asPostgres) {
                full.addAll(List.of("runuser", "-u", "postgres", "--"));
            }
            full.addAll(List.of(cmd));
            return full;
        }

        /** Lets others (the postgres user) traverse every directory from {@code d} up that this user owns. */
        private static void traversable(Path d) throws IOException {
            for (Path p = d; p != null; p = p.getParent()) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
                if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE)
                        && Files.getOwner(p).getName().equals(System.getProperty("user.name"))) {
                    perms.add(PosixFilePermission.OTHERS_EXECUTE);
                    Files.setPosixFilePermissions(p, perms);
                }
            }
        }
    }

    /** {@code ShopApp} or {@code ShopWeb}: a process of the test's JDK running the single source file. */
    public static final class Service implements AutoCloseable {
        private final String kind;
        private final String address;
        private final int port;
        private final List<String> command;
        private final Path log;
        private Process process;

        Service(String kind, String address, int port, List<String> command, Path log) {
            this.kind = kind;
            this.address = address;
            this.port = port;
            this.command = command;
            this.log = log;
        }

        /** Starts it (again, after a stop) and waits until its port accepts connections. */
        public void start() throws Exception {
            if (alive()) {
                return;
            }
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            process.getOutputStream().close();
            long end = System.nanoTime() + START_WITHIN.toNanos();
            while (System.nanoTime() - end < 0) {
                if (!process.isAlive()) {
                    throw new AssertionError(kind + " exited with " + process.exitValue() + ":\n" + log());
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(address, port), 500);
                    return;
                } catch (IOException e) {
                    Thread.sleep(100);
                }
            }
            process.destroyForcibly();
            throw new AssertionError(kind + " did not listen on " + address + ":" + port + " within " + START_WITHIN + ":\n" + log());
        }

        /** SIGTERM, then SIGKILL after 10 s. */
        public void stop() throws InterruptedException {
            if (process == null) {
                return;
            }
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }

        /** SIGKILL, as a crash. */
        public void kill() throws InterruptedException {
            if (process != null) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }

        public boolean alive() {
            return process != null && process.isAlive();
        }

        public String address() {
            return address;
        }

        public int port() {
            return port;
        }

        /** {@code http://ADDRESS:PORT} */
        public String url() {
            return "http://" + address + ":" + port;
        }

        public List<String> command() {
            return command;
        }

        public String log() throws IOException {
            return Files.exists(log) ? Files.readString(log) : "";
        }

        /** Waits until its /health answers 200. */
        public void awaitHealthy(Duration within) throws InterruptedException {
            awaitStatus(url() + "/health", 200, within);
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }

    /**
     * BIND 9 on 127.0.0.1 at a free port, primary for {@code shop.test.} with dynamic updates
     * allowed for one TSIG key (hmac-sha256, random secret; named {@code haven-dr}). The secret is
     * also in a file, for a plan's {@code secret: file:PATH}.
     */
    public static final class Dns implements AutoCloseable {
        public static final String KEY = "haven-dr";
        private final Path dir;
        private final String secret;
        private Process process;
        private int port;

        private Dns(Path dir, String secret) {
            this.dir = dir;
            this.secret = secret;
        }

        static Dns start(Path dir, String wwwAddress) throws Exception {
            Path named = named();
            if (named == null) {
                throw new IllegalStateException("named is not installed");
            }
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            Dns d = new Dns(dir, Base64.getEncoder().encodeToString(b));
            Files.writeString(dir.resolve("tsig.key"), d.secret + "\n");
            Files.writeString(dir.resolve("shop.test.zone"), "$TTL 5\n"
                    + "@ IN SOA ns.shop.test. hostmaster.shop.test. 1 3600 600 86400 5\n"
                    + "@ IN NS ns.shop.test.\n"
                    + "ns IN A 127.0.0.1\n"
                    + "www IN A " + wwwAddress + "\n");
            Files.writeString(dir.resolve("named.conf"), "options {\n"
                    + "  directory \"" + dir + "\";\n"
                    + "  listen-on { 127.0.0.1; };\n"
                    + "  listen-on-v6 { none; };\n"
                    + "  pid-file none;\n"
                    + "  session-keyfile none;\n"
                    + "  managed-keys-directory \"" + dir + "\";\n"
                    + "  recursion no;\n"
                    + "  notify no;\n"
                    + "  dnssec-validation no;\n"
                    + "};\n"
                    + "controls { };\n"
                    + "key \"" + KEY + "\" { algorithm hmac-sha256; secret \"" + d.secret + "\"; };\n"
                    + "zone \"shop.test\" { type primary; file \"" + dir.resolve("shop.test.zone") + "\";"
                    + " update-policy { grant " + KEY + " zonesub ANY; }; };\n");
            Path log = dir.resolve("named.log");
            String last = "";
            for (int attempt = 0; attempt < 5; attempt++) {
                d.port = freeUdpTcpPort();
                d.process = new ProcessBuilder(named.toString(), "-g", "-4", "-n", "1", "-c", dir.resolve("named.conf").toString(),
                        "-p", String.valueOf(d.port)).directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                if (d.awaitAnswer(Duration.ofSeconds(30))) {
                    return d;
                }
                d.stop();
                last = Files.readString(log);
                if (!last.contains("address in use")) {
                    break;
                }
            }
            throw new AssertionError("named did not start:\n" + last);
        }

        private boolean awaitAnswer(Duration within) throws InterruptedException {
            long end = System.nanoTime() + within.toNanos();
            while (System.nanoTime() - end < 0 && process.isAlive()) {
                try {
                    Message a = send(Message.newQuery(Record.newRecord(Name.fromString(ZONE), Type.SOA, DClass.IN)));
                    if (a.getRcode() == Rcode.NOERROR && a.getHeader().getFlag(Flags.AA)) {
                        return true;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(50);
            }
            return false;
        }

        private static int freeUdpTcpPort() throws IOException {
            for (int i = 0; i < 50; i++) {
                try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                        DatagramSocket u = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort()))) {
                    return s.getLocalPort();
                } catch (IOException e) {
                    // the UDP port is taken
                }
            }
            throw new IOException("no port free for both TCP and UDP on 127.0.0.1");
        }

        private Message send(Message m) throws IOException {
            SimpleResolver r = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            r.setTCP(true);
            r.setTimeout(Duration.ofSeconds(3));
            return r.send(m);
        }

        /** {@code 127.0.0.1:PORT}, the plan's {@code ${DNS}} and the client's {@code --dns}. */
        public String server() {
            return "127.0.0.1:" + port;
        }

        public int port() {
            return port;
        }

        /** The TSIG key's name, the plan's {@code ${TSIG_KEY}}. */
        public String keyName() {
            return KEY;
        }

        /** The key's base64 secret. */
        public String secret() {
            return secret;
        }

        /** {@code file:DIR/tsig.key}, the plan's {@code ${TSIG_SECRET}}. */
        public String secretReference() {
            return "file:" + dir.resolve("tsig.key");
        }

        /** The A records of {@code name} as the server answers a plain query (no TSIG, no recursion). */
        public List<String> addresses(String name) throws IOException {
            Name n = Name.fromString(name.endsWith(".") ? name : name + ".");
            Message q = Message.newQuery(Record.newRecord(n, Type.A, DClass.IN));
            q.getHeader().unsetFlag(Flags.RD);
            List<String> out = new ArrayList<>();
            for (Record r : send(q).getSection(Section.ANSWER)) {
                if (r instanceof ARecord a && a.getName().equals(n)) {
                    out.add(a.getAddress().getHostAddress());
                }
            }
            return out;
        }

        /** Replaces the A records of {@code name} (in the zone) with one, TTL 5 s, by a TSIG-signed update. */
        public void setAddress(String name, String address) throws IOException {
            Name n = Name.fromString(name.endsWith(".") ? name : name + ".");
            Update u = new Update(Name.fromString(ZONE));
            u.replace(n, Type.A, 5, address);
            SimpleResolver r = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            r.setTCP(true);
            r.setTimeout(Duration.ofSeconds(5));
            r.setTSIGKey(new TSIG(TSIG.HMAC_SHA256, KEY + ".", secret));
            Message a = r.send(u);
            if (a.getRcode() != Rcode.NOERROR) {
                throw new IOException("update of " + n + " answered " + Rcode.string(a.getRcode()));
            }
        }

        public String log() throws IOException {
            return Files.readString(dir.resolve("named.log"));
        }

        /** SIGTERM, then SIGKILL after 10 s. */
        public void stop() throws InterruptedException {
            if (process != null) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }

    /** A record as the client prints it. */
    public record Row(long id, String body) {
        public String line() {
            return id + "\t" + body;
        }
    }

    /** {@code ShopClient} run as a process of the test's JDK. */
    public static final class Client {
        private final String dns;
        private final String name;
        private final int port;

        public Client(String dns, String name, int port) {
            this.dns = dns;
            this.name = name;
            this.port = port;
        }

        /** What a run printed and returned. */
        public record Result(int exit, String out, String err) {
            public Result expect(int code) {
                if (exit != code) {
                    throw new AssertionError("ShopClient: expected exit " + code + " but got " + exit + "\nstdout:\n" + out
                            + "\nstderr:\n" + err);
                }
                return this;
            }
        }

        /** Runs the client with these options and command (after --dns, --name and --port). */
        public Result run(String... args) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of(java().toString(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    dir().resolve("client/ShopClient.java").toString(), "--dns", dns, "--name", name, "--port", String.valueOf(port)));
            cmd.addAll(List.of(args));
            Path out = Files.createTempFile("shop-client", ".out");
            Path err = Files.createTempFile("shop-client", ".err");
            try {
                Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                p.getOutputStream().close();
                if (!p.waitFor(10, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new AssertionError("ShopClient " + List.of(args) + " still running after 10 minutes");
                }
                return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        }

        /** {@code write N}: the acknowledged records, in order; fails unless it exits 0. */
        public List<Row> write(int n, String... options) throws IOException, InterruptedException {
            List<String> args = new ArrayList<>(List.of(options));
            args.addAll(List.of("write", String.valueOf(n)));
            return rows(run(args.toArray(String[]::new)).expect(0).out());
        }

        /** {@code read}: every record; fails unless it exits 0. */
        public List<Row> read() throws IOException, InterruptedException {
            return rows(run("read").expect(0).out());
        }

        /** {@code resolve}: the address the name has now. */
        public String resolve() throws IOException, InterruptedException {
            return run("resolve").expect(0).out().strip();
        }

        /** {@code check-ids FILE} with these rows written to a temporary file. */
        public Result checkIds(List<Row> rows) throws IOException, InterruptedException {
            Path f = Files.createTempFile("shop-ids", ".txt");
            try {
                Files.write(f, rows.stream().map(Row::line).toList(), StandardCharsets.UTF_8);
                return run("check-ids", f.toString());
            } finally {
                Files.deleteIfExists(f);
            }
        }

        /** Parses "ID<TAB>TEXT" lines. */
        public static List<Row> rows(String text) {
            List<Row> rows = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                int tab = line.indexOf('\t');
                if (tab <= 0) {
                    throw new AssertionError("not an ID<TAB>TEXT line: " + line);
                }
                rows.add(new Row(Long.parseLong(line.substring(0, tab)), line.substring(tab + 1)));
            }
            return rows;
        }

        /** Rows by id. */
        public static Map<Long, String> byId(List<Row> rows) {
            Map<Long, String> m = new LinkedHashMap<>();
            rows.forEach(r -> m.put(r.id(), r.body()));
            return m;
        }
    }

    private static void exec(List<String> cmd) throws Exception {
        ExecResult r = run(cmd);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed (" + r.exit() + "):\n" + r.output());
        }
    }

    private record ExecResult(int exit, String output) {
    }

    private static ExecResult run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return new ExecResult(-1, out + "\n(timed out)");
        }
        return new ExecResult(p.exitValue(), out);
    }
}
