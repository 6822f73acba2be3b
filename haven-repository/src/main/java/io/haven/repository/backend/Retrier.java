package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * The retry loop of {@link RetryingBackend}, usable on its own for requests that are not
 * {@link Backend} operations (the S3 storage-class cold tier's copy, restore and head requests):
 * an operation that throws a {@link TransientBackendException} is tried again after a backoff (see
 * {@link RetryPolicy}), up to the policy's number of attempts. Any other exception surfaces at
 * once, unchanged. When the attempts are spent the last failure surfaces as a plain
 * {@link HavenException} with code {@code IO}, no longer transient, its message saying how many
 * attempts were made.
 *
 * <p>Thread safe when the sleeper and the random source are.
 */
public final class Retrier {
    private final RetryPolicy policy;
    private final RetryingBackend.Sleeper sleeper;
    private final RandomGenerator random;
    private final LongAdder retries = new LongAdder();

    public Retrier(RetryPolicy policy, RetryingBackend.Sleeper sleeper, RandomGenerator random) {
        this.policy = policy;
        this.sleeper = sleeper;
        this.random = random;
    }

    /** The {@link RetryPolicy#DEFAULT default policy}, real sleeping and random jitter. */
    public static Retrier standard() {
        return new Retrier(RetryPolicy.DEFAULT, RetryingBackend.Sleeper.REAL, () -> ThreadLocalRandom.current().nextLong());
    }

    public RetryPolicy policy() {
        return policy;
    }

    /** How many retries (attempts after a first failure) all operations have made so far. */
    public long retries() {
        return retries.sum();
    }

    /** Runs {@code op}, retrying its transient failures. */
    public <T> T call(Supplier<T> op) {
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

    /** Runs {@code op}, retrying its transient failures. */
    public void run(Runnable op) {
        call(() -> {
            op.run();
            return null;
        });
    }

    private static String waitedText(Duration waited) {
        if (waited.isZero()) {
            return "";
        }
        return String.format(java.util.Locale.ROOT, ", %.1f s of waiting", waited.toMillis() / 1000.0);
    }
}
