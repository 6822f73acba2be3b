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

/** Opens a repository's cold tier from its tier policy. */
final class Tiers {
    private Tiers() {}

    static final String NEEDS_S3 = "a storage class needs a repository in S3; use a directory or s3: bucket location"
            + " (local:PATH, a path, or s3:http[s]://HOST/BUCKET[/PREFIX]) as the cold tier";

    /** Whether {@code cold} names an S3 storage class rather than a location (USAGE for a malformed class:NAME). */
    static boolean isStorageClass(String cold) {
        return TierPolicy.storageClassOf(cold).isPresent();
    }

    /**
     * Checks that {@code cold} can be the cold tier of the repository at {@code repoLocation}: an S3
     * storage class only for a repository in S3 ({@code s3:}). USAGE otherwise.
     */
    static void checkSupported(String cold, String repoLocation) {
        if (isStorageClass(cold) && !repoLocation.startsWith("s3:")) {
            throw new HavenException(ErrorCode.USAGE, "cold tier '" + cold + "': " + NEEDS_S3);
        }
    }

    /**
     * The cold tier {@code policy} names, for the repository reached through {@code repoBackend}
     * (whose S3 backend a storage class needs: the packs change class in place, in its bucket).
     */
    static ColdTier open(TierPolicy policy, Env env, Backend repoBackend, String repositoryId) {
        String cold = policy.cold();
        if (isStorageClass(cold)) {
            if (repoBackend.local()) {
                throw new HavenException(ErrorCode.USAGE, "the tier policy's cold tier is S3 storage class '" + cold
                        + "', but the repository at " + repoBackend.location() + " is not in S3: " + NEEDS_S3);
            }
            return S3Repositories.storageClassTier(policy, repoBackend);
        }
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
        return new ArchiveBackendTier(archive, Duration.ofDays(policy.thawDays()), repositoryId);
    }

    /**
     * The cold location as stored in the policy: a path becomes {@code local:} and absolute (the
     * policy is read by every host and by cron jobs, from any working directory).
     */
    static String normalize(String cold, Env env) {
        if (isStorageClass(cold) || cold.startsWith("s3:")) {
            return cold;
        }
        String path = cold.startsWith("local:") ? cold.substring("local:".length()) : cold;
        return "local:" + env.resolve(path);
    }

    /**
     * Refuses a cold directory that does not exist: Haven does not create one, so that a mistyped
     * path, or the mount point of an archive volume that is not mounted yet (then often missing
     * too), is not taken for the archive.
     */
    static void checkExists(TierPolicy policy, Env env) {
        String cold = policy.cold();
        if (!cold.startsWith("local:")) {
            return;
        }
        java.nio.file.Path dir = env.resolve(cold.substring("local:".length()));
        if (!java.nio.file.Files.isDirectory(dir)) {
            throw new HavenException(ErrorCode.USAGE, "the cold location " + dir + " is not a directory; Haven does not create"
                    + " it, so that a mistyped path is not taken for the archive: create it (or mount the archive volume) first");
        }
    }

    /** Refuses a cold location that is the repository itself, inside it, or holds it. */
    static void checkApart(ColdTier tier, Backend repoBackend) {
        if (!(tier instanceof ArchiveBackendTier a)) {
            return;
        }
        String cold = trimSlash(a.archive().location());
        Backend warm = repoBackend instanceof TieredBackend t ? t.warm() : repoBackend;
        String repo = trimSlash(warm.find(LocalBackend.class).map(LocalBackend::location).orElse(warm.location()));
        if (cold.equals(repo) || cold.startsWith(repo + "/") || repo.startsWith(cold + "/")) {
            throw new HavenException(ErrorCode.USAGE, "the cold tier " + cold + " overlaps the repository " + repo
                    + "; it must be a location of its own");
        }
    }

    private static String trimSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    /** {@code repo} over its cold tier when it has a tier policy; {@code repo} itself otherwise. */
    static Repository withColdTier(Repository repo, Env env) {
        var policy = repo.tierPolicy();
        if (policy.isEmpty()) {
            return repo;
        }
        return repo.withBackend(new TieredBackend(repo.backend(), open(policy.get(), env, repo.backend(), repo.config().id())));
    }
}
