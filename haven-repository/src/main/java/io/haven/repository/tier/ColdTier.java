package io.haven.repository.tier;

import io.haven.repository.backend.Backend;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * Where data packs go when they are old: archival storage whose objects cannot be read in place.
 * A pack in the cold tier must be thawed (brought back to warm storage, or made readable for some
 * days) before a restore reads it. Only data packs move; trees, index files and snapshots stay
 * warm, so listing, {@code ls}, {@code diff}, {@code forget} and planning a restore never wait.
 *
 * <p>Implementations: {@link ArchiveBackendTier} (a second directory or bucket, copied back on
 * thaw) and {@link S3StorageClassTier} (an S3 storage class, thawed with the S3 restore request).
 * Used through {@link TieredBackend}, which makes the repository see warm and cold packs as one.
 */
public interface ColdTier extends AutoCloseable {
    /** For messages: where the cold tier is. */
    String describe();

    /** The names of the objects held cold under {@code directory} ("data"). */
    Set<String> list(String directory);

    /** Size of a cold object and when it went cold, or empty when the tier does not hold it. */
    Optional<Backend.ObjectInfo> info(String name);

    /** Moves an object from warm storage to this tier. Afterwards {@code warm} no longer serves it. */
    void freeze(String name, Backend warm);

    /** Whether a cold object can be read now. */
    enum State { COLD, THAWING, READY }

    /** The thaw state of a cold object, and until when a thawed copy stays readable (or null). */
    record Status(State state, Instant readableUntil) {}

    Status status(String name, Backend warm);

    /** Asks for a thaw of a cold object; nothing happens when it is thawing or thawed already. */
    void requestThaw(String name, Backend warm);

    /**
     * Ends a thaw whose time is up: afterwards the object is cold again. Returns whether a warm
     * copy was removed (tiers whose thawed copies expire by themselves return false).
     */
    boolean refreeze(String name, Backend warm, Instant now);

    /**
     * Makes a cold object warm for good (a policy that now counts its snapshots as new): once it
     * is readable, the warm copy stays and the cold one goes. Returns false when it is not
     * readable yet; the caller asks for a thaw ({@link #requestThaw}) and tries again later.
     */
    boolean unfreeze(String name, Backend warm);

    /** Deletes a cold object (prune). */
    void delete(String name);

    /** How long the class bills an object at least; Duration.ZERO when it has no minimum. */
    Duration minimumStorage();

    /** The usual time a thaw takes, for messages ("about 3-5 hours"). */
    Duration typicalThaw();

    @Override
    void close();
}
