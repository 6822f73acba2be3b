package io.haven.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Random;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/** The conformance suite against s3proxy, each test in a fresh prefix of one bucket; plus what only S3 has. */
class S3BackendTest extends BackendConformanceTest {
    @TempDir
    static Path dir;
    static S3TestServer server;
    private static final AtomicInteger repos = new AtomicInteger();

    @BeforeAll
    static void startServer() {
        server = S3TestServer.start(dir);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @Override
    protected Backend newBackend() {
        return new S3Backend(server.location("repos/r" + repos.incrementAndGet()), server.options());
    }

    @Test
    void objectsAreStoredUnderThePrefixWithTheirNames() {
        backend.write("config", bytes(10, 1));
        String prefix = ((S3Backend) backend).s3Location().prefix();
        try (S3Client raw = rawClient()) {
            assertThat(raw.listObjectsV2(r -> r.bucket(S3TestServer.BUCKET).prefix(prefix + "/")).contents())
                    .extracting(o -> o.key()).containsExactly(prefix + "/config");
        }
    }

    @Test
    void listFollowsContinuationTokensAcrossPages() {
        S3Backend small = new S3Backend(server.location("repos/paged" + repos.incrementAndGet()), server.options(), 2, b -> { });
        for (int i = 0; i < 7; i++) {
            small.write(packName("data", i), bytes(3, i));
        }
        assertThat(small.list("data")).hasSize(7);
        small.close();
    }

    @Test
    void aWrongSecretKeyIsRefusedWithAMessageNamingTheKeyToCheck() {
        S3Options wrong = server.options().withCredentials(new S3Credentials.Keys(S3TestServer.ACCESS_KEY, "not-the-secret"));
        try (S3Backend b = new S3Backend(server.location("repos/wrong"), wrong)) {
            assertThatThrownBy(() -> b.list("keys")).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
                assertThat(e.getMessage()).contains("access denied to s3://haven-test/repos/wrong/keys",
                        "access key " + S3TestServer.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY").doesNotContain("not-the-secret");
            });
        }
    }

    @Test
    void aMissingBucketIsReportedByName() {
        try (S3Backend b = new S3Backend(server.location("no-such-bucket", "repo"), server.options())) {
            assertThatThrownBy(() -> b.read("config")).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.REPOSITORY_NOT_FOUND);
                assertThat(e.getMessage()).contains("'no-such-bucket'", server.endpoint().toString());
            });
        }
    }

    @Test
    void keysFromAProfileOfACredentialsFileWork(@TempDir Path home) throws IOException {
        Path file = Files.writeString(home.resolve("credentials"), "[default]\naws_access_key_id = wrong\n"
                + "aws_secret_access_key = wrong\n\n[haven]\naws_access_key_id = " + S3TestServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3TestServer.SECRET_KEY + "\n");
        S3Options profile = server.options().withCredentials(new S3Credentials.Profile("haven", file));
        try (S3Backend b = new S3Backend(server.location("repos/profile"), profile)) {
            b.write("config", bytes(3, 1));
            assertThat(b.read("config")).isEqualTo(bytes(3, 1));
        }
    }

    @Test
    void aServerThatWentAwayIsRetriedBoundedTimesAndEndsInAnIoErrorNamingTheLocation(@TempDir Path other) {
        S3TestServer gone = S3TestServer.start(other);
        S3Location location = gone.location("repo");
        try (S3Backend b = new S3Backend(location, gone.options())) {
            b.write("config", bytes(3, 1));
            gone.close();
            RecordingSleeper sleeper = new RecordingSleeper();
            RetryingBackend r = new RetryingBackend(b, RetryPolicy.DEFAULT, sleeper, new Random(1));
            assertThatThrownBy(() -> r.read("config")).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e).isNotInstanceOf(TransientBackendException.class);
                assertThat(e.code()).isEqualTo(ErrorCode.IO);
                assertThat(e.getMessage()).contains("config", location.toString(), "ConnectException",
                        "gave up after 6 attempts");
            });
            assertThat(r.retries()).isEqualTo(5);
            assertThat(sleeper.delays()).hasSize(5);
        }
    }

    private static S3Client rawClient() {
        return S3Client.builder().endpointOverride(server.endpoint())
                .region(software.amazon.awssdk.regions.Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(() -> software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(
                        S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY))
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create()).build();
    }
}
