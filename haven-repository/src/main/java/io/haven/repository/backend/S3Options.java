package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * How {@link S3Backend} talks to the object store. Built once at the edge; no field is read from
 * the environment later.
 *
 * @param region the signing region ({@code us-east-1} unless the service says otherwise)
 * @param addressing path style or virtual-host style; {@link Addressing#AUTO} decides from the
 *     endpoint (see {@link S3Location#defaultPathStyle()})
 * @param credentials where the keys come from
 * @param connectTimeout how long to wait for a TCP connection
 * @param socketTimeout how long to wait for the next bytes of an answer
 */
public record S3Options(String region, Addressing addressing, S3Credentials credentials, Duration connectTimeout,
        Duration socketTimeout) {
    public static final String DEFAULT_REGION = "us-east-1";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofSeconds(60);

    /** How a bucket is named in a request. */
    public enum Addressing {
        /** Path style for an IP address, {@code localhost} or an explicit port, virtual-host style otherwise. */
        AUTO,
        /** {@code http://HOST/BUCKET/KEY}: works with any DNS; what most self-hosted servers expect. */
        PATH,
        /** {@code https://BUCKET.HOST/KEY}: what AWS prefers; needs DNS (and TLS certificates) for {@code BUCKET.HOST}. */
        VIRTUAL_HOST
    }

    public S3Options {
        if (region == null || region.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "the S3 region must not be empty");
        }
        if (addressing == null || credentials == null) {
            throw new HavenException(ErrorCode.USAGE, "S3 options need an addressing style and credentials");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero() || socketTimeout.isNegative() || socketTimeout.isZero()) {
            throw new HavenException(ErrorCode.USAGE, "S3 timeouts must be positive");
        }
    }

    /** Default region, addressing and timeouts with the given credentials. */
    public static S3Options defaults(S3Credentials credentials) {
        return new S3Options(DEFAULT_REGION, Addressing.AUTO, credentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_SOCKET_TIMEOUT);
    }

    /**
     * Options from the usual AWS environment, for the command line's {@code main} to call with
     * {@code System.getenv()} and the user's home directory:
     * <ul>
     * <li>region: {@code AWS_REGION}, else {@code AWS_DEFAULT_REGION}, else {@code us-east-1};</li>
     * <li>credentials: {@code AWS_ACCESS_KEY_ID} + {@code AWS_SECRET_ACCESS_KEY} (+ {@code AWS_SESSION_TOKEN})
     * when set; else profile {@code AWS_PROFILE} (default {@code default}) of
     * {@code AWS_SHARED_CREDENTIALS_FILE} (default {@code HOME/.aws/credentials}) when either
     * variable is set or that file exists; else {@link S3Credentials.SdkDefaultChain}.</li>
     * </ul>
     *
     * @throws HavenException USAGE when only one of the two key variables is set
     */
    public static S3Options fromEnvironment(Map<String, String> env, Path home) {
        String region = firstSet(env, "AWS_REGION", "AWS_DEFAULT_REGION");
        String keyId = firstSet(env, "AWS_ACCESS_KEY_ID");
        String secret = firstSet(env, "AWS_SECRET_ACCESS_KEY");
        S3Credentials credentials;
        if (keyId != null && secret != null) {
            credentials = new S3Credentials.Keys(keyId, secret, firstSet(env, "AWS_SESSION_TOKEN"));
        } else if (keyId != null || secret != null) {
            throw new HavenException(ErrorCode.USAGE, (keyId != null ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                    : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") + ": set both, or neither to use a profile");
        } else {
            String profile = firstSet(env, "AWS_PROFILE");
            String fileVar = firstSet(env, "AWS_SHARED_CREDENTIALS_FILE");
            Path file = fileVar != null ? Path.of(fileVar) : home.resolve(".aws").resolve("credentials");
            if (profile != null || fileVar != null || Files.isRegularFile(file)) {
                credentials = new S3Credentials.Profile(profile != null ? profile : "default", file);
            } else {
                credentials = new S3Credentials.SdkDefaultChain();
            }
        }
        return defaults(credentials).withRegion(region != null ? region : DEFAULT_REGION);
    }

    private static String firstSet(Map<String, String> env, String... names) {
        for (String n : names) {
            String v = env.get(n);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }

    public S3Options withRegion(String region) {
        return new S3Options(region, addressing, credentials, connectTimeout, socketTimeout);
    }

    public S3Options withAddressing(Addressing addressing) {
        return new S3Options(region, addressing, credentials, connectTimeout, socketTimeout);
    }

    public S3Options withCredentials(S3Credentials credentials) {
        return new S3Options(region, addressing, credentials, connectTimeout, socketTimeout);
    }

    public S3Options withTimeouts(Duration connectTimeout, Duration socketTimeout) {
        return new S3Options(region, addressing, credentials, connectTimeout, socketTimeout);
    }

    /** Whether requests to {@code location} use path style. */
    public boolean pathStyle(S3Location location) {
        return switch (addressing) {
            case AUTO -> location.defaultPathStyle();
            case PATH -> true;
            case VIRTUAL_HOST -> false;
        };
    }
}
