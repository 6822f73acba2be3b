package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.CachingBackend;
import io.haven.repository.backend.Retrier;
import io.haven.repository.backend.RetryingBackend;
import io.haven.repository.backend.S3Backend;
import io.haven.repository.backend.S3Options;
import io.haven.repository.tier.ColdTier;
import io.haven.repository.tier.S3StorageClassTier;
import io.haven.repository.tier.TierPolicy;
import io.haven.repository.tier.TieredBackend;
import java.nio.file.Path;

/**
 * Opens {@code s3:} locations. A class of its own so that the AWS SDK is loaded only when a
 * repository lives in S3 (it costs about a second of start-up).
 */
final class S3Repositories {
    private S3Repositories() {}

    /** The S3 backend for {@code location}, configured from the AWS_* environment, with retries. */
    static Backend open(String location, Env env) {
        String home = env.get("HOME");
        S3Options options = S3Options.fromEnvironment(env.vars(), Path.of(home == null ? "/root" : home));
        String style = env.get("HAVEN_S3_ADDRESSING");
        if (style != null) {
            options = options.withAddressing(switch (style.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "path" -> S3Options.Addressing.PATH;
                case "virtual-host", "virtual" -> S3Options.Addressing.VIRTUAL_HOST;
                case "auto" -> S3Options.Addressing.AUTO;
                default -> throw new io.haven.core.HavenException(io.haven.core.ErrorCode.USAGE,
                        "HAVEN_S3_ADDRESSING must be path, virtual-host or auto, not '" + style + "'");
            });
        }
        return RetryingBackend.wrap(S3Backend.open(location, options));
    }

    /**
     * The S3 storage-class cold tier of {@code policy} on the repository's own bucket: the
     * {@link S3Backend} inside the CLI's chain ({@code CachingBackend(RetryingBackend(S3Backend))},
     * without the cache under {@code --no-cache}, possibly inside a {@link TieredBackend}), retried
     * by the chain's {@link RetryingBackend} so both follow one policy and one retry count.
     */
    static ColdTier storageClassTier(TierPolicy policy, Backend repoBackend) {
        Retrier retrier = null;
        for (Backend b = repoBackend; b != null; ) {
            if (b instanceof S3Backend s3) {
                return S3StorageClassTier.forPolicy(s3, policy, retrier != null ? retrier : Retrier.standard());
            }
            if (b instanceof RetryingBackend r) {
                retrier = retrier != null ? retrier : r.retrier();
                b = r.inner();
            } else if (b instanceof CachingBackend c) {
                b = c.remote();
            } else if (b instanceof TieredBackend t) {
                b = t.warm();
            } else {
                b = null;
            }
        }
        throw new HavenException(ErrorCode.USAGE, "cold tier '" + policy.cold() + "': the repository at "
                + repoBackend.location() + " is not in S3: " + Tiers.NEEDS_S3);
    }
}
