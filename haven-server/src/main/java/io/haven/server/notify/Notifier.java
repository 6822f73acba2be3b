package io.haven.server.notify;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jdbi.v3.core.Jdbi;

/**
 * Sends events to the notification channels: every enabled channel whose filter accepts the
 * event's kind, by webhook or e-mail.
 *
 * <p>Design: {@link #notify(Event)} only queues a task and returns; a small pool of daemon
 * threads reads the channels, then queues one attempt per channel, so a slow receiver delays
 * only its own deliveries. A failed attempt that may pass
 * (see {@link DeliveryException#retryable()}) is tried again after a back-off (2 s, then 8 s by
 * default: {@link Settings}), scheduled rather than slept, so a waiting retry holds no thread.
 * Each delivery is recorded once, when its last attempt ends ({@link Deliveries}).
 *
 * <p>Failure modes: the caller of {@link #notify(Event)} is never blocked and never sees an
 * exception. When even the record cannot be written (the database is down), or an event is
 * dropped (more than {@link Settings#maxQueued()} waiting, or the notifier closed), the problem
 * goes to the {@code problems} consumer given at construction. {@link #close()} lets work finish
 * for {@link Settings#drain()}, then interrupts it; each delivery it cuts short is recorded as
 * failed.
 *
 * <p>Thread-safe.
 */
public final class Notifier implements AutoCloseable {
    /**
     * How the notifier behaves.
     *
     * @param attempts attempts per delivery, at least 1
     * @param backoff the wait before the second attempt; each further wait is 4 times longer
     * @param timeout for connecting and for each answer, per attempt
     * @param drain how long {@link #close()} waits for work in progress
     * @param threads how many deliveries run at once
     * @param maxQueued events and attempts that may wait; more are dropped and reported
     */
    public record Settings(int attempts, Duration backoff, Duration timeout, Duration drain, int threads, int maxQueued) {
        public Settings {
            if (attempts < 1 || threads < 1 || maxQueued < 1) {
                throw new IllegalArgumentException("attempts, threads and maxQueued must be positive");
            }
            Objects.requireNonNull(backoff, "backoff");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(drain, "drain");
        }

        /** 3 attempts, 2 s then 8 s apart, 10 s time-outs, 5 s to drain, 4 threads, 1000 queued. */
        public static Settings defaults() {
            return new Settings(3, Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(5), 4, 1000);
        }

        public Settings withBackoff(Duration b) {
            return new Settings(attempts, b, timeout, drain, threads, maxQueued);
        }

        public Settings withTimeout(Duration t) {
            return new Settings(attempts, backoff, t, drain, threads, maxQueued);
        }

        public Settings withDrain(Duration d) {
            return new Settings(attempts, backoff, timeout, d, threads, maxQueued);
        }
    }

    /** Queued work. Identity matters (equal events may be queued twice), so these are not records. */
    private sealed interface Task permits FanOut, Attempt {}

    private static final class FanOut implements Task {
        final Event event;

        FanOut(Event event) {
            this.event = event;
        }
    }

    private static final class Attempt implements Task {
        final Channel channel;
        final Event event;
        final int number;

        Attempt(Channel channel, Event event, int number) {
            this.channel = channel;
            this.event = event;
            this.number = number;
        }
    }

