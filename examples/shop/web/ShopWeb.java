/*
 * Haven's sample application, tier 3 of 3: the web front of the "shop".
 *
 * A single-file Java 21 program (no build, no dependencies):
 *
 *   java ShopWeb.java --listen 127.0.10.1:8080 --app 127.0.10.1:8081 --root examples/shop/web/root
 *
 * HTTP:
 *
 *   GET  /, /index.html, other files under ROOT   the static files (ROOT/index.html at /)
 *   GET  /health                                  200 "ok\n" only when the application's /health
 *                                                 answers 200; else 503 and the reason
 *   ANY  /api/PATH[?QUERY]                        proxied to the application's /PATH[?QUERY]:
 *                                                 method, body and Content-Type in, status,
 *                                                 body and Content-Type (and Location) out;
 *                                                 502 when the application cannot be reached
 *
 * SIGTERM stops it.
 */

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

public class ShopWeb {
    static final String USAGE = "usage: java ShopWeb.java --listen ADDR:PORT --app HOST:PORT --root DIR";
    static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8", "css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "txt", "text/plain; charset=utf-8", "svg", "image/svg+xml",
            "png", "image/png", "ico", "image/x-icon", "json", "application/json");

    final String app;
    final Path root;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3)).followRedirects(HttpClient.Redirect.NEVER).build();

    ShopWeb(String app, Path root) {
        this.app = app;
        this.root = root;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = options(args, "--listen", "--app", "--root");
        for (String required : new String[] {"--listen", "--app", "--root"}) {
            if (!o.containsKey(required)) {
                fail("missing " + required);
            }
        }
        String[] listen = hostPort(o.get("--listen"), "--listen");
        String[] app = hostPort(o.get("--app"), "--app");
        Path root = Path.of(o.get("--root")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(root.resolve("index.html"))) {
            fail("--root " + root + " holds no index.html");
        }
        ShopWeb web = new ShopWeb((app[0].contains(":") ? "[" + app[0] + "]" : app[0]) + ":" + app[1], root);
        HttpServer server = HttpServer.create(new InetSocketAddress(listen[0], Integer.parseInt(listen[1])), 64);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        server.setExecutor(pool);
        server.createContext("/", web::handle);
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop(1);
            pool.shutdown();
            System.out.println(Instant.now() + " stopped");
        }));
        System.out.println(Instant.now() + " ShopWeb listening on http://" + o.get("--listen") + " (application http://" + web.app
                + ", root " + root + ")");
    }

    void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            try {
                if (path.equals("/health")) {
                    health(ex);
                } else if (path.startsWith("/api/")) {
                    proxy(ex, path.substring("/api".length()));
                } else {
                    file(ex, path);
                }
            } catch (RuntimeException e) {
                send(ex, 500, "text/plain; charset=utf-8", (e + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    void health(HttpExchange ex) throws IOException {
        String problem;
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + app + "/health"))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                text(ex, 200, "ok\n");
                return;
            }
            problem = "the application's /health answered " + r.statusCode() + ": " + r.body().strip();
        } catch (IOException e) {
            problem = "the application does not answer: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem = "interrupted";
        }
        text(ex, 503, problem + "\n");
    }

    void proxy(HttpExchange ex, String appPath) throws IOException {
        String query = ex.getRequestURI().getRawQuery();
        URI target = URI.create("http://" + app + appPath + (query == null ? "" : "?" + query));
        byte[] body = ex.getRequestBody().readAllBytes();
        HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30));
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type != null) {
            b.header("Content-Type", type);
        }
        String method = ex.getRequestMethod();
        b.method(method, body.length == 0 && (method.equals("GET") || method.equals("HEAD") || method.equals("DELETE"))
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            text(ex, 502, "the application does not answer: " + e + "\n");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            text(ex, 502, "interrupted\n");
            return;
        }
        r.headers().firstValue("Location").ifPresent(l -> ex.getResponseHeaders().set("Location", l.startsWith("/") ? "/api" + l : l));
        r.headers().firstValue("Allow").ifPresent(a -> ex.getResponseHeaders().set("Allow", a));
        send(ex, r.statusCode(), r.headers().firstValue("Content-Type").orElse(null), r.body());
    }

    void file(HttpExchange ex, String rawPath) throws IOException {
        if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Allow", "GET, HEAD");
            text(ex, 405, ex.getRequestMethod() + " is not allowed here\n");
            return;
        }
        String rel = URI.create(rawPath).getPath();
        if (rel.equals("/")) {
            rel = "/index.html";
        }
        Path f = root.resolve(rel.substring(1)).normalize();
        if (!f.startsWith(root) || !Files.isRegularFile(f)) {
            text(ex, 404, "not found: " + rel + "\n");
            return;
        }
        String name = f.getFileName().toString();
        String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "";
        send(ex, 200, TYPES.getOrDefault(ext, "application/octet-stream"), Files.readAllBytes(f));
    }

    static void text(HttpExchange ex, int status, String text) throws IOException {
        send(ex, status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        if (type != null) {
            ex.getResponseHeaders().set("Content-Type", type);
        }
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
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
            if (!List.of(known).contains(a)) {
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
        System.err.println("ShopWeb: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }

    static {
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }
}
