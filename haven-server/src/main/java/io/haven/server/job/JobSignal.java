package io.haven.server.job;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes the task polls waiting in this server when work may have appeared (a job queued, an
 * agent freed). Polls also re-check the database every couple of seconds, which is how they learn
 * of jobs queued by another server sharing the database. Uses a lock and condition, not
 * {@code Object.wait}, so waiting virtual threads do not pin their carrier. Thread-safe.
 */
public final class JobSignal {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation;
    private volatile boolean shutdown;

    /** Ends every wait now and from now on (the server is stopping: polls answer at once). */
    public void shutdown() {
        shutdown = true;
        signalAll();
    }

    public boolean isShutdown() {
        return shutdown;
    }

    public long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    public void signalAll() {
        lock.lock();
        try {
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until a signal after {@code seen}, or {@code max} passes. */
    public void await(long seen, Duration max) throws InterruptedException {
        long nanos = max.toNanos();
        lock.lock();
        try {
            while (generation == seen && nanos > 0 && !shutdown) {
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }
}