    private final Channels channels;
    private final Deliveries deliveries;
    private final InstantSource clock;
    private final Settings settings;
    private final Supplier<String> server;
    private final Consumer<Throwable> problems;
    private final WebhookSender webhook;
    private final EmailSender email;
    private final ScheduledThreadPoolExecutor pool;
    /** Fan-outs and attempts queued but not started, so close() can account for them. */
    private final Set<Task> waiting = ConcurrentHashMap.newKeySet();
    /** Tasks queued or running; close() waits for zero. Guarded by itself for waiting. */
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param jdbi the server's database (tables {@code notification_channels} and
     *     {@code notification_deliveries})
     * @param clock times of delivery records
     * @param server names this server in payloads (its URL); asked at each delivery
     * @param problems told what could not even be recorded; called from notifier threads and
     *     must not throw
     * @param version the server's version, for the webhook's {@code User-Agent}
     */
    public Notifier(Jdbi jdbi, InstantSource clock, Settings settings, Supplier<String> server, Consumer<Throwable> problems,
            String version) {
        this.channels = new Channels(jdbi, clock);
        this.deliveries = new Deliveries(jdbi);
        this.clock = clock;
        this.settings = settings;
        this.server = server;
        this.problems = problems;
        this.webhook = new WebhookSender(settings.timeout(), version);
        this.email = new EmailSender(settings.timeout());
        AtomicInteger n = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "haven-notify-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = new ScheduledThreadPoolExecutor(settings.threads(), threads);
        pool.setRemoveOnCancelPolicy(true);
    }

    public Channels channels() {
        return channels;
    }

    public Deliveries deliveries() {
        return deliveries;
    }

    /** Events dropped since start (queue full or notifier closed); each was also reported. */
    public long dropped() {
        return dropped.get();
    }

    /**
     * Queues an event for every enabled channel that accepts its kind, and returns at once.
     * Never throws for a delivery problem (see the class comment); null is refused.
     */
    public void notify(Event event) {
        Objects.requireNonNull(event, "event");
        if (closed) {
            drop(event, "the notifier is closed");
            return;
        }
        if (pool.getQueue().size() >= settings.maxQueued()) {
            drop(event, settings.maxQueued() + " notifications are waiting already");
            return;
        }
        FanOut task = new FanOut(event);
        if (!enqueue(task, 0, () -> fanOut(event))) {
            drop(event, "the notifier is closed");
        }
    }

    /**
     * Sends a {@link Event.Kind#TEST} event to one channel now, on the calling thread: one
     * attempt, enabled or not, whatever its filter, recorded like any delivery.
     *
     * @throws HavenException NOT_FOUND when there is no such channel
     */
    public Delivery test(String channelName, Map<String, Object> details) {
        Channel ch = channels.find(channelName).orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND,
                "no notification channel named '" + channelName + "'"));
        Event e = new Event(Event.Kind.TEST, Event.Severity.INFO, "Test notification from Haven to channel '" + ch.name() + "'",
                details, clock.instant());
        try {
            send(ch, e);
            return deliveries.record(ch, e, clock.instant(), Delivery.Status.OK, 1, null);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            return deliveries.record(ch, e, clock.instant(), Delivery.Status.FAILED, 1, "interrupted");
        } catch (RuntimeException x) {
            return deliveries.record(ch, e, clock.instant(), Delivery.Status.FAILED, 1, message(x));
        }
    }

    private void fanOut(Event event) {
        List<Channel> targets;
        try {
            targets = channels.list().stream().filter(c -> c.enabled() && c.accepts(event.kind())).toList();
        } catch (RuntimeException e) {
            report(new HavenException(ErrorCode.IO, "cannot read the notification channels; event '" + event.subject()
                    + "' is not sent: " + e.getMessage(), e));
            return;
        }
        for (Channel c : targets) {
            // each channel in its own task: a slow receiver delays only its own deliveries
            Attempt first = new Attempt(c, event, 1);
            if (!submit(first, 0)) {
                record(first, Delivery.Status.FAILED, 0, "the server stopped before attempt 1");
            }
        }
    }

    private boolean submit(Attempt a, long delayMillis) {
        return enqueue(a, delayMillis, () -> attempt(a));
    }

    /**
     * Queues work after a delay, counted in {@link #pending} until it has run (or was cut by
     * close); false when the pool no longer takes work.
     */
    private boolean enqueue(Task task, long delayMillis, Runnable work) {
        waiting.add(task);
        pending.incrementAndGet();
        try {
            pool.schedule(() -> {
                try {
                    if (waiting.remove(task)) {
                        work.run();
                    }
                } finally {
                    finished();
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (RejectedExecutionException e) {
            waiting.remove(task);
            finished();
            return false;
        }
    }

    private void finished() {
        if (pending.decrementAndGet() == 0) {
            synchronized (pending) {
                pending.notifyAll();
            }
        }
    }

    private void attempt(Attempt a) {
        try {
            send(a.channel, a.event);
            record(a, Delivery.Status.OK, a.number, null);
        } catch (DeliveryException e) {
            if (e.retryable() && a.number < settings.attempts()) {
                retryLater(a, e);
            } else {
                record(a, Delivery.Status.FAILED, a.number, e.getMessage());
            }
        } catch (InterruptedException e) {
            record(a, Delivery.Status.FAILED, a.number, "interrupted: the server stopped during attempt " + a.number);
        } catch (RuntimeException e) {
            record(a, Delivery.Status.FAILED, a.number, message(e));
        }
    }

    private void retryLater(Attempt a, DeliveryException failure) {
        Attempt next = new Attempt(a.channel, a.event, a.number + 1);
        long delay = settings.backoff().toMillis() << (2 * (a.number - 1)); // 1×, 4×, 16× …
        if (!submit(next, delay)) {
            record(a, Delivery.Status.FAILED, a.number, failure.getMessage() + " (not retried: the server is stopping)");
        }
    }

    private void send(Channel ch, Event e) throws InterruptedException {
        switch (ch.config()) {
            case WebhookConfig w -> webhook.send(w, e, server.get());
            case EmailConfig m -> email.send(m, e, server.get());
        }
    }

    private void record(Attempt a, Delivery.Status status, int attempts, String error) {
        try {
            deliveries.record(a.channel, a.event, clock.instant(), status, attempts, error);
        } catch (RuntimeException e) {
            report(new HavenException(ErrorCode.IO, "cannot record the delivery of '" + a.event.subject() + "' to channel '"
                    + a.channel.name() + "' (" + status.label() + (error == null ? "" : ": " + error) + "): " + e.getMessage(), e));
        }
    }

    private static String message(RuntimeException e) {
        return e instanceof HavenException ? e.getMessage() : "internal error: " + DeliveryException.describe(e);
    }

    private void drop(Event event, String why) {
        dropped.incrementAndGet();
        report(new HavenException(ErrorCode.BUSY, "notification '" + event.subject() + "' dropped: " + why));
    }

    private void report(Throwable t) {
        try {
            problems.accept(t);
        } catch (RuntimeException ignored) {
            // the consumer's own failure has nowhere left to go
        }
    }

    /**
     * Stops taking events, lets queued work (fan-outs, attempts and retries) go on for up to the
     * drain time, then interrupts what still runs. Deliveries cut short are recorded as failed, events not yet
     * fanned out are reported as dropped. An SMTP attempt blocked in I/O does not see the
     * interrupt and ends at its own time-out; if the database is closed by then, its record fails
     * and is reported. Call before closing the database. A second call does nothing.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        // work in progress may still queue attempts and retries: wait for it to settle, not for the pool
        long end = System.nanoTime() + settings.drain().toNanos();
        try {
            synchronized (pending) {
                for (long left = settings.drain().toNanos(); pending.get() > 0 && left > 0; left = end - System.nanoTime()) {
                    TimeUnit.NANOSECONDS.timedWait(pending, left);
                }
            }
            pool.shutdownNow();
            pool.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
        for (Task w : waiting) {
            if (waiting.remove(w)) {
                switch (w) {
                    case Attempt a -> record(a, Delivery.Status.FAILED, a.number - 1, "the server stopped before attempt " + a.number);
                    case FanOut f -> drop(f.event, "the server stopped before it was sent");
                }
            }
        }
        webhook.close();
    }
}
