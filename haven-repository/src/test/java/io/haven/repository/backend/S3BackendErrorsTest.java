package io.haven.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.ScriptedHttpServer.Answer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/** How {@link S3Backend} reads the answers of a misbehaving or misconfigured service, from a scripted HTTP server. */
class S3BackendErrorsTest {
    private static final String SECRET = "wJalrXUtnFEMI-test-secret";
    private final ScriptedHttpServer http;
    private final S3Backend backend;

    @TempDir
    Path dir;

    S3BackendErrorsTest() throws IOException {
        http = new ScriptedHttpServer();
        backend = new S3Backend(new S3Location(http.endpoint(), "bucket", "repo"), options());
    }

    private static S3Options options() {
        return S3Options.defaults(new S3Credentials.Keys("AKIATEST", SECRET))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        backend.close();
        http.close();
        assertThat(http.unexpected()).as("requests without a scripted answer").isZero();
    }

    private static void assertFails(Runnable call, ErrorCode code, boolean isTransient, String... inMessage) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e instanceof TransientBackendException).as("transient").isEqualTo(isTransient);
            assertThat(e.getMessage()).contains(inMessage).doesNotContain(SECRET);
        });
    }

    @ParameterizedTest
    @CsvSource({"503, SlowDown", "500, InternalError", "503, ServiceUnavailable", "504, GatewayTimeout",
            "429, TooManyRequests", "400, RequestTimeout", "400, BadDigest", "400, IncompleteBody"})
    void throttlingServerErrorsAndDamagedTransfersAreTransient(int status, String code) {
        http.answer(Answer.error(status, code, "try again"));
        assertFails(() -> backend.read("config"), ErrorCode.IO, true, "config", backend.location(), code);
    }

    @Test
    void aBareGatewayErrorWithoutAnErrorDocumentIsTransient() {
        http.answer(Answer.status(502));
        assertFails(() -> backend.read("config"), ErrorCode.IO, true, "config", "502");
    }

    @Test
    void aMissingObjectIsNotFoundNamingItAndStatsAsAbsent() {
        http.answer(Answer.error(404, "NoSuchKey", "The specified key does not exist."), Answer.status(404));
        assertFails(() -> backend.read("data/ab/abcd"), ErrorCode.NOT_FOUND, false, "data/ab/abcd", backend.location());
        assertThat(backend.stat("data/ab/abcd")).isEmpty();
    }

    @Test
    void aMissingBucketIsNamedAndNotRetried() {
        http.answer(Answer.error(404, "NoSuchBucket", "The specified bucket does not exist"));
        assertFails(() -> backend.list("snapshots"), ErrorCode.REPOSITORY_NOT_FOUND, false, "bucket 'bucket'",
                http.endpoint().toString(), "create it");
    }

    @ParameterizedTest
    @CsvSource({"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"})
    void refusedCredentialsAreAUsageErrorThatSaysWhatToCheck(String code) {
        http.answer(Answer.error(403, code, "refused"));
        assertFails(() -> backend.write("config", new byte[] {1}), ErrorCode.USAGE, false,
                "access denied to s3://bucket/repo/config", "access key AKIATEST", code, "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY");
    }

    @Test
    void accessDeniedByAPolicyIsAPermanentIoError() {
        http.answer(Answer.error(403, "AccessDenied", "Access Denied"), Answer.status(403));
        assertFails(() -> backend.delete("config"), ErrorCode.IO, false, "access denied to s3://bucket/repo/config",
                "AccessDenied", "policy");
        assertFails(() -> backend.stat("config"), ErrorCode.IO, false, "access denied", "403");
    }

    @Test
    void aBucketInAnotherRegionIsAUsageErrorNamingTheRegion() {
        http.answer(Answer.error(301, "PermanentRedirect", "use the other endpoint"));
        assertFails(() -> backend.list("index"), ErrorCode.USAGE, false, "us-east-1", "AWS_REGION");
    }

    @Test
    void otherRefusalsArePermanentIoErrorsWithTheS3CodeAndMessage() {
        http.answer(Answer.error(400, "InvalidArgument", "no such thing"));
        assertFails(() -> backend.read("config"), ErrorCode.IO, false, "InvalidArgument", "no such thing", "HTTP 400");
    }

    @Test
    void aRangeBeyondTheObjectIsCorrupt() {
        http.answer(Answer.error(416, "InvalidRange", "The requested range is not satisfiable"));
        assertFails(() -> backend.read("data/ab/abcd", 100, 10), ErrorCode.CORRUPT, false, "data/ab/abcd", "shorter");
        assertThat(http.requests().get(0).header("Range")).isEqualTo("bytes=100-109");
    }

    @Test
    void aShortPartialAnswerIsCorrupt() {
        http.answer(new Answer(206, Map.of("Content-Range", "bytes 100-104/105"), new byte[5]));
        assertFails(() -> backend.read("data/ab/abcd", 100, 10), ErrorCode.CORRUPT, false, "shorter");
    }

    @Test
    void aServerThatIgnoresTheRangeStillYieldsTheRequestedBytes() {
        byte[] whole = CONTENT.getBytes(StandardCharsets.UTF_8);
        http.answer(Answer.ok(whole));
        assertThat(backend.read("config", 4, 5)).isEqualTo(Arrays.copyOfRange(whole, 4, 9));
    }

    private static final String CONTENT = "the whole object, sent despite the range";

    @Test
    void aRetryingBackendGetsThroughASlowDown() {
        byte[] body = CONTENT.getBytes(StandardCharsets.UTF_8);
        http.answer(Answer.error(503, "SlowDown", "Please reduce your request rate."), Answer.ok(body));
        RecordingSleeper sleeper = new RecordingSleeper();
        RetryingBackend r = new RetryingBackend(backend, RetryPolicy.DEFAULT, sleeper, new Random(1));
        assertThat(r.read("config")).isEqualTo(body);
        assertThat(r.retries()).isEqualTo(1);
        assertThat(sleeper.delays()).hasSize(1);
    }

    @Test
    void writeSendsOnlyTheFirstLengthBytesWithTheirContentMd5() throws Exception {
        byte[] buffer = CONTENT.getBytes(StandardCharsets.UTF_8);
        http.answer(Answer.ok(new byte[0]));
        backend.write("data/ab/abcd", buffer, 8);
        ScriptedHttpServer.Request put = http.requests().get(0);
        assertThat(put.method()).isEqualTo("PUT");
        assertThat(put.uri().getPath()).isEqualTo("/bucket/repo/data/ab/abcd");
        assertThat(put.body()).isEqualTo(Arrays.copyOf(buffer, 8));
        byte[] md5 = java.security.MessageDigest.getInstance("MD5").digest(Arrays.copyOf(buffer, 8));
        assertThat(put.header("Content-MD5")).isEqualTo(java.util.Base64.getEncoder().encodeToString(md5));
    }

    @Test
    void listStripsThePrefixAndAsksForTheDirectoryWithATrailingSlash() {
        String page = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>bucket</Name>"
                + "<Prefix>repo/keys/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
                + "<Contents><Key>repo/keys/k1</Key><Size>3</Size></Contents>"
                + "<Contents><Key>repo/keys/</Key><Size>0</Size></Contents></ListBucketResult>";
        http.answer(new Answer(200, Map.of("Content-Type", "application/xml"), page.getBytes(StandardCharsets.UTF_8)));
        assertThat(backend.list("keys")).containsExactly("keys/k1");
        assertThat(http.requests().get(0).uri().getQuery()).contains("prefix=repo/keys/", "list-type=2");
    }

    @Test
    void aServerThatAcceptsButNeverAnswersTimesOutAsTransient() throws IOException {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                S3Backend b = new S3Backend(new S3Location(URI.create("http://127.0.0.1:" + silent.getLocalPort()), "bucket", ""),
                        options().withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(300)))) {
            assertFails(() -> b.read("config"), ErrorCode.IO, true, "config", "timed out");
        }
    }

    @Test
    void aMissingCredentialsFileIsAUsageErrorAtOnce() {
        Path none = dir.resolve("credentials");
        assertThatThrownBy(() -> new S3Backend(new S3Location(http.endpoint(), "bucket", ""),
                options().withCredentials(new S3Credentials.Profile("default", none))))
                .isInstanceOfSatisfying(HavenException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
                    assertThat(e.getMessage()).contains(none.toString(), "AWS_ACCESS_KEY_ID");
                });
    }

    @Test
    void aProfileMissingFromTheCredentialsFileIsAUsageErrorNamingIt() throws IOException {
        Path file = Files.writeString(dir.resolve("credentials"), "[other]\naws_access_key_id = A\naws_secret_access_key = B\n");
        try (S3Backend b = new S3Backend(new S3Location(http.endpoint(), "bucket", ""),
                options().withCredentials(new S3Credentials.Profile("work", file)))) {
            assertFails(() -> b.read("config"), ErrorCode.USAGE, false, "profile 'work'", file.toString());
        }
        assertThat(http.requests()).isEmpty();
    }

    /** Captures the URL of the first request and stops it before it is sent. */
    private static S3Backend capturing(S3Location location, S3Options options, AtomicReference<URI> uri) {
        ExecutionInterceptor capture = new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                uri.set(context.httpRequest().getUri());
                throw new IllegalStateException("stopped by the test");
            }
        };
        return new S3Backend(location, options, S3Backend.MAX_KEYS,
                builder -> builder.overrideConfiguration(c -> c.retryStrategy(
                        software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry()).addExecutionInterceptor(capture)));
    }

    @Test
    void virtualHostStyleNamesTheBucketInTheHostAndPathStyleInThePath() {
        S3Location aws = S3Location.parse("s3:https://s3.eu-west-1.amazonaws.com/my-bucket/repo");
        AtomicReference<URI> uri = new AtomicReference<>();
        try (S3Backend b = capturing(aws, options(), uri)) {
            assertThat(b.pathStyle()).isFalse();
            assertThatThrownBy(() -> b.read("config")).isInstanceOf(HavenException.class);
            assertThat(uri.get()).isEqualTo(URI.create("https://my-bucket.s3.eu-west-1.amazonaws.com/repo/config"));
        }
        try (S3Backend b = capturing(aws, options().withAddressing(S3Options.Addressing.PATH), uri)) {
            assertThat(b.pathStyle()).isTrue();
            assertThatThrownBy(() -> b.read("config")).isInstanceOf(HavenException.class);
            assertThat(uri.get()).isEqualTo(URI.create("https://s3.eu-west-1.amazonaws.com/my-bucket/repo/config"));
        }
    }
}
