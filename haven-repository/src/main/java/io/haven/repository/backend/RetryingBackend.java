package io.haven.repository.backend;

import io.haven.core.HavenException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
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
    private final Retrier retrier;

    /**
     * @param inner the backend whose transient failures are retried; closed by {@link #close()}
     * @param random the source of jitter; must be thread safe if the backend is used by several threads
     */
    public RetryingBackend(Backend inner, RetryPolicy policy, Sleeper sleeper, RandomGenerator random) {
        this(inner, new Retrier(policy, sleeper, random));
    }

    /** {@code inner} retried by {@code retrier} (whose retry count this backend then shares). */
    public RetryingBackend(Backend inner, Retrier retrier) {
        this.inner = inner;
        this.retrier = retrier;
    }

    /** {@code inner} with the {@link RetryPolicy#DEFAULT default policy}, real sleeping and random jitter. */
    public static RetryingBackend wrap(Backend inner) {
        return new RetryingBackend(inner, Retrier.standard());
    }

    /** The wrapped backend. */
    public Backend inner() {
        return inner;
    }

    /**
     * The retry loop, for requests to the same service that are not backend operations (the S3
     * storage-class cold tier uses it, so its retries follow the same policy and are counted here).
     */
    public Retrier retrier() {
        return retrier;
    }

    /** How many retries (attempts after a first failure) all operations have made so far. */
    public long retries() {
        return retrier.retries();
    }

    @Override
    public boolean local() {
        return inner.local();
    }

    @Override
    public <T extends Backend> java.util.Optional<T> find(Class<T> type) {
        return type.isInstance(this) ? java.util.Optional.of(type.cast(this)) : inner.find(type);
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
        return retrier.call(op);
    }
}
