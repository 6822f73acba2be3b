package io.haven.server.notify;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A real HTTP server on 127.0.0.1 (the JDK's) that records every request and answers with
 * scripted statuses (200 once the script is used up). Thread-safe.
 */
public final class WebhookReceiver implements AutoCloseable {
    /** One request as received. */
    public record Received(String path, Map<String, List<String>> headers, byte[] body) {
        public String header(String name) {
            for (var e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final HttpServer http;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final Deque<Integer> script = new ArrayDeque<>();
    private volatile int thenStatus = 200;

    public WebhookReceiver() throws IOException {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.setExecutor(Executors.newFixedThreadPool(4));
        http.createContext("/", ex -> {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            received.add(new Received(ex.getRequestURI().getPath(), Map.copyOf(ex.getRequestHeaders()), body));
            int status;
            synchronized (script) {
                status = script.isEmpty() ? thenStatus : script.poll();
            }
            byte[] answer = (status / 100 == 2 ? "thanks" : "scripted failure " + status).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, answer.length);
            ex.getResponseBody().write(answer);
            ex.close();
        });
        http.start();
    }

    /** Answers these statuses to the next requests, in order, then {@code then}. */
    public WebhookReceiver answer(int then, Integer... first) {
        synchronized (script) {
            script.clear();
            script.addAll(List.of(first));
        }
        thenStatus = then;
        return this;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + http.getAddress().getPort() + path;
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    public List<Received> received(String path) {
        return received.stream().filter(r -> r.path().equals(path)).toList();
    }

    /** Waits until at least {@code n} requests arrived. */
    public List<Received> await(int n, Duration within) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (received.size() < n) {
            if (System.nanoTime() > end) {
                throw new AssertionError("expected " + n + " webhook requests, got " + received.size());
            }
            Thread.sleep(10);
        }
        return received();
    }

    @Override
    public void close() {
        http.stop(0);
        ((java.util.concurrent.ExecutorService) http.getExecutor()).shutdownNow();
    }
}
