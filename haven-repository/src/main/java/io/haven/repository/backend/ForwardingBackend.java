package io.haven.repository.backend;

import java.util.List;
import java.util.Optional;

/**
 * A backend that passes every call to another one: the base of small decorators that change one
 * or two operations (throttle writes, record reads, ignore close). {@link #find} looks through it.
 * As thread-safe as the backend it wraps.
 */
public abstract class ForwardingBackend implements Backend {
    protected final Backend inner;

    protected ForwardingBackend(Backend inner) {
        this.inner = inner;
    }

    @Override
    public String location() {
        return inner.location();
    }

    @Override
    public boolean local() {
        return inner.local();
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
