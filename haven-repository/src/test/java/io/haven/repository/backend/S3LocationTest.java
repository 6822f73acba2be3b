package io.haven.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class S3LocationTest {
    @Test
    void parsesEndpointBucketAndPrefix() {
        S3Location l = S3Location.parse("s3:https://s3.eu-west-1.amazonaws.com/backups/hosts/db1/");
        assertThat(l.endpoint()).isEqualTo(URI.create("https://s3.eu-west-1.amazonaws.com"));
        assertThat(l.bucket()).isEqualTo("backups");
        assertThat(l.prefix()).isEqualTo("hosts/db1");
        assertThat(l.key("data/ab/abcd")).isEqualTo("hosts/db1/data/ab/abcd");
        assertThat(l).hasToString("s3:https://s3.eu-west-1.amazonaws.com/backups/hosts/db1");
    }

    @Test
    void aBucketWithoutPrefixStoresObjectsAtItsRoot() {
        S3Location l = S3Location.parse("s3:http://127.0.0.1:9000/haven");
        assertThat(l.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
        assertThat(l.prefix()).isEmpty();
        assertThat(l.key("config")).isEqualTo("config");
        assertThat(S3Location.parse(l.toString())).isEqualTo(l);
    }

    @ParameterizedTest
    @CsvSource({"s3:http://127.0.0.1/bk1, true", "s3:http://[::1]/bk1, true", "s3:http://localhost/bk1, true",
            "s3:https://minio.example.com:9000/bk1, true", "s3:https://s3.amazonaws.com/bk1, false",
            "s3:https://nyc3.digitaloceanspaces.com/bk1, false"})
    void pathStyleIsTheDefaultForAddressesLocalhostAndExplicitPorts(String location, boolean pathStyle) {
        assertThat(S3Location.parse(location).defaultPathStyle()).isEqualTo(pathStyle);
    }

    @Test
    void isS3RecognisesTheScheme() {
        assertThat(S3Location.isS3("s3:https://x/bk1")).isTrue();
        assertThat(S3Location.isS3("S3:https://x/b")).isTrue();
        assertThat(S3Location.isS3("/srv/repo")).isFalse();
        assertThat(S3Location.isS3("s3bucket")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"s3://bucket/prefix", "s3:bucket/prefix", "s3:ftp://host/bucket", "s3:https://host",
            "s3:https://host/", "s3:https://host/b", "s3:https://host/bad_bucket!", "s3:https://host/bk1/a//b",
            "s3:https://host/bk1/../x", "s3:https://key:secret@host/bk1", "s3:https://host/bk1?x=1", "s3:https://ho st/bk1",
            "/srv/repo"})
    void malformedLocationsAreUsageErrorsShowingTheSyntax(String location) {
        assertThatThrownBy(() -> S3Location.parse(location)).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
            assertThat(e.getMessage()).containsAnyOf(S3Location.SYNTAX, "bucket name", "prefix", "credentials");
        });
    }

    @Test
    void credentialsInTheLocationAreRefusedWithoutRepeatingAdvice() {
        assertThatThrownBy(() -> S3Location.parse("s3:https://key:secret@host/bk1"))
                .hasMessageContaining("AWS_ACCESS_KEY_ID");
    }
}
