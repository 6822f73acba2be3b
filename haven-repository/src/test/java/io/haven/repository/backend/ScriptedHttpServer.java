package io.haven.repository.backend;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;

/**
 * An HTTP server on 127.0.0.1 that answers each request with the next scripted answer (S3 error
 * documents, or bodies) and records what it was sent, to test how {@link S3Backend} reads answers
 * a real server gives only under load or misconfiguration. Strict: a request with no scripted
 * answer gets HTTP 599 and fails the test through {@link #unexpected()}. Public for the S3
 * storage-class cold tier's tests in {@code io.haven.repository.tier}.
 */
public final class ScriptedHttpServer implements AutoCloseable {
    /** An answer: status, headers, body (may be empty). */
    public record Answer(int status, Map<String, String> headers, byte[] body) {
        /** An S3 error document. */
        public static Answer error(int status, String code, String message) {
            String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" + message
                    + "</Message><RequestId>test</RequestId></Error>";
            return new Answer(status, Map.of("Content-Type", "application/xml"), xml.getBytes(StandardCharsets.UTF_8));
        }

        /** A status with no body (what HEAD gets). */
        public static Answer status(int status) {
            return new Answer(status, Map.of(), new byte[0]);
        }

        public static Answer ok(byte[] body) {
            return new Answer(200, Map.of("Content-Type", "application/octet-stream", "ETag", "\"x\""), body);
        }
    }

    /** A request as received. */
    public record Request(String method, URI uri, Map<String, List<String>> headers, byte[] body) {
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(e -> e.getValue().get(0))
                    .findFirst().orElse(null);
        }
    }

    private final HttpServer server;
    private final Queue<Answer> answers = new ArrayDeque<>();
    private final List<Request> requests = new ArrayList<>();
    private int unexpected;

    public ScriptedHttpServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public synchronized ScriptedHttpServer answer(Answer... next) {
        answers.addAll(List.of(next));
        return this;
    }

    public synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Requests that found no scripted answer. */
    public synchronized int unexpected() {
        return unexpected;
    }

    private void handle(HttpExchange x) throws IOException {
        byte[] body;
        try (InputStream in = x.getRequestBody()) {
            body = in.readAllBytes();
        }
        Answer a;
        synchronized (this) {
            requests.add(new Request(x.getRequestMethod(), x.getRequestURI(), Map.copyOf(x.getRequestHeaders()), body));
            a = answers.poll();
            if (a == null) {
                unexpected++;
                a = Answer.error(599, "NoScriptedAnswer", "the test scripted no answer for this request");
            }
        }
        a.headers().forEach((k, v) -> x.getResponseHeaders().add(k, v));
        boolean head = x.getRequestMethod().equals("HEAD");
        if (head || a.body().length == 0) {
            x.sendResponseHeaders(a.status(), -1);
        } else {
            x.sendResponseHeaders(a.status(), a.body().length);
            x.getResponseBody().write(a.body());
        }
        x.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
