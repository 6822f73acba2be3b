package io.haven.repository.tier;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.maintenance.RetentionPolicy.Within;
import io.haven.repository.snapshot.Snapshot;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * When a snapshot's data goes cold, and where to. Stored sealed in the repository
 * ({@code tier/<hash>}, the newest {@code set_at} wins), so every host and the server apply the
 * same policy. {@code cold} is a location ({@code local:PATH}, a path, or {@code s3:…} for a
 * separate bucket) or an S3 storage class ({@code GLACIER}, {@code DEEP_ARCHIVE},
 * {@code GLACIER_IR}, or {@code class:NAME}) for a repository in S3.
 *
 * <p>A snapshot is old when it is older than the first of: the longest {@code tags} age among its
 * tags, its host's {@code hosts} age, {@code after}. A data pack goes cold when only old
 * snapshots use it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TierPolicy(
        int version,
        @JsonProperty("set_at") String setAt,
        String cold,
        String after,
        Map<String, String> hosts,
        Map<String, String> tags,
        @JsonProperty("thaw_days") int thawDays,
        String retrieval) {
    public static final String DEFAULT_AFTER = "90d";
    public static final int DEFAULT_THAW_DAYS = 7;
    public static final List<String> RETRIEVAL_TIERS = List.of("Standard", "Bulk", "Expedited");
    /** The S3 storage classes {@code --cold} takes by name; others are {@code class:NAME}. */
    public static final List<String> STORAGE_CLASSES = List.of("GLACIER", "DEEP_ARCHIVE", "GLACIER_IR");

    public TierPolicy {
        hosts = hosts == null ? Map.of() : new TreeMap<>(hosts);
        tags = tags == null ? Map.of() : new TreeMap<>(tags);
        after = after == null ? DEFAULT_AFTER : after;
        thawDays = thawDays <= 0 ? DEFAULT_THAW_DAYS : thawDays;
        retrieval = retrieval == null ? "Standard" : retrieval;
    }

    /** Checks every field; USAGE naming the field when one is wrong. */
    public TierPolicy validate() {
        if (version != 1) {
            throw new HavenException(ErrorCode.CORRUPT, "tier policy version " + version + " is not supported by this version of Haven");
        }
        if (cold == null || cold.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "tier policy: --cold is required (a directory, local:PATH, s3:URL, or an S3 storage class such as GLACIER)");
        }
        storageClassOf(cold);
        parse("--after", after);
        hosts.forEach((h, a) -> parse("--host-after " + h, a));
        tags.forEach((t, a) -> parse("--tag-after " + t, a));
        if (!RETRIEVAL_TIERS.contains(retrieval)) {
            throw new HavenException(ErrorCode.USAGE, "tier policy: --retrieval must be one of " + RETRIEVAL_TIERS + ", not '" + retrieval + "'");
        }
        if (thawDays > 3650) {
            throw new HavenException(ErrorCode.USAGE, "tier policy: --thaw-days must be at most 3650");
        }
        return this;
    }

    /**
     * The S3 storage class {@code cold} names ({@code GLACIER}, {@code DEEP_ARCHIVE},
     * {@code GLACIER_IR} in any case, or {@code class:NAME}), or empty when it is a location.
     *
     * @throws HavenException USAGE for {@code class:} with an empty or malformed name, or the warm
     *     class {@code STANDARD}
     */
    public static java.util.Optional<String> storageClassOf(String cold) {
        if (cold == null) {
            return java.util.Optional.empty();
        }
        String upper = cold.toUpperCase(java.util.Locale.ROOT);
        if (STORAGE_CLASSES.contains(upper)) {
            return java.util.Optional.of(upper);
        }
        if (!cold.startsWith("class:")) {
            return java.util.Optional.empty();
        }
        String name = cold.substring("class:".length());
        if (!name.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new HavenException(ErrorCode.USAGE, "cold tier '" + cold + "': class:NAME needs the name of an S3 storage"
                    + " class (letters, digits, '_' or '-'), e.g. class:GLACIER");
        }
        if (name.equalsIgnoreCase("STANDARD")) {
            throw new HavenException(ErrorCode.USAGE, "cold tier '" + cold + "': STANDARD is the class warm data is in, so"
                    + " it cannot be the cold tier; use an archive class such as GLACIER or DEEP_ARCHIVE");
        }
        return java.util.Optional.of(name);
    }

    private static Within parse(String what, String value) {
        try {
            return Within.parse(value);
        } catch (HavenException e) {
            throw new HavenException(ErrorCode.USAGE, "tier policy " + what + ": " + e.getMessage());
        }
    }

    /** The age after which {@code s}'s data may go cold. */
    public Within ageFor(Snapshot s) {
        Within best = null;
        Instant ref = Instant.EPOCH.plusSeconds(100L * 365 * 86400);
        for (String t : s.tags() == null ? List.<String>of() : s.tags()) {
            String a = tags.get(t);
            if (a != null) {
                Within w = parse("tag " + t, a);
                if (best == null || cutoff(w, ref).isBefore(cutoff(best, ref))) {
                    best = w;   // the longest age keeps data warm longest
                }
            }
        }
        if (best != null) {
            return best;
        }
        String h = hosts.get(s.host());
        return parse(h != null ? "host " + s.host() : "--after", h != null ? h : after);
    }

    /** The instant {@code age} before {@code now}. */
    public static Instant cutoff(Within age, Instant now) {
        return now.atOffset(ZoneOffset.UTC).minus(age.period()).minus(age.duration()).toInstant();
    }

    /** Whether {@code s} is old enough at {@code now} for its data to go cold. */
    public boolean isOld(Snapshot s, Instant snapshotTime, Instant now) {
        return snapshotTime.isBefore(cutoff(ageFor(s), now));
    }
}
