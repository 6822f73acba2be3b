/*
 * Haven's sample application: the client of the "shop", as a user would reach it, by name.
 *
 * A single-file Java 21 program (no build, no dependencies):
 *
 *   java ShopClient.java --dns SERVER:PORT --name www.shop.test. [--port 8080]
 *        [--retry-for SECONDS] [--interval-ms MS] COMMAND
 *
 * Before every request it resolves the name's A record through the given DNS server (the JDK's
 * JNDI DNS provider, so neither /etc/resolv.conf nor any cache is involved) and then talks HTTP to
 * the web front at that address and --port. So when a failover moves the name, the next request
 * goes to the new site.
 *
 * Commands (stdout is machine-readable; diagnostics go to stderr):
 *
 *   write N          writes N records with unique texts "rec-UUID" through POST /api/records and
 *                    prints "ID<TAB>TEXT" for each as soon as it is acknowledged (201): a printed
 *                    line is a committed record. Exit 0 when all N were written, 1 when one
 *                    failed (the lines printed until then are still good)
 *   read             prints every record as "ID<TAB>TEXT" (GET /api/records); exit 0 on 200
 *   check-ids FILE   FILE holds lines "ID<TAB>TEXT" (what write printed) or just "ID"; reads all
 *                    records and prints "missing<TAB>ID<TAB>TEXT" or
 *                    "different<TAB>ID<TAB>EXPECTED<TAB>ACTUAL" for each problem; exit 0 when
 *                    there is none, 1 otherwise (a summary goes to stderr)
 *   resolve          prints the address the name resolves to now
 *   health           prints the web front's /health status code and answer; exit 0 when 200
 *
 * --retry-for SECONDS: a request that got no answer or a 5xx status is tried again (resolving
 * the name again) every 500 ms until SECONDS have passed since its first failure (default 0: no
 * retry). A retried write whose first try reached the database without its answer reaching us
 * can leave a record that was never acknowledged; check-ids only checks acknowledged ones.
 * --interval-ms MS: a pause between two writes (default 0).
 *
 * Exit codes: 0 success, 1 a failed request or check, 2 bad usage.
 */

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;

public class ShopClient {
    static final String USAGE = "usage: java ShopClient.java --dns SERVER:PORT --name NAME [--port 8080] [--retry-for SECONDS]"
            + " [--interval-ms MS] write N | read | check-ids FILE | resolve | health";

