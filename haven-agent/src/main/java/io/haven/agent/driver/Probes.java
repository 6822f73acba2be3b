package io.haven.agent.driver;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs probes. One attempt is bounded by {@code attemptTimeout}; {@link #await} repeats until
 * healthy or {@code within} passes. Never throws for an unhealthy workload: that is a result.
 * Thread-safe.
 */
public final class Probes {
    private final HttpClient http;
    private final Duration attemptTimeout;

    public Probes(Duration attemptTimeout) {
        this.attemptTimeout = attemptTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(attemptTimeout).build();
    }

    public Probe.Result once(Probe p) {
        long t0 = System.nanoTime();
        String detail;
        boolean ok;
        try {
            switch (p) {
                case Probe.Tcp tcp -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(tcp.host(), tcp.port()), (int) attemptTimeout.toMillis());
                    }
                    ok = true;
                    detail = "connected to " + tcp.host() + ":" + tcp.port();
                }
                case Probe.Http h -> {
                    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(h.url()).timeout(attemptTimeout).GET().build(),
                            HttpResponse.BodyHandlers.discarding());
                    ok = r.statusCode() == h.status();
                    detail = "GET " + h.url() + " answered " + r.statusCode() + (ok ? "" : ", expected " + h.status());
                }
                case Probe.Command c -> {
                    Process pr = new ProcessBuilder(c.argv()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    if (!pr.waitFor(attemptTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                        pr.destroyForcibly();
                        ok = false;
                        detail = String.join(" ", c.argv()) + " did not finish within " + attemptTimeout.toSeconds() + " s";
                    } else {
                        ok = pr.exitValue() == 0;
                        detail = String.join(" ", c.argv()) + " exited " + pr.exitValue();
                    }
                }
            }
        } catch (IOException e) {
            ok = false;
            detail = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
            detail = "interrupted";
        }
        return new Probe.Result(ok, detail, Duration.ofNanos(System.nanoTime() - t0));
    }

    /** Repeats the probe every {@code interval} until healthy or {@code within} passes; the last result. */
    public Probe.Result await(Probe p, Duration within, Duration interval) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        long t0 = System.nanoTime();
        while (true) {
            Probe.Result r = once(p);
            if (r.ok() || System.nanoTime() >= end) {
                return new Probe.Result(r.ok(), r.ok() ? r.detail() : r.detail() + " (not healthy within " + within.toSeconds() + " s)",
                        Duration.ofNanos(System.nanoTime() - t0));
            }
            Thread.sleep(Math.min(interval.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)));
        }
    }
}
