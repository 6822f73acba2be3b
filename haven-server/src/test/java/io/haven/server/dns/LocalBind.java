package io.haven.server.dns;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * The machine's BIND 9 ({@code named}), started for a test in the foreground on 127.0.0.1 at a
 * free port, from a {@code named.conf} and zone files written into a temporary directory that
 * {@link #close()} removes. No control channel (rndc), no recursion, no IPv6, one worker thread.
 * It runs as the user running the tests (root in CI: named then needs no {@code -u}, and writes
 * its journals in the temporary directory).
 *
 * <p>Tests call {@link #assumeAvailable()} first: without {@code named} they are skipped with a
 * message that says what to install ({@code .ci/run} installs it when it can).
 */
public final class LocalBind implements AutoCloseable {
    /** A TSIG key in the server's configuration (always hmac-sha256). */
    public record Key(String name, String secret) {
        /** A key with a fresh random 256-bit secret, as {@code tsig-keygen} makes. */
        public static Key random(String name) {
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            return new Key(name, Base64.getEncoder().encodeToString(b));
        }

        public TsigKey tsig() {
            return new TsigKey(name, "hmac-sha256", secret);
        }
    }

    /**
     * A primary zone.
     *
     * @param name the zone's name, without the final dot
     * @param updatePolicy the body of its {@code update-policy { ... };} statement, such as
     *     {@code grant haven zonesub ANY;}; null for no dynamic updates
     * @param records zone-file lines after the SOA and NS records that are written for it
     *     (names relative to the zone)
     */
    public record Zone(String name, String updatePolicy, String records) {
    }

    /** An RRset as a query without recursion shows it: values (canonical, {@link RecordType#canonical}) and TTL. */
    public record Answer(List<String> values, long ttl) {
    }

    private final Path dir;
    private final Process process;
    private final int port;

    private LocalBind(Path dir, Process process, int port) {
        this.dir = dir;
        this.process = process;
        this.port = port;
    }

    /** The {@code named} binary, on PATH or in the usual sbin directories; null when not installed. */
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

    /** Skips the calling test when {@code named} is not installed. */
    public static void assumeAvailable() {
        Assumptions.assumeTrue(named() != null, "BIND 9 (named) is not installed, so the DNS tests are skipped:"
                + " apt-get install -y bind9 bind9-dnsutils (.ci/run does it when it runs as root)");
    }

    /** Starts a server with these keys and zones and waits until it answers for each zone. */
    public static LocalBind start(List<Key> keys, List<Zone> zones) throws Exception {
        Path named = named();
        if (named == null) {
            throw new IllegalStateException("named is not installed");
        }
        Path dir = Files.createTempDirectory("haven-bind");
        StringBuilder conf = new StringBuilder();
        conf.append("options {\n")
                .append("  directory \"").append(dir).append("\";\n")
                .append("  listen-on { 127.0.0.1; };\n")
                .append("  listen-on-v6 { none; };\n")
                .append("  pid-file none;\n")
                .append("  session-keyfile none;\n")
                .append("  managed-keys-directory \"").append(dir).append("\";\n")
                .append("  recursion no;\n")
                .append("  notify no;\n")
                .append("  dnssec-validation no;\n")
                .append("};\n")
                .append("controls { };\n");
        for (Key k : keys) {
            conf.append("key \"").append(k.name()).append("\" { algorithm hmac-sha256; secret \"").append(k.secret()).append("\"; };\n");
        }
        for (Zone z : zones) {
            Path file = dir.resolve(z.name() + ".zone");
            Files.writeString(file, "$TTL 300\n"
                    + "@ IN SOA ns." + z.name() + ". hostmaster." + z.name() + ". 1 3600 600 86400 60\n"
                    + "@ IN NS ns." + z.name() + ".\n"
                    + "ns IN A 127.0.0.1\n"
                    + (z.records() == null ? "" : z.records().stripIndent() + "\n"));
            conf.append("zone \"").append(z.name()).append("\" { type primary; file \"").append(file).append("\";");
            if (z.updatePolicy() != null) {
                conf.append(" update-policy { ").append(z.updatePolicy()).append(" };");
            }
            conf.append(" };\n");
        }
        Path confFile = dir.resolve("named.conf");
        Files.writeString(confFile, conf);
        Path log = dir.resolve("named.log");
        String last = "";
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freePort();
            Process p = launch(dir, port, ProcessBuilder.Redirect.to(log.toFile()));
            LocalBind bind = new LocalBind(dir, p, port);
            if (bind.awaitAnswers(zones, Duration.ofSeconds(20))) {
                return bind;
            }
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            last = Files.readString(log);
            if (!last.contains("address in use")) {
                break;
            }
        }
        deleteTree(dir);
        String hint = last.toLowerCase(Locale.ROOT).contains("permission denied")
                ? "\n(an AppArmor or SELinux profile for named may forbid files outside /etc/bind and /var/cache/bind)" : "";
        throw new AssertionError("named did not start:\n" + last + hint);
    }

    /** {@code named} in the foreground on {@code port}, with the configuration in {@code dir}, its output to {@code log}. */
    private static Process launch(Path dir, int port, ProcessBuilder.Redirect log) throws IOException {
        return new ProcessBuilder(named().toString(), "-g", "-4", "-n", "1", "-c", dir.resolve("named.conf").toString(), "-p",
                String.valueOf(port)).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log).start();
    }

    private boolean awaitAnswers(List<Zone> zones, Duration within) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                return false;
            }
            try {
                boolean all = true;
                for (Zone z : zones) {
                    Message a = send(Name.fromString(z.name() + "."), Type.SOA);
                    all &= a.getRcode() == Rcode.NOERROR && a.getHeader().getFlag(Flags.AA);
                }
                if (all) {
                    return true;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        return false;
    }

    /** The zone's SOA serial as the server answers it now. */
    public long serial(String zone) throws IOException {
        Message a = send(Name.fromString(zone.endsWith(".") ? zone : zone + "."), org.xbill.DNS.Type.SOA);
        for (Record r : a.getSection(Section.ANSWER)) {
            if (r instanceof org.xbill.DNS.SOARecord soa) {
                return soa.getSerial();
            }
        }
        throw new IOException("no SOA record for " + zone);
    }

    private Message send(Name name, int type) throws IOException {
        SimpleResolver r = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        r.setTCP(true);
        r.setTimeout(Duration.ofSeconds(2));
        Message q = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        q.getHeader().unsetFlag(Flags.RD);
        return r.send(q);
    }

    /** A port free for both TCP and UDP on 127.0.0.1 just now. */
    private static int freePort() throws IOException {
        for (int i = 0; i < 50; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                    DatagramSocket d = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort()))) {
                return s.getLocalPort();
            } catch (IOException e) {
                // the UDP port is taken: try another
            }
        }
        throw new IOException("no port free for both TCP and UDP on 127.0.0.1");
    }

    public int port() {
        return port;
    }

    /** This server, for a {@link DnsChange}. */
    public DnsServer server() {
        return new DnsServer("127.0.0.1", port);
    }

    /**
     * The {@code type} records of {@code name} (absolute, final dot optional) as the server
     * answers a plain query without recursion or TSIG; independent of the code under test.
     */
    public Answer query(String name, RecordType type) throws IOException {
        Name n = Name.fromString(name.endsWith(".") ? name : name + ".");
        Message a = send(n, type.code());
        if (a.getRcode() != Rcode.NOERROR && a.getRcode() != Rcode.NXDOMAIN) {
            throw new IOException("query for " + n + " " + type + " answered " + Rcode.string(a.getRcode()));
        }
        List<String> values = new ArrayList<>();
        long ttl = -1;
        for (Record r : a.getSection(Section.ANSWER)) {
            if (r.getName().equals(n) && r.getType() == type.code()) {
                values.add(type.canonical(r.rdataToString()));
                ttl = r.getTTL();
            }
        }
        return new Answer(values, ttl);
    }

    /** What named printed so far. */
    public String log() throws IOException {
        return Files.readString(dir.resolve("named.log"), StandardCharsets.UTF_8);
    }

    /** Stops the server (SIGTERM, then SIGKILL after 10 s); the directory stays until {@link #close()}. */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Starts the {@linkplain #stop() stopped} server again on the same port, from the same files
     * (its journal keeps what updates changed), and waits until it answers for {@code zones}. The
     * returned server replaces this one: close that one.
     */
    public LocalBind restart(List<Zone> zones) throws Exception {
        Path log = dir.resolve("named.log");
        Process p = launch(dir, port, ProcessBuilder.Redirect.appendTo(log.toFile()));
        LocalBind again = new LocalBind(dir, p, port);
        if (!again.awaitAnswers(zones, Duration.ofSeconds(20))) {
            p.destroyForcibly();
            throw new AssertionError("named did not start again on port " + port + ":\n" + Files.readString(log));
        }
        return again;
    }

    @Override
    public void close() throws Exception {
        stop();
        deleteTree(dir);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
