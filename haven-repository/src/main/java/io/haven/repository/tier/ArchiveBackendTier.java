package io.haven.repository.tier;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * A cold tier that is another backend: a directory on an archive volume, or a separate bucket.
 * Freezing copies a pack there and deletes the warm copy; a thaw copies it back to warm storage,
 * where it stays readable for {@code thawFor} and is then removed again by {@code haven tier apply}.
 * Restores never read the archive in place. A thaw here is a copy, so it is done when the request
 * returns.
 */
public final class ArchiveBackendTier implements ColdTier {
    private final Backend archive;
    private final Duration thawFor;

    public ArchiveBackendTier(Backend archive, Duration thawFor) {
        this.archive = archive;
        this.thawFor = thawFor;
    }

    public Backend archive() {
        return archive;
    }

    @Override
    public String describe() {
        return "archive " + archive.location();
    }

    @Override
    public Set<String> list(String directory) {
        return new HashSet<>(archive.list(directory));
    }

    @Override
    public Optional<Backend.ObjectInfo> info(String name) {
        return archive.stat(name);
    }

    @Override
    public void freeze(String name, Backend warm) {
        byte[] bytes = warm.read(name);
        archive.write(name, bytes);
        long stored = archive.stat(name).map(Backend.ObjectInfo::size).orElse(-1L);
        if (stored != bytes.length) {
            throw new HavenException(ErrorCode.IO, "copying " + name + " to " + describe() + " stored " + stored
                    + " of " + bytes.length + " bytes; the warm copy is kept");
        }
        warm.delete(name);
    }

    @Override
    public Status status(String name, Backend warm) {
        Optional<Backend.ObjectInfo> w = warm.stat(name);
        return w.map(i -> new Status(State.READY, i.modified().plus(thawFor))).orElseGet(() -> new Status(State.COLD, null));
    }

    @Override
    public void requestThaw(String name, Backend warm) {
        if (warm.stat(name).isEmpty()) {
            warm.write(name, archive.read(name));
        }
    }

    @Override
    public boolean refreeze(String name, Backend warm, Instant now) {
        Optional<Backend.ObjectInfo> w = warm.stat(name);
        if (w.isPresent() && w.get().modified().plus(thawFor).isBefore(now) && archive.stat(name).isPresent()) {
            warm.delete(name);
            return true;
        }
        return false;
    }

    @Override
    public void delete(String name) {
        archive.delete(name);
    }

    @Override
    public Duration minimumStorage() {
        return Duration.ZERO;
    }

    @Override
    public Duration typicalThaw() {
        return Duration.ZERO;
    }

    @Override
    public void close() {
        archive.close();
    }
}
