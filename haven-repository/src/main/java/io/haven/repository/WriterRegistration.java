package io.haven.repository;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.maintenance.WriterMarker;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * This process's announcement that it writes to the repository: the object
 * {@code writers/<id>}, rewritten every {@code staleAfter / 6} by a daemon thread and deleted at
 * {@link #close()}. It is not a lock: nobody waits for it except a prune's final deletion step,
 * and a writer that was killed stops refreshing it, so after {@code staleAfter} (measured on the
 * backend's clock) it no longer holds anything back.
 *
 * <p>A writer that itself stalls for longer than that (a suspended VM, SIGSTOP, an unreachable
 * store, a marker write that hangs) could be taken for dead while it still means to save a
 * snapshot; {@link #checkNotStalled()} refuses then, and the caller must not save.
 *
 * <p>The rule: the marker on the backend can be no newer than the <em>start</em> of the last
 * marker write that succeeded, so the writer may rely on its registration only for the time
 * since that start. A write in flight counts for nothing until it returns, and its duration is
 * part of the gap. The longest such gap is remembered: once it exceeded the limit (80 % of
 * {@code staleAfter}), a prune may already have deleted what this process relies on, and no later
 * heartbeat makes the registration trustworthy again.
 *
 * <p>Thread safe.
 */
public final class WriterRegistration implements AutoCloseable {
    private final Repository repo;
    private final String name;
    private final String kind;
    private final String host;
    private final long pid;
    private final String started;
    private final Duration staleAfter;
    private final java.util.function.LongSupplier nanos;
    private final Thread heartbeat;
    private volatile List<String> condemnedSeen = List.of();
    /** Start of the last marker write that succeeded (on {@link #nanos}); 0 before the first. */
    private volatile long lastGoodStartNanos;
    /** The longest time from the start of a successful marker write to the end of the next successful one. */
    private volatile long longestGapNanos;
    private volatile boolean closed;

    private WriterRegistration(Repository repo, String kind, String host, Duration staleAfter) {
        this.repo = repo;
        byte[] id = new byte[16];
        repo.random().nextBytes(id);
        this.name = "writers/" + HexFormat.of().formatHex(id);
        this.kind = kind;
        this.host = host;
        this.pid = ProcessHandle.current().pid();
        this.started = repo.clock().instant().toString();
        this.staleAfter = staleAfter;
        this.nanos = repo.monotonicNanos();
        refresh();
        long interval = Math.max(100, staleAfter.toMillis() / 6);
        this.heartbeat = Thread.ofPlatform().daemon().name("haven-heartbeat").start(() -> beat(interval));
    }

    static WriterRegistration register(Repository repo, String kind, String host, Duration staleAfter) {
        return new WriterRegistration(repo, kind, host, staleAfter);
    }

    private void beat(long intervalMillis) {
        while (!closed) {
            try {
                Thread.sleep(intervalMillis);
            } catch (InterruptedException e) {
                return;
            }
            try {
                refresh();
            } catch (RuntimeException e) {
                // the store is unreachable: the gap grows, and checkNotStalled() will refuse if it grows too far
            }
        }
    }

    /**
     * Rewrites the marker now. The gap covered by the previous successful write is measured from
     * that write's start to the end of this one: while this write was in flight the marker on the
     * backend was still the previous one.
     */
    public synchronized void refresh() {
        if (closed) {
            return;
        }
        WriterMarker m = new WriterMarker(1, kind, host, pid, started, repo.clock().instant().toString(), condemnedSeen);
        byte[] sealed = repo.key().seal(Json.write(m));
        long start = nanos.getAsLong();
        repo.backend().write(name, sealed);
        long end = nanos.getAsLong();
        long last = lastGoodStartNanos;
        if (last != 0) {
            longestGapNanos = Math.max(longestGapNanos, end - last);
        }
        lastGoodStartNanos = start == 0 ? 1 : start;
    }

    /** Declares the condemned sets this writer's index knows (and so will not rely on). */
    public void condemnedSeen(List<String> ids) {
        condemnedSeen = List.copyOf(ids);
        refresh();
    }

    public List<String> condemnedSeen() {
        return condemnedSeen;
    }

    /** The marker's object name. */
    public String name() {
        return name;
    }

    public String kind() {
        return kind;
    }

    public Duration staleAfter() {
        return staleAfter;
    }

    /** The limit on the gap: 80 % of {@code staleAfter}, leaving room for clocks that run at slightly different rates. */
    public Duration limit() {
        return Duration.ofNanos(staleAfter.toNanos() / 5 * 4);
    }

    /**
     * The longest time this process could not rely on its marker: the longest gap between the
     * start of a successful marker write and the end of the next successful one, or the time
     * since the start of the last successful one, whichever is longer. A marker write in flight
     * (hanging, retried, or suspended with the process) does not shorten it.
     */
    public Duration uncovered() {
        long sinceLast = nanos.getAsLong() - lastGoodStartNanos;
        return Duration.ofNanos(Math.max(longestGapNanos, sinceLast));
    }

    /**
     * Fails when this process ever went longer than 80 % of {@code staleAfter} without a marker
     * it could rely on, counted from the start of its last marker write that succeeded (normally
     * it rewrites the marker every sixth): a prune may have taken it for dead and deleted data it
     * relies on. Call it right before, and again right after, every write that makes other
     * processes rely on what this one did (a snapshot, an index file): a write that returns after
     * the limit may have landed after such a prune.
     *
     * @throws HavenException IO naming the gap
     */
    public void checkNotStalled() {
        Duration gap = uncovered();
        if (gap.compareTo(limit()) > 0) {
            throw new HavenException(ErrorCode.IO, "this process could not announce itself to the repository for "
                    + gap.toSeconds() + " s (limit " + limit().toSeconds()
                    + " s: the process was suspended or the store was unreachable or slow); a concurrent prune may have taken it for dead,"
                    + " so it stops and its snapshot is not saved. Run it again: data already stored is not uploaded twice.");
        }
    }

    /** The backend's current time: the last-modified time of this marker after a refresh. */
    public Instant backendNow() {
        refresh();
        return repo.backend().stat(name).map(Backend.ObjectInfo::modified)
                .orElseThrow(() -> new HavenException(ErrorCode.IO, "the writer marker " + name + " vanished from "
                        + repo.backend().location()));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        heartbeat.interrupt();
        try {
            repo.backend().delete(name);
        } catch (RuntimeException e) {
            // the marker goes stale by itself
        }
    }
}