    final String dns;
    final String name;
    final int port;
    final Duration retryFor;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3)).followRedirects(HttpClient.Redirect.NEVER).build();

    ShopClient(String dns, String name, int port, Duration retryFor) {
        this.dns = dns;
        this.name = name;
        this.port = port;
        this.retryFor = retryFor;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        List<String> rest = new ArrayList<>();
        List<String> known = List.of("--dns", "--name", "--port", "--retry-for", "--interval-ms");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println(USAGE);
                System.exit(0);
            }
            if (!a.startsWith("--")) {
                rest.add(a);
                continue;
            }
            String value = null;
            int eq = a.indexOf('=');
            if (eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (!known.contains(a)) {
                fail("unknown option " + args[i]);
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    fail(a + " needs a value");
                }
                value = args[++i];
            }
            o.put(a, value);
        }
        if (!o.containsKey("--dns") || !o.containsKey("--name")) {
            fail("--dns and --name are required");
        }
        if (rest.isEmpty()) {
            fail("no command");
        }
        ShopClient c = new ShopClient(o.get("--dns"), o.get("--name"), number(o.getOrDefault("--port", "8080"), "--port"),
                Duration.ofSeconds(number(o.getOrDefault("--retry-for", "0"), "--retry-for")));
        long interval = number(o.getOrDefault("--interval-ms", "0"), "--interval-ms");
        String command = rest.get(0);
        if (rest.size() > (command.equals("write") || command.equals("check-ids") ? 2 : 1)) {
            fail("too many arguments after " + command);
        }
        int exit = switch (command) {
            case "write" -> {
                if (rest.size() != 2) {
                    fail("write needs the number of records");
                }
                yield c.write(number(rest.get(1), "write N"), interval);
            }
            case "read" -> c.read();
            case "check-ids" -> {
                if (rest.size() != 2) {
                    fail("check-ids needs a file");
                }
                yield c.checkIds(Path.of(rest.get(1)));
            }
            case "resolve" -> {
                System.out.println(c.resolve());
                yield 0;
            }
            case "health" -> c.health();
            default -> {
                fail("unknown command " + command);
                yield 2;
            }
        };
        System.out.flush();
        System.exit(exit);
    }

    // --- commands

    int write(int n, long intervalMs) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            if (i > 0 && intervalMs > 0) {
                Thread.sleep(intervalMs);
            }
            String body = "rec-" + UUID.randomUUID();
            Answer a = request("POST", "/api/records", body);
            if (a.status != 201) {
                System.err.println("ShopClient: write " + (i + 1) + " of " + n + " failed: " + a.describe());
                return 1;
            }
            System.out.println(a.body.strip() + "\t" + body);
            System.out.flush();
        }
        return 0;
    }

    int read() throws InterruptedException {
        Answer a = request("GET", "/api/records", null);
        if (a.status != 200) {
            System.err.println("ShopClient: read failed: " + a.describe());
            return 1;
        }
        System.out.print(a.body);
        return 0;
    }

    int checkIds(Path file) throws IOException, InterruptedException {
        Map<String, String> expected = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            int tab = line.indexOf('\t');
            expected.put(tab < 0 ? line.strip() : line.substring(0, tab), tab < 0 ? null : line.substring(tab + 1));
        }
        Answer a = request("GET", "/api/records", null);
        if (a.status != 200) {
            System.err.println("ShopClient: read failed: " + a.describe());
            return 1;
        }
        Map<String, String> actual = new LinkedHashMap<>();
        for (String line : a.body.split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                actual.put(line.substring(0, tab), line.substring(tab + 1));
            }
        }
        int missing = 0;
        int different = 0;
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String got = actual.get(e.getKey());
            if (got == null) {
                missing++;
                System.out.println("missing\t" + e.getKey() + "\t" + (e.getValue() == null ? "" : e.getValue()));
            } else if (e.getValue() != null && !e.getValue().equals(got)) {
                different++;
                System.out.println("different\t" + e.getKey() + "\t" + e.getValue() + "\t" + got);
            }
        }
        System.err.println("ShopClient: checked " + expected.size() + " ids against " + actual.size() + " records: "
                + (missing + different == 0 ? "all present" : missing + " missing, " + different + " different"));
        return missing + different == 0 ? 0 : 1;
    }

    int health() throws InterruptedException {
        Answer a = request("GET", "/health", null);
        System.out.println(a.status + "\t" + a.body.strip());
        return a.status == 200 ? 0 : 1;
    }

    // --- DNS and HTTP

    /** The name's first A record, asked of the DNS server now (no cache). */
    String resolve() throws NamingException {
        Hashtable<String, String> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        env.put(Context.PROVIDER_URL, "dns://" + dns + "/");
        env.put("com.sun.jndi.dns.timeout.initial", "1000");
        env.put("com.sun.jndi.dns.timeout.retries", "2");
        DirContext ctx = new InitialDirContext(env);
        try {
            Attributes attrs = ctx.getAttributes(name.endsWith(".") ? name : name + ".", new String[] {"A"});
            Attribute a = attrs.get("A");
            if (a == null || a.size() == 0) {
                throw new NamingException(name + " has no A record at " + dns);
            }
            NamingEnumeration<?> values = a.getAll();
            return values.next().toString();
        } finally {
            ctx.close();
        }
    }

    record Answer(int status, String body, String address) {
        String describe() {
            return (status == 0 ? "no answer" : "status " + status) + (address == null ? "" : " from " + address) + ": "
                    + body.strip();
        }
    }

    /** One request (retried as --retry-for says), resolving the name before each try. */
    Answer request(String method, String path, String body) throws InterruptedException {
        long deadline = 0;
        while (true) {
            Answer a = once(method, path, body);
            boolean retryable = a.status == 0 || a.status >= 500;
            if (!retryable) {
                return a;
            }
            long now = System.nanoTime();
            if (deadline == 0) {
                deadline = now + retryFor.toNanos();
            }
            if (now - deadline >= 0) {
                return a;
            }
            System.err.println("ShopClient: " + method + " " + path + ": " + a.describe() + "; trying again");
            Thread.sleep(500);
        }
    }

    Answer once(String method, String path, String body) throws InterruptedException {
        String address;
        try {
            address = resolve();
        } catch (NamingException e) {
            return new Answer(0, "cannot resolve " + name + " at " + dns + ": " + e, null);
        }
        String host = address.contains(":") ? "[" + address + "]" : address;
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path)).timeout(Duration.ofSeconds(30));
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "text/plain; charset=utf-8").method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Answer(r.statusCode(), r.body(), address);
        } catch (IOException e) {
            return new Answer(0, e.toString(), address);
        }
    }

    // --- command line

    static int number(String text, String what) {
        if (!text.matches("[0-9]{1,9}")) {
            fail(what + " must be a whole number, not " + text);
        }
        return Integer.parseInt(text);
    }

    static void fail(String message) {
        System.err.println("ShopClient: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }
}
