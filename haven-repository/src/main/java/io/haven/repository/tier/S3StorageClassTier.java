package io.haven.repository.tier;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.Retrier;
import io.haven.repository.backend.S3Backend;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cold tier that is an S3 storage class of the repository's own bucket: a pack goes cold by
 * changing its storage class in place, at the same key (CopyObject of the key onto itself with
 * {@code x-amz-storage-class}), and is thawed with RestoreObject, which makes a readable copy for
 * the policy's thaw days; S3 removes that copy itself when the days are over, so
 * {@link #refreeze} has nothing to do.
 *
 * <ul>
 *   <li>{@link #list}: ListObjectsV2 of {@code PREFIX/data/}, keeping the keys whose
 *       {@code StorageClass} is the cold class;
 *   <li>{@link #status}: HeadObject. {@code x-amz-restore: ongoing-request="true"} is
 *       {@link State#THAWING}; {@code ongoing-request="false", expiry-date="…"} is
 *       {@link State#READY} until that date; no {@code x-amz-restore} is {@link State#COLD} for an
 *       archive class (GLACIER, DEEP_ARCHIVE, or an INTELLIGENT_TIERING archive tier) and
 *       {@link State#READY} for a class that is readable in place (GLACIER_IR, STANDARD_IA…). For a
 *       class this code does not know ({@code class:NAME}), one byte is read: an
 *       {@code InvalidObjectState} answer means COLD.
 *   <li>{@link #requestThaw}: RestoreObject with {@code Days} and
 *       {@code GlacierJobParameters/Tier}; {@code RestoreAlreadyInProgress} (409) is success. No
 *       request for GLACIER_IR.
 * </ul>
 *
 * <p>The warm backend the repository reads through is the same S3 bucket: reading a cold pack
 * that is not restored is answered 403 {@code InvalidObjectState}, which {@link S3Backend} maps to
 * {@link ErrorCode#COLD}. Requests go through a {@link Retrier} (normally the repository's
 * {@code RetryingBackend}'s), so transient failures are retried like every other request.
 *
 * <p>Tested against a scripted S3 server (request shapes, answers) and s3proxy (freeze and list);
 * not against AWS itself.
 */
public final class S3StorageClassTier implements ColdTier {
    /** Classes whose objects must be restored before they can be read. */
    static final Set<String> ARCHIVE_CLASSES = Set.of("GLACIER", "DEEP_ARCHIVE");
    /** Classes whose objects can be read in place (AWS's list; other servers may name others). */
    static final Set<String> READABLE_CLASSES = Set.of("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
            "INTELLIGENT_TIERING", "GLACIER_IR", "EXPRESS_ONEZONE", "OUTPOSTS", "SNOW", "FSX_OPENZFS");
    private static final Map<String, Duration> MINIMUM_STORAGE = Map.of(
            "GLACIER", Duration.ofDays(90), "GLACIER_IR", Duration.ofDays(90), "DEEP_ARCHIVE", Duration.ofDays(180));
    private static final Map<String, Duration> TYPICAL_THAW = Map.of(
            "GLACIER/Standard", Duration.ofHours(4), "GLACIER/Bulk", Duration.ofHours(8),
            "GLACIER/Expedited", Duration.ofMinutes(5),
            "DEEP_ARCHIVE/Standard", Duration.ofHours(12), "DEEP_ARCHIVE/Bulk", Duration.ofHours(48));
    private static final Pattern ONGOING = Pattern.compile("ongoing-request\\s*=\\s*\"?\\s*(true|false)\\s*\"?",
            Pattern.CASE_INSENSITIVE);
    // quoted, or unquoted: an RFC 1123 date ("Fri, 21 Dec 2012 00:00:00 GMT") has a comma of its own
    private static final Pattern EXPIRY = Pattern.compile(
            "expiry-date\\s*=\\s*(?:\"([^\"]*)\"|([A-Za-z]{3},\\s*[^,]*|[^,]*))",
            Pattern.CASE_INSENSITIVE);

    private final S3Backend s3;
    private final String storageClass;
    private final int thawDays;
    private final String retrieval;
    private final Retrier retrier;

    /**
     * @param s3 the repository's own backend (not closed by {@link #close()}: the repository owns it)
     * @param storageClass the cold class as S3 names it ({@code GLACIER}, {@code DEEP_ARCHIVE}, …)
     * @param thawDays how many days a restored copy stays readable
     * @param retrieval {@code Standard}, {@code Bulk} or {@code Expedited}
     * @param retrier retries transient failures (share the repository's, so retries are counted once)
     */
    public S3StorageClassTier(S3Backend s3, String storageClass, int thawDays, String retrieval, Retrier retrier) {
        if (storageClass == null || storageClass.isBlank() || storageClass.equalsIgnoreCase(S3Backend.STANDARD)) {
            throw new HavenException(ErrorCode.USAGE, "the cold tier needs an archive storage class, not '" + storageClass + "'");
        }
        if (!TierPolicy.RETRIEVAL_TIERS.contains(retrieval)) {
            throw new HavenException(ErrorCode.USAGE, "retrieval tier must be one of " + TierPolicy.RETRIEVAL_TIERS + ", not '"
                    + retrieval + "'");
        }
        if (storageClass.equals("DEEP_ARCHIVE") && retrieval.equals("Expedited")) {
            throw new HavenException(ErrorCode.USAGE, "S3 has no Expedited retrieval from DEEP_ARCHIVE; use --retrieval"
                    + " Standard (about 12 hours) or Bulk (about 48 hours)");
        }
        if (thawDays < 1) {
            throw new HavenException(ErrorCode.USAGE, "thaw days must be at least 1, not " + thawDays);
        }
        this.s3 = s3;
        this.storageClass = storageClass;
        this.thawDays = thawDays;
        this.retrieval = retrieval;
        this.retrier = retrier;
    }

    /** The tier {@code policy} names, on the repository's S3 backend. */
    public static S3StorageClassTier forPolicy(S3Backend s3, TierPolicy policy, Retrier retrier) {
        String cls = TierPolicy.storageClassOf(policy.cold()).orElseThrow(() -> new HavenException(ErrorCode.USAGE,
                "cold tier '" + policy.cold() + "' is not an S3 storage class"));
        return new S3StorageClassTier(s3, cls, policy.thawDays(), policy.retrieval(), retrier);
    }

    public String storageClass() {
        return storageClass;
    }

    @Override
    public String describe() {
        return "S3 storage class " + storageClass + " at " + s3.location();
    }

    @Override
    public Set<String> list(String directory) {
        Set<String> out = new HashSet<>();
        for (S3Backend.Listed o : call(() -> s3.listWithStorageClass(directory), "listing " + directory + "/",
                "run the command again")) {
            if (o.storageClass().equalsIgnoreCase(storageClass)) {
                out.add(o.name());
            }
        }
        return out;
    }

    @Override
    public Optional<Backend.ObjectInfo> info(String name) {
        return call(() -> s3.stat(name), "looking at " + name, "run the command again");
    }

    @Override
    public void freeze(String name, Backend warm) {
        String hint = "the pack stays where it is; run 'haven tier apply' again";
        call(() -> {
            s3.changeStorageClass(name, storageClass);
            return null;
        }, "moving " + name + " to " + storageClass, hint);
        // a server that does not know storage classes may accept the copy and keep the class
        String now = call(() -> s3.head(name), "looking at " + name, hint)
                .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "pack " + name + " disappeared from " + s3.location()
                        + " while it moved to " + storageClass + "; run 'haven check'"))
                .storageClass();
        if (!now.equalsIgnoreCase(storageClass)) {
            throw new HavenException(ErrorCode.IO, "the S3 service at " + s3.location() + " accepted the copy of " + name
                    + " to storage class " + storageClass + " but keeps it in " + now + ": it does not support that class;"
                    + " use another class or a separate location as the cold tier ('haven tier set --cold …')");
        }
    }

    @Override
    public Status status(String name, Backend warm) {
        S3Backend.Head h = call(() -> s3.head(name), "looking at " + name, "run the command again")
                .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "pack " + name + " is missing from " + s3.location()
                        + " (deleted by a prune that ran at the same time?); run 'haven check'"));
        Status s = statusOf(h.storageClass(), h.restore(), h.archiveStatus(), name);
        if (s != null) {
            return s;
        }
        // a class we do not know: whether it can be read is what a read says
        try {
            call(() -> s3.read(name, 0, 1), "reading the first byte of " + name, "run the command again");
            return new Status(State.READY, null);
        } catch (HavenException e) {
            if (e.code() == ErrorCode.COLD) {
                return new Status(State.COLD, null);
            }
            throw e;
        }
    }

    /**
     * The thaw state HeadObject's answer shows: from {@code x-amz-restore} when present, else from
     * the object's storage class; null when the class is unknown (the caller then tries a read).
     */
    static Status statusOf(String objectClass, String restore, String archiveStatus, String name) {
        if (restore != null && !restore.isBlank()) {
            return parseRestore(restore, name);
        }
        String cls = objectClass == null ? S3Backend.STANDARD : objectClass.toUpperCase(Locale.ROOT);
        if (ARCHIVE_CLASSES.contains(cls) || archiveStatus != null && !archiveStatus.isBlank()) {
            return new Status(State.COLD, null);
        }
        return READABLE_CLASSES.contains(cls) ? new Status(State.READY, null) : null;
    }

    /**
     * Reads {@code x-amz-restore}: {@code ongoing-request="true"} is THAWING,
     * {@code ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"} is READY until
     * that date. Spaces, the case of the words, the order and quoting are not relied on; an
     * expiry date that cannot be read leaves the time open.
     */
    static Status parseRestore(String header, String name) {
        Matcher ongoing = ONGOING.matcher(header);
        if (!ongoing.find()) {
            throw new HavenException(ErrorCode.IO, "cannot read the restore state of " + name + " that S3 sent (x-amz-restore: "
                    + header + "); run the command again, and report this if it persists");
        }
        if (ongoing.group(1).equalsIgnoreCase("true")) {
            return new Status(State.THAWING, null);
        }
        Matcher expiry = EXPIRY.matcher(header);
        Instant until = null;
        if (expiry.find()) {
            until = parseDate((expiry.group(1) != null ? expiry.group(1) : expiry.group(2)).trim());
        }
        return new Status(State.READY, until);
    }

    private static Instant parseDate(String s) {
        try {
            return ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    @Override
    public void requestThaw(String name, Backend warm) {
        if (READABLE_CLASSES.contains(storageClass)) {
            return; // GLACIER_IR and the like are read in place
        }
        // INTELLIGENT_TIERING's archive tiers take no Days: the restored object stays 3 days
        Integer days = storageClass.equalsIgnoreCase("INTELLIGENT_TIERING") ? null : thawDays;
        call(() -> s3.restore(name, days, retrieval), "asking for a restore of " + name,
                "run 'haven thaw SNAPSHOT' (or the restore) again");
        // ACCEPTED, ALREADY_IN_PROGRESS (409) and NOT_ARCHIVED (readable in place) all need nothing more
    }

    /**
     * Once the object is readable (restored, or a class read in place), copies it onto itself in
     * {@code STANDARD}, as AWS documents for making a restore permanent; checked with HeadObject.
     */
    @Override
    public boolean unfreeze(String name, Backend warm) {
        if (status(name, warm).state() != State.READY) {
            return false;
        }
        String hint = "the pack stays in " + storageClass + "; run 'haven tier apply' again";
        call(() -> {
            s3.changeStorageClass(name, S3Backend.STANDARD);
            return null;
        }, "moving " + name + " back to " + S3Backend.STANDARD, hint);
        String now = call(() -> s3.head(name), "looking at " + name, hint)
                .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "pack " + name + " disappeared from "
                        + s3.location() + " while it moved back to " + S3Backend.STANDARD + "; run 'haven check'"))
                .storageClass();
        if (now.equalsIgnoreCase(storageClass)) {
            throw new HavenException(ErrorCode.IO, "the S3 service at " + s3.location() + " accepted the copy of " + name
                    + " to " + S3Backend.STANDARD + " but keeps it in " + now + "; " + hint);
        }
        return true;
    }

    @Override
    public boolean refreeze(String name, Backend warm, Instant now) {
        return false; // S3 deletes a restored copy itself after its days
    }

    @Override
    public void delete(String name) {
        call(() -> {
            s3.delete(name);
            return null;
        }, "deleting " + name, "run the command again");
    }

    @Override
    public Duration minimumStorage() {
        return MINIMUM_STORAGE.getOrDefault(storageClass, Duration.ZERO);
    }

    @Override
    public Duration typicalThaw() {
        return TYPICAL_THAW.getOrDefault(storageClass + "/" + retrieval, Duration.ZERO);
    }

    /** Nothing to close: the S3 backend belongs to the repository's warm side. */
    @Override
    public void close() {}

    /** {@code op} with retries; a failure that remains says what was being done and what to do. */
    private <T> T call(Supplier<T> op, String doing, String hint) {
        try {
            return retrier.call(op);
        } catch (HavenException e) {
            if (e.code() == ErrorCode.COLD || e.code() == ErrorCode.NOT_FOUND) {
                throw e; // callers decide; the message names the object already
            }
            throw new HavenException(e.code(), "cold tier (" + storageClass + "): " + doing + " failed: " + e.getMessage()
                    + "; " + hint, e);
        }
    }
}
