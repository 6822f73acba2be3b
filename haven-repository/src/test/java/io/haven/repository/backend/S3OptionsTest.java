package io.haven.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class S3OptionsTest {
    @TempDir
    Path home;

    @Test
    void keysInTheEnvironmentComeFirst() {
        S3Options o = S3Options.fromEnvironment(Map.of("AWS_ACCESS_KEY_ID", "AKIA1", "AWS_SECRET_ACCESS_KEY", "s3cret",
                "AWS_SESSION_TOKEN", "tok", "AWS_PROFILE", "ignored", "AWS_REGION", "eu-central-1"), home);
        assertThat(o.credentials()).isEqualTo(new S3Credentials.Keys("AKIA1", "s3cret", "tok"));
        assertThat(o.region()).isEqualTo("eu-central-1");
        assertThat(o.addressing()).isEqualTo(S3Options.Addressing.AUTO);
    }

    @Test
    void withoutKeysTheNamedProfileOfTheCredentialsFileIsUsed() throws IOException {
        Files.createDirectories(home.resolve(".aws"));
        Path file = Files.writeString(home.resolve(".aws/credentials"), "[default]\n");
        assertThat(S3Options.fromEnvironment(Map.of(), home).credentials())
                .isEqualTo(new S3Credentials.Profile("default", file));
        assertThat(S3Options.fromEnvironment(Map.of("AWS_PROFILE", "work"), home).credentials())
                .isEqualTo(new S3Credentials.Profile("work", file));
        assertThat(S3Options.fromEnvironment(Map.of("AWS_SHARED_CREDENTIALS_FILE", "/etc/haven/aws"), home).credentials())
                .isEqualTo(new S3Credentials.Profile("default", Path.of("/etc/haven/aws")));
    }

    @Test
    void withNeitherKeysNorACredentialsFileTheSdkChainIsLeftToFindARole() {
        S3Options o = S3Options.fromEnvironment(Map.of("AWS_DEFAULT_REGION", "ap-south-1"), home);
        assertThat(o.credentials()).isInstanceOf(S3Credentials.SdkDefaultChain.class);
        assertThat(o.region()).isEqualTo("ap-south-1");
        assertThat(S3Options.fromEnvironment(Map.of(), home).region()).isEqualTo("us-east-1");
    }

    @Test
    void halfAKeyPairIsAUsageError() {
        assertThatThrownBy(() -> S3Options.fromEnvironment(Map.of("AWS_ACCESS_KEY_ID", "AKIA1"), home))
                .isInstanceOfSatisfying(HavenException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
                    assertThat(e.getMessage()).contains("AWS_SECRET_ACCESS_KEY is not");
                });
    }

    @Test
    void keysNeverShowTheSecretOrTokenInText() {
        S3Credentials.Keys k = new S3Credentials.Keys("AKIA1", "s3cret", "tok3n");
        assertThat(k.toString()).contains("AKIA1").doesNotContain("s3cret", "tok3n");
        assertThat(k.describe()).contains("AKIA1").doesNotContain("s3cret", "tok3n");
    }

    @Test
    void explicitAddressingOverridesTheEndpointsDefault() {
        S3Location minio = S3Location.parse("s3:http://10.0.0.5:9000/bk1");
        S3Location aws = S3Location.parse("s3:https://s3.amazonaws.com/bk1");
        S3Options o = S3Options.defaults(new S3Credentials.SdkDefaultChain());
        assertThat(o.pathStyle(minio)).isTrue();
        assertThat(o.pathStyle(aws)).isFalse();
        assertThat(o.withAddressing(S3Options.Addressing.PATH).pathStyle(aws)).isTrue();
        assertThat(o.withAddressing(S3Options.Addressing.VIRTUAL_HOST).pathStyle(minio)).isFalse();
    }
}
