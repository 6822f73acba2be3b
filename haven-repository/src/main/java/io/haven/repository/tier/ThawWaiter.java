package io.haven.repository.tier;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Waits for a thaw: asks again every {@code poll} (each ask also requests what is still cold)
 * until every pack is readable, or gives up after {@code limit} with a COLD error that names what
 * is still pending and {@code resume}. An archive that never answers ends there, not in a hang.
 */
public final class ThawWaiter {
    /** Sleeps; the tests pass one that advances a fake clock. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    /** Nanosecond time source. */
    @FunctionalInterface
    public interface Clock {
        long nanos();
    }

    private final Duration limit;
    private final Duration poll;
    private final Clock clock;
    private final Sleeper sleeper;

    public ThawWaiter(Duration limit, Duration poll) {
        this(limit, poll, System::nanoTime, d -> Thread.sleep(d.toMillis()));
    }

    public ThawWaiter(Duration limit, Duration poll, Clock clock, Sleeper sleeper) {
        this.limit = limit;
        this.poll = poll;
        this.clock = clock;
        this.sleeper = sleeper;
    }

    /** Polls {@code ask} until its plan is done; {@code progress} hears each poll's plan. */
    public Tiering.ThawPlan await(Tiering.ThawPlan first, Supplier<Tiering.ThawPlan> ask, Consumer<Tiering.ThawPlan> progress,
            String resume) {
        long start = clock.nanos();
        Tiering.ThawPlan plan = first;
        while (!plan.done()) {
            if (clock.nanos() - start >= limit.toNanos()) {
                throw new HavenException(ErrorCode.COLD, plan.pending().size() + " pack(s) are still not readable after "
                        + human(limit) + " (the archive has not finished the thaw); run '" + resume + "' again later");
            }
            try {
                sleeper.sleep(poll);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HavenException(ErrorCode.IO, "interrupted while waiting for the thaw; run '" + resume + "' to continue");
            }
            plan = ask.get();
            progress.accept(plan);
        }
        return plan;
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s % 86400 == 0 && s >= 86400) {
            return s / 86400 + " day(s)";
        }
        if (s % 3600 == 0 && s >= 3600) {
            return s / 3600 + " hour(s)";
        }
        if (s % 60 == 0 && s >= 60) {
            return s / 60 + " minute(s)";
        }
        return s + " s";
    }
}
