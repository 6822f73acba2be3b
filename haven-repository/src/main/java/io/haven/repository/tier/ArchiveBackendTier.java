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
    /** The object in the archive that names the repository it belongs to. */
    public static final String MARKER = "haven-cold-tier";

    private final Backend archive;
    private final Duration thawFor;
    private final String repositoryId;
    private volatile boolean verified;

    /**
     * @param repositoryId the repository this archive serves: the archive's {@link #MARKER} must
     *     name it (written by {@link #claim}), or every use fails, so that a shared, wrong or
     *     unmounted location never receives or loses packs; null skips the check (tests)
     */
    public ArchiveBackendTier(Backend archive, Duration thawFor, String repositoryId) {
        this.archive = archive;
        this.thawFor = thawFor;
        this.repositoryId = repositoryId;
    }

    public ArchiveBackendTier(Backend archive, Duration thawFor) {
        this(archive, thawFor, null);
    }

    /**
     * Makes the archive this repository's: writes the marker, or checks it when there is one.
     * USAGE when it belongs to another repository.
     */
    public void claim() {
        if (repositoryId == null) {
            return;
        }
        if (archive.stat(MARKER).isEmpty()) {
            archive.write(MARKER, ("{\"repository\":\"" + repositoryId + "\"}\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        verify();
    }

    private void verify() {
        if (verified || repositoryId == null) {
            return;
        }
        byte[] marker;
        try {
            marker = archive.read(MARKER);
        } catch (HavenException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
            throw new HavenException(ErrorCode.IO, "the cold tier " + archive.location() + " has no " + MARKER
                    + " naming this repository: is the archive volume mounted? (set it again with 'haven tier set' only if it is new)");
        }
        String text = new String(marker, java.nio.charset.StandardCharsets.UTF_8);
        if (!text.contains("\"" + repositoryId + "\"")) {
            throw new HavenException(ErrorCode.USAGE, "the cold tier " + archive.location() + " belongs to another repository ("
                    + text.trim() + "); each repository needs its own cold location");
        }
        verified = true;
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
        verify();
        return new HashSet<>(archive.list(directory));
    }

    @Override
    public Optional<Backend.ObjectInfo> info(String name) {
        verify();
        return archive.stat(name);
    }

    @Override
    public void freeze(String name, Backend warm) {
        verify();
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
        verify();
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

    /** Copies the pack back when it has no warm copy, checks the copy, then deletes the archive's. */
    @Override
    public boolean unfreeze(String name, Backend warm) {
        verify();
        Optional<Backend.ObjectInfo> archived = archive.stat(name);
        if (archived.isEmpty()) {
            return warm.stat(name).isPresent();
        }
        if (warm.stat(name).isEmpty()) {
            warm.write(name, archive.read(name));
        }
        long stored = warm.stat(name).map(Backend.ObjectInfo::size).orElse(-1L);
        if (stored != archived.get().size()) {
            throw new HavenException(ErrorCode.IO, "bringing " + name + " back from " + describe() + " stored " + stored
                    + " of " + archived.get().size() + " bytes; the archive copy is kept");
        }
        archive.delete(name);
        return true;
    }

    @Override
    public void delete(String name) {
        verify();
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
