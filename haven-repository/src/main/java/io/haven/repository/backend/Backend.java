package io.haven.repository.backend;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where a repository's objects live. Names are relative, '/'-separated (for example
 * {@code data/ab/ab12…}). Objects are written whole and atomically and never rewritten (writing a
 * name again with the same bytes is allowed and changes nothing).
 *
 * <p>Implementations are thread safe. Failures surface as {@link io.haven.core.HavenException}
 * naming the object and the location: {@code NOT_FOUND} when a read finds no object,
 * {@code CORRUPT} when a ranged read reaches past the end of the object, {@code IO} for the rest.
 * A failure that may pass if the operation is repeated (a refused connection, a timeout, a
 * throttled request) is a {@link TransientBackendException}, which {@link RetryingBackend}
 * retries. {@code BackendConformanceTest} (test sources) checks all of this for each
 * implementation; see docs/backends.md.
 */
public interface Backend extends AutoCloseable {
    /** A human-readable location, for messages. */
    String location();

    /**
     * Whether the objects are on a local file system, where a read costs a system call rather
     * than a network request (callers then skip caching and read grouping).
     */
    default boolean local() {
        return false;
    }

    /**
     * This backend, or the one a decorator wraps (followed inward), if it is a {@code type}.
     * Decorators override it to look through themselves.
     */
    default <T extends Backend> java.util.Optional<T> find(Class<T> type) {
        return type.isInstance(this) ? java.util.Optional.of(type.cast(this)) : java.util.Optional.empty();
    }

    /**
     * Names of all objects under {@code directory} (recursively; "" for all), relative to the
     * repository ({@code data/ab/ab12…}), in no particular order, excluding temporary names. A
     * missing directory has none.
     */
    List<String> list(String directory);

    /** What the backend knows about a stored object. */
    record ObjectInfo(long size, Instant modified) {}

    /**
     * The size and last-modified time of an object, or empty when it does not exist. The time is
     * the backend's own clock (file system or object store), so times of objects in one backend
     * compare without trusting the clocks of the hosts that wrote them.
     */
    Optional<ObjectInfo> stat(String name);

    /** The whole object; NOT_FOUND when there is none. */
    byte[] read(String name);

    /**
     * {@code length} bytes from {@code offset}: exactly {@code length} bytes, or CORRUPT when the
     * object is shorter, NOT_FOUND when there is none.
     */
    byte[] read(String name, long offset, int length);

    /** Stores an object atomically: readers see all of it or nothing. */
    default void write(String name, byte[] data) {
        write(name, data, data.length);
    }

    /** Stores the first {@code length} bytes of {@code data} as an object, atomically. */
    void write(String name, byte[] data, int length);

    /** Removes an object; absent objects are fine. */
    void delete(String name);

    @Override
    void close();
}
