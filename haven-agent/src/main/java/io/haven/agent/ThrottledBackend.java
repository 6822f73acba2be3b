package io.haven.agent;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.ForwardingBackend;
import io.haven.repository.cache.RateLimiter;

/** A backend whose writes are held to a policy's bandwidth limit (a token bucket). Thread-safe. */
final class ThrottledBackend extends ForwardingBackend {
    private final RateLimiter limiter;

    ThrottledBackend(Backend inner, long bytesPerSecond) {
        super(inner);
        this.limiter = new RateLimiter(bytesPerSecond);
    }

    @Override
    public void write(String name, byte[] data, int length) {
        try {
            limiter.acquire(length);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted while waiting for bandwidth to write " + name, e);
        }
        inner.write(name, data, length);
    }
}
