package io.haven.cli;

import io.haven.repository.backend.Backend;
import io.haven.repository.backend.RetryingBackend;
import io.haven.repository.backend.S3Backend;
import io.haven.repository.backend.S3Options;
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
}
