package io.haven.server.http;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Request counters and latency histograms in the Prometheus text exposition format (0.0.4).
 * Labels are the route template (never a raw path, so the series stay few), the method and the
 * status. Thread-safe; recording is lock-free.
 */
public final class Metrics {
    /** Histogram bucket bounds in seconds. */
    static final double[] BOUNDS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private record Key(String method, String route, int status) {}

    private static final class Histogram {
        final LongAdder[] buckets = new LongAdder[BOUNDS.length];
        final LongAdder count = new LongAdder();
        final AtomicLong sumNanos = new AtomicLong();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }
    }

    private final Map<Key, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
    private final long startedAtMillis;

    public Metrics(long startedAtMillis) {
        this.startedAtMillis = startedAtMillis;
    }

    /** Counts one request that took {@code nanos}. */
    public void record(String method, String route, int status, long nanos) {
        requests.computeIfAbsent(new Key(method, route, status), k -> new LongAdder()).increment();
        Histogram h = latency.computeIfAbsent(route, r -> new Histogram());
        double seconds = nanos / 1e9;
        for (int i = 0; i < BOUNDS.length; i++) {
            if (seconds <= BOUNDS[i]) {
                h.buckets[i].increment();
            }
        }
        h.count.increment();
        h.sumNanos.addAndGet(nanos);
    }

    /** The exposition text. */
    public String scrape() {
        StringBuilder sb = new StringBuilder();
        sb.append("# HELP haven_server_start_time_seconds When the server started, seconds since the epoch.\n");
        sb.append("# TYPE haven_server_start_time_seconds gauge\n");
        sb.append("haven_server_start_time_seconds ").append(fmt(startedAtMillis / 1000.0)).append('\n');
        sb.append("# HELP haven_http_requests_total HTTP requests served, by method, route and status.\n");
        sb.append("# TYPE haven_http_requests_total counter\n");
        var sorted = new TreeMap<String, Long>();
        requests.forEach((k, v) -> sorted.put("{method=\"" + k.method() + "\",route=\"" + esc(k.route()) + "\",status=\""
                + k.status() + "\"}", v.sum()));
        sorted.forEach((labels, v) -> sb.append("haven_http_requests_total").append(labels).append(' ').append(v).append('\n'));
        sb.append("# HELP haven_http_request_duration_seconds Time to serve HTTP requests, by route.\n");
        sb.append("# TYPE haven_http_request_duration_seconds histogram\n");
        new TreeMap<>(latency).forEach((route, h) -> {
            String r = esc(route);
            for (int i = 0; i < BOUNDS.length; i++) {
                sb.append("haven_http_request_duration_seconds_bucket{route=\"").append(r).append("\",le=\"")
                        .append(fmt(BOUNDS[i])).append("\"} ").append(h.buckets[i].sum()).append('\n');
            }
            long count = h.count.sum();
            sb.append("haven_http_request_duration_seconds_bucket{route=\"").append(r).append("\",le=\"+Inf\"} ")
                    .append(count).append('\n');
            sb.append("haven_http_request_duration_seconds_sum{route=\"").append(r).append("\"} ")
                    .append(fmt(h.sumNanos.get() / 1e9)).append('\n');
            sb.append("haven_http_request_duration_seconds_count{route=\"").append(r).append("\"} ").append(count).append('\n');
        });
        return sb.toString();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.format(Locale.ROOT, "%.1f", d) : Double.toString(d);
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
