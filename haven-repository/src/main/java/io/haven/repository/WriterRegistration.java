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
 * store) could be taken for dead while it still means to save a snapshot; {@link #checkNotStalled()}
 * refuses then, and the caller must not save.
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
    private volatile long lastRefreshNanos;
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

    /** Rewrites the marker now. */
    public synchronized void refresh() {
        if (closed) {
            return;
        }
        WriterMarker m = new WriterMarker(1, kind, host, pid, started, repo.clock().instant().toString(), condemnedSeen);
        long before = nanos.getAsLong();
        repo.backend().write(name, repo.key().seal(Json.write(m)));
        long last = lastRefreshNanos;
        if (last != 0) {
            longestGapNanos = Math.max(longestGapNanos, before - last);
        }
        lastRefreshNanos = nanos.getAsLong();
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

    /**
     * Fails when this process went longer than 80 % of {@code staleAfter} without refreshing its
     * marker (normally it refreshes every sixth): a prune may have taken it for dead and deleted
     * data it relies on.
     *
     * @throws HavenException IO naming the gap
     */
    public void checkNotStalled() {
        long sinceLast = nanos.getAsLong() - lastRefreshNanos;
        long gap = Math.max(longestGapNanos, sinceLast);
        if (gap > staleAfter.toNanos() / 5 * 4) {
            throw new HavenException(ErrorCode.IO, "this process could not announce itself to the repository for "
                    + Duration.ofNanos(gap).toSeconds() + " s (limit " + staleAfter.toSeconds() * 4 / 5
                    + " s: the process was suspended or the store was unreachable); a concurrent prune may have taken it for dead,"
                    + " so its snapshot is not saved. Run it again: data already stored is not uploaded twice.");
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
