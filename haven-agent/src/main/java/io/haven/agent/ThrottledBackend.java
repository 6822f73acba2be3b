package io.haven.agent;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.cache.RateLimiter;
import java.util.List;
import java.util.Optional;

/** A backend whose writes are held to a policy's bandwidth limit (a token bucket). Thread-safe. */
final class ThrottledBackend implements Backend {
    private final Backend inner;
    private final RateLimiter limiter;

    ThrottledBackend(Backend inner, long bytesPerSecond) {
        this.inner = inner;
        this.limiter = new RateLimiter(bytesPerSecond);
    }

    @Override
    public String location() {
        return inner.location();
    }

    @Override
    public <T extends Backend> Optional<T> find(Class<T> type) {
        return type.isInstance(this) ? Optional.of(type.cast(this)) : inner.find(type);
    }

    @Override
    public List<String> list(String directory) {
        return inner.list(directory);
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        return inner.stat(name);
    }

    @Override
    public byte[] read(String name) {
        return inner.read(name);
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        return inner.read(name, offset, length);
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

    @Override
    public void delete(String name) {
        inner.delete(name);
    }

    @Override
    public void close() {
        inner.close();
    }
}
