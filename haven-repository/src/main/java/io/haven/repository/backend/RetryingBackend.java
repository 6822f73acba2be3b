package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * A backend that retries the transient failures of another: every operation that throws a
 * {@link TransientBackendException} is tried again after a backoff (see {@link RetryPolicy}), up
 * to the policy's number of attempts. Any other exception (NOT_FOUND, CORRUPT, USAGE, access
 * denied, a bug) surfaces at once, unchanged. When the attempts are spent the last failure
 * surfaces as a plain {@link HavenException} with code {@code IO}, no longer transient (so a
 * second decorator does not retry it again), its message saying how many attempts were made.
 *
 * <p>Retrying every operation is safe because objects are write-once and content-addressed: a
 * write repeated after a lost answer stores the same bytes under the same name, and deleting an
 * absent object is fine.
 *
 * <p>A ranged read that returns fewer bytes than asked (a truncated answer) is treated as a
 * transient failure too. A truncated whole read cannot be seen here; callers check each object's
 * hash (the repository does).
 *
 * <p>Thread safe when the wrapped backend, the sleeper and the random source are (a
 * {@link java.util.Random} is; {@link #wrap} uses {@link ThreadLocalRandom}). Logs nothing;
 * {@link #retries()} counts the retries made so far, for progress output and tests.
 */
public final class RetryingBackend implements Backend {
    /** Waits between attempts; tests pass one that records the delay and returns at once. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration delay) throws InterruptedException;

        /** {@link Thread#sleep(Duration)}. */
        Sleeper REAL = Thread::sleep;
    }

    private final Backend inner;
    private final RetryPolicy policy;
    private final Sleeper sleeper;
    private final RandomGenerator random;
    private final LongAdder retries = new LongAdder();

    /**
     * @param inner the backend whose transient failures are retried; closed by {@link #close()}
     * @param random the source of jitter; must be thread safe if the backend is used by several threads
     */
    public RetryingBackend(Backend inner, RetryPolicy policy, Sleeper sleeper, RandomGenerator random) {
        this.inner = inner;
        this.policy = policy;
        this.sleeper = sleeper;
        this.random = random;
    }

    /** {@code inner} with the {@link RetryPolicy#DEFAULT default policy}, real sleeping and random jitter. */
    public static RetryingBackend wrap(Backend inner) {
        return new RetryingBackend(inner, RetryPolicy.DEFAULT, Sleeper.REAL, () -> ThreadLocalRandom.current().nextLong());
    }

    /** The wrapped backend. */
    public Backend inner() {
        return inner;
    }

    /** How many retries (attempts after a first failure) all operations have made so far. */
    public long retries() {
        return retries.sum();
    }

    @Override
    public boolean local() {
        return inner.local();
    }

    @Override
    public String location() {
        return inner.location();
    }

    @Override
    public List<String> list(String directory) {
        return retry(() -> inner.list(directory));
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        return retry(() -> inner.stat(name));
    }

    @Override
    public byte[] read(String name) {
        return retry(() -> inner.read(name));
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        return retry(() -> {
            byte[] b = inner.read(name, offset, length);
            if (b.length != length) {
                throw new TransientBackendException("reading " + length + " bytes at " + offset + " of " + name + " from "
                        + inner.location() + " returned " + b.length + " bytes");
            }
            return b;
        });
    }

    @Override
    public void write(String name, byte[] data, int length) {
        retry(() -> {
            inner.write(name, data, length);
            return null;
        });
    }

    @Override
    public void delete(String name) {
        retry(() -> {
            inner.delete(name);
            return null;
        });
    }

    @Override
    public void close() {
        inner.close();
    }

    private <T> T retry(Supplier<T> op) {
        Duration waited = Duration.ZERO;
        for (int attempt = 1; ; attempt++) {
            try {
                return op.get();
            } catch (TransientBackendException e) {
                if (attempt >= policy.maxAttempts()) {
                    throw new HavenException(ErrorCode.IO, e.getMessage() + " (gave up after " + attempt
                            + (attempt == 1 ? " attempt" : " attempts") + waitedText(waited) + ")", e);
                }
                Duration delay = policy.delayBefore(attempt, random);
                try {
                    sleeper.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    HavenException stop = new HavenException(ErrorCode.IO, e.getMessage()
                            + " (interrupted while waiting to retry)", e);
                    stop.addSuppressed(ie);
                    throw stop;
                }
                waited = waited.plus(delay);
                retries.increment();
            }
        }
    }

    private static String waitedText(Duration waited) {
        if (waited.isZero()) {
            return "";
        }
        return String.format(java.util.Locale.ROOT, ", %.1f s of waiting", waited.toMillis() / 1000.0);
    }
}
