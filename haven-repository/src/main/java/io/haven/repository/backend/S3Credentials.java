package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Path;

/**
 * Where {@link S3Backend} takes its credentials from. Chosen at the edge (the command line, from
 * the environment through {@link S3Options#fromEnvironment}); the backend itself reads no
 * environment variables.
 */
public sealed interface S3Credentials {
    /** Said in error messages, so an operator knows which credentials were refused. Never contains a secret. */
    String describe();

    /**
     * An access key pair, with an optional session token (temporary credentials); {@code toString}
     * hides the secret and the token.
     *
     * @param sessionToken the token of temporary credentials, or null
     */
    record Keys(String accessKeyId, String secretAccessKey, String sessionToken) implements S3Credentials {
        public Keys {
            if (accessKeyId == null || accessKeyId.isBlank() || secretAccessKey == null || secretAccessKey.isEmpty()) {
                throw new HavenException(ErrorCode.USAGE, "an S3 access key needs both an access key id and a secret key");
            }
            if (sessionToken != null && sessionToken.isEmpty()) {
                sessionToken = null;
            }
        }

        public Keys(String accessKeyId, String secretAccessKey) {
            this(accessKeyId, secretAccessKey, null);
        }

        @Override
        public String describe() {
            return "access key " + accessKeyId + (sessionToken == null ? "" : " with a session token");
        }

        @Override
        public String toString() {
            return "Keys[" + accessKeyId + ", secret hidden" + (sessionToken == null ? "" : ", session token hidden") + "]";
        }
    }

    /**
     * A named profile of an AWS shared credentials file ({@code ~/.aws/credentials}). Only profiles
     * with static keys ({@code aws_access_key_id}, {@code aws_secret_access_key}, optional
     * {@code aws_session_token}) work: role and SSO profiles need SDK modules Haven does not ship.
     */
    record Profile(String name, Path file) implements S3Credentials {
        public Profile {
            if (name == null || name.isBlank()) {
                throw new HavenException(ErrorCode.USAGE, "an AWS profile name must not be empty");
            }
        }

        @Override
        public String describe() {
            return "profile '" + name + "' of " + file;
        }
    }

    /**
     * The AWS SDK's own default chain: system properties, environment variables, the shared
     * credentials and config files, then container and EC2 instance roles. The SDK reads the
     * environment itself, so use this only at the edge, when nothing explicit was found (it is
     * what lets an EC2 instance or ECS task use its role).
     */
    record SdkDefaultChain() implements S3Credentials {
        @Override
        public String describe() {
            return "the AWS SDK's default credential chain (environment, ~/.aws, instance role)";
        }
    }
}
