package io.haven.repository.cache;

/**
 * A token bucket: {@link #acquire} blocks until {@code n} bytes may pass at {@code bytesPerSecond},
 * allowing a burst of one second's worth. Over any minute the average stays within a burst of
 * the rate. The clock and the sleep are injectable so tests need no real time.
 */
public final class RateLimiter {
    /** Nanosecond time source. */
    @FunctionalInterface
    public interface Clock {
        long nanos();
    }

    /** Sleeps; interruptible. */
    @FunctionalInterface
    public interface Sleeper {
        void sleepNanos(long nanos) throws InterruptedException;
    }

    private final double bytesPerNano;
    private final double burst;
    private final Clock clock;
    private final Sleeper sleeper;
    private double tokens;
    private long last;

    public RateLimiter(long bytesPerSecond) {
        this(bytesPerSecond, System::nanoTime, n -> Thread.sleep(n / 1_000_000, (int) (n % 1_000_000)));
    }

    public RateLimiter(long bytesPerSecond, Clock clock, Sleeper sleeper) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("rate must be positive");
        }
        this.bytesPerNano = bytesPerSecond / 1e9;
        this.burst = bytesPerSecond;
        this.clock = clock;
        this.sleeper = sleeper;
        this.last = clock.nanos();
        this.tokens = 0;
    }

    /** Waits until {@code bytes} may be sent. Larger amounts than the burst wait proportionally. */
    public synchronized void acquire(long bytes) throws InterruptedException {
        refill();
        tokens -= bytes;
        if (tokens < 0) {
            long wait = (long) Math.ceil(-tokens / bytesPerNano);
            sleeper.sleepNanos(wait);
            refill();
        }
    }

    private void refill() {
        long now = clock.nanos();
        tokens = Math.min(burst, tokens + (now - last) * bytesPerNano);
        last = now;
    }
}
