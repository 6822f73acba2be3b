package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.tier.ArchiveBackendTier;
import io.haven.repository.tier.ColdTier;
import io.haven.repository.tier.TierPolicy;
import io.haven.repository.tier.TieredBackend;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/** Opens a repository's cold tier from its tier policy. */
final class Tiers {
    private Tiers() {}

    static final Set<String> S3_CLASSES = Set.of("GLACIER", "DEEP_ARCHIVE", "GLACIER_IR");

    /** Whether {@code cold} names an S3 storage class rather than a location. */
    static boolean isStorageClass(String cold) {
        return S3_CLASSES.contains(cold.toUpperCase(Locale.ROOT)) || cold.startsWith("class:");
    }

    /** Checks that this version can use {@code cold}; USAGE otherwise. */
    static void checkSupported(String cold) {
        if (isStorageClass(cold)) {
            throw new HavenException(ErrorCode.USAGE, "cold tier '" + cold + "': S3 storage classes are not supported by this"
                    + " version yet; use a separate location (a directory, local:PATH, or s3:http[s]://HOST/BUCKET[/PREFIX])");
        }
    }

    static ColdTier open(TierPolicy policy, Env env) {
        String cold = policy.cold();
        checkSupported(cold);
        Backend archive;
        if (cold.startsWith("s3:")) {
            archive = S3Repositories.open(cold, env);
        } else {
            String path = cold.startsWith("local:") ? cold.substring("local:".length()) : cold;
            if (path.matches("^[a-z][a-z0-9+]*:.*")) {
                throw new HavenException(ErrorCode.USAGE, "cold tier location '" + cold + "' names a backend this version does not have");
            }
            archive = new LocalBackend(env.resolve(path));
        }
        return new ArchiveBackendTier(archive, Duration.ofDays(policy.thawDays()));
    }

    /** {@code repo} over its cold tier when it has a tier policy; {@code repo} itself otherwise. */
    static Repository withColdTier(Repository repo, Env env) {
        var policy = repo.tierPolicy();
        if (policy.isEmpty()) {
            return repo;
        }
        return repo.withBackend(new TieredBackend(repo.backend(), open(policy.get(), env)));
    }
}
