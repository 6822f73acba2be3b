package io.haven.server.auth;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows password guessing: after {@code maxFailures} failed logins for one user name within
 * {@code window}, or {@code 4 × maxFailures} from one address, further attempts for that name or
 * from that address are refused without checking the password until {@code lockout} has passed
 * since the last failure. A successful login clears the name's failures. Kept in memory per
 * server process (several servers each count their own). Thread-safe.
 */
public final class LoginThrottle {
    /** Five failures in 15 minutes lock a name for a minute; twenty lock an address. */
    public static final LoginThrottle.Limits DEFAULT = new Limits(5, Duration.ofMinutes(15), Duration.ofMinutes(1));

    /** The limits. */
    public record Limits(int maxFailures, Duration window, Duration lockout) {}

    private final Limits limits;
    private final InstantSource clock;
    private final Map<String, Deque<Long>> failures = new ConcurrentHashMap<>();

    public LoginThrottle(Limits limits, InstantSource clock) {
        this.limits = limits;
        this.clock = clock;
    }

    /** Seconds until this name and address may try again; 0 when they may now. */
    public long retryAfterSeconds(String username, String address) {
        long now = clock.millis();
        long wait = Math.max(waitFor("user:" + norm(username), limits.maxFailures(), now),
                waitFor("addr:" + address, limits.maxFailures() * 4, now));
        return (wait + 999) / 1000;
    }

    public void failed(String username, String address) {
        long now = clock.millis();
        record("user:" + norm(username), now);
        record("addr:" + address, now);
    }

    public void succeeded(String username) {
        failures.remove("user:" + norm(username));
    }

    private long waitFor(String key, int max, long now) {
        Deque<Long> d = failures.get(key);
        if (d == null) {
            return 0;
        }
        synchronized (d) {
            prune(d, now);
            if (d.size() < max) {
                return 0;
            }
            return Math.max(0, d.peekLast() + limits.lockout().toMillis() - now);
        }
    }

    private void record(String key, long now) {
        Deque<Long> d = failures.computeIfAbsent(key, k -> new ArrayDeque<>());
        synchronized (d) {
            prune(d, now);
            d.addLast(now);
            while (d.size() > 1000) {
                d.removeFirst();
            }
        }
        if (failures.size() > 100_000) {
            failures.entrySet().removeIf(e -> {
                synchronized (e.getValue()) {
                    prune(e.getValue(), now);
                    return e.getValue().isEmpty();
                }
            });
        }
    }

    private void prune(Deque<Long> d, long now) {
        while (!d.isEmpty() && d.peekFirst() < now - limits.window().toMillis()) {
            d.removeFirst();
        }
    }

    private static String norm(String username) {
        return username == null ? "" : username.toLowerCase(Locale.ROOT);
    }
}
