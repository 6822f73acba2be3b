package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * How {@link RetryingBackend} retries: at most {@code maxAttempts} tries of one operation, waiting
 * between them an exponentially growing delay ({@code baseDelay × 2^(retry-1)}, capped at
 * {@code maxDelay}) of which a random half is dropped ("equal jitter"), so clients that failed
 * together do not retry together.
 *
 * @param maxAttempts tries in all, at least 1 (1 means no retry)
 * @param baseDelay the delay before the first retry (before jitter)
 * @param maxDelay the largest delay (before jitter)
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {
    /** 6 attempts, 200 ms doubling to at most 10 s: at most about 6 s of waiting in all. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(6, Duration.ofMillis(200), Duration.ofSeconds(10));

    /** One attempt: failures surface at once. */
    public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, Duration.ZERO);

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new HavenException(ErrorCode.USAGE, "retry attempts must be at least 1, got " + maxAttempts);
        }
        if (baseDelay.isNegative() || maxDelay.isNegative()) {
            throw new HavenException(ErrorCode.USAGE, "retry delays must not be negative");
        }
    }

    /**
     * The wait before retry number {@code retry} (1 for the first retry): uniformly random in
     * [d/2, d] where d = min(maxDelay, baseDelay × 2^(retry-1)).
     */
    public Duration delayBefore(int retry, RandomGenerator random) {
        if (retry < 1) {
            throw new IllegalArgumentException("retry numbers start at 1, got " + retry);
        }
        long base = baseDelay.toNanos();
        long cap = maxDelay.toNanos();
        long d = retry > 62 || base > (cap >> Math.min(retry - 1, 62)) ? cap : Math.min(cap, base << (retry - 1));
        if (d <= 0) {
            return Duration.ZERO;
        }
        long half = d / 2;
        return Duration.ofNanos(d - half + random.nextLong(half + 1));
    }
}
