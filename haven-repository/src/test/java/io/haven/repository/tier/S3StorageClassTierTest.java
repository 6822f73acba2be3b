package io.haven.repository.tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.RecordingSleeper;
import io.haven.repository.backend.Retrier;
import io.haven.repository.backend.RetryPolicy;
import io.haven.repository.backend.RetryingBackend;
import io.haven.repository.backend.S3Backend;
import io.haven.repository.backend.S3Credentials;
import io.haven.repository.backend.S3Location;
import io.haven.repository.backend.S3Options;
import io.haven.repository.backend.S3TestServer;
import io.haven.repository.backend.ScriptedHttpServer;
import io.haven.repository.backend.ScriptedHttpServer.Answer;
import io.haven.repository.backend.ScriptedHttpServer.Request;
import io.haven.repository.tier.ColdTier.State;
import io.haven.repository.tier.ColdTier.Status;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 storage-class cold tier. AWS's archive behaviour (restores that take hours) cannot run
 * here, and s3proxy has no restore at all, so the request shapes and the parsing of the answers
 * are tested against {@link ScriptedHttpServer}, which answers as S3 documents and records what it
 * was sent; s3proxy (a real server) covers listing and HeadObject with storage classes, and shows
 * that a server which ignores the class of a copy is caught.
 */
class S3StorageClassTierTest {
    private static final String PACK = "data/ab/ab12cd";
    private static final String KEY = "repo/" + PACK;
    private static final String WHEN = "Wed, 01 Jan 2025 10:00:00 GMT";

    private final ScriptedHttpServer http;
    private final S3Backend s3;
    private final RecordingSleeper sleeper = new RecordingSleeper();
    private final Retrier retrier = new Retrier(RetryPolicy.DEFAULT, sleeper, new Random(1));

    @TempDir
    Path dir;

    S3StorageClassTierTest() throws IOException {
        http = new ScriptedHttpServer();
        s3 = new S3Backend(new S3Location(http.endpoint(), "bucket", "repo"),
                S3Options.defaults(new S3Credentials.Keys("AKIATEST", "secret-test"))
                        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5)));
    }

    @AfterEach
    void stop() {
        s3.close();
        http.close();
        assertThat(http.unexpected()).as("requests without a scripted answer").isZero();
    }

    private S3StorageClassTier tier(String storageClass, String retrieval) {
        return new S3StorageClassTier(s3, storageClass, 3, retrieval, retrier);
    }

    private S3StorageClassTier glacier() {
        return tier("GLACIER", "Standard");
    }

    /** A HeadObject answer: 1234 bytes, last modified {@link #WHEN}, plus {@code headers}. */
    private static Answer head(String... headers) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Length", "1234");
        h.put("Last-Modified", WHEN);
        h.put("ETag", "\"x\"");
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], headers[i + 1]);
        }
        return new Answer(200, h, new byte[0]);
    }

    private static Answer xml(int status, String body) {
        return new Answer(status, Map.of("Content-Type", "application/xml"), body.getBytes(StandardCharsets.UTF_8));
    }

    private static String listing(String... keyAndClass) {
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                + "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name>"
                + "<Prefix>repo/data/</Prefix><KeyCount>" + keyAndClass.length / 2 + "</KeyCount><MaxKeys>1000</MaxKeys>"
                + "<IsTruncated>false</IsTruncated>");
        for (int i = 0; i < keyAndClass.length; i += 2) {
            b.append("<Contents><Key>").append(keyAndClass[i]).append("</Key><LastModified>2025-01-01T10:00:00.000Z"
                    + "</LastModified><ETag>\"x\"</ETag><Size>100</Size>");
            if (keyAndClass[i + 1] != null) {
                b.append("<StorageClass>").append(keyAndClass[i + 1]).append("</StorageClass>");
            }
            b.append("</Contents>");
        }
        return b.append("</ListBucketResult>").toString();
    }

    private Request only() {
        assertThat(http.requests()).hasSize(1);
        return http.requests().get(0);
    }

    // ---- freeze: CopyObject onto itself with the class

    @Test
    void freezeCopiesTheKeyOntoItselfWithTheStorageClassAndChecksTheClassAfterwards() {
        http.answer(xml(200, "<CopyObjectResult><LastModified>2025-01-01T10:00:00.000Z</LastModified><ETag>\"x\"</ETag>"
                + "</CopyObjectResult>"), head("x-amz-storage-class", "GLACIER"));
        glacier().freeze(PACK, s3);

        Request copy = http.requests().get(0);
        assertThat(copy.method()).isEqualTo("PUT");
        assertThat(copy.uri().getPath()).isEqualTo("/bucket/" + KEY);
        assertThat(copy.header("x-amz-storage-class")).isEqualTo("GLACIER");
        assertThat(URLDecoder.decode(copy.header("x-amz-copy-source"), StandardCharsets.UTF_8)).isEqualTo("bucket/" + KEY);
        assertThat(copy.header("x-amz-metadata-directive")).isEqualTo("REPLACE");
        assertThat(copy.body()).isEmpty();
        Request check = http.requests().get(1);
        assertThat(check.method()).isEqualTo("HEAD");
        assertThat(check.uri().getPath()).isEqualTo("/bucket/" + KEY);
        assertThat(http.requests()).hasSize(2);
    }

    @Test
    void unfreezeOfARestoredObjectCopiesItOntoItselfInStandardAndChecksTheClass() {
        http.answer(head("x-amz-storage-class", "GLACIER", "x-amz-restore",
                        "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2040 00:00:00 GMT\""),
                xml(200, "<CopyObjectResult><ETag>\"x\"</ETag></CopyObjectResult>"), head());
        assertThat(glacier().unfreeze(PACK, s3)).isTrue();
        assertThat(http.requests()).hasSize(3);
        Request copy = http.requests().get(1);
        assertThat(copy.method()).isEqualTo("PUT");
        assertThat(copy.header("x-amz-storage-class")).isEqualTo("STANDARD");
        assertThat(URLDecoder.decode(copy.header("x-amz-copy-source"), StandardCharsets.UTF_8)).isEqualTo("bucket/" + KEY);
        assertThat(http.requests().get(2).method()).isEqualTo("HEAD");
    }

    @Test
    void unfreezeOfAnObjectThatIsNotRestoredYetDoesNothing() {
        http.answer(head("x-amz-storage-class", "GLACIER"));
        assertThat(glacier().unfreeze(PACK, s3)).isFalse();
        assertThat(only().method()).isEqualTo("HEAD");
    }

    @Test
    void aServerThatKeepsTheArchiveClassFailsTheUnfreezeSayingSo() {
        http.answer(head("x-amz-storage-class", "GLACIER", "x-amz-restore", "ongoing-request=\"false\""),
                xml(200, "<CopyObjectResult><ETag>\"x\"</ETag></CopyObjectResult>"), head("x-amz-storage-class", "GLACIER"));
        assertThatThrownBy(() -> glacier().unfreeze(PACK, s3)).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.IO);
            assertThat(e.getMessage()).contains(PACK, "keeps it in GLACIER", "haven tier apply");
        });
    }

    @Test
    void aServerThatKeepsTheOldClassFailsTheFreezeSayingSo() {
        http.answer(xml(200, "<CopyObjectResult><ETag>\"x\"</ETag></CopyObjectResult>"), head());
        assertThatThrownBy(() -> glacier().freeze(PACK, s3)).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.IO);
            assertThat(e.getMessage()).contains(PACK, "GLACIER", "keeps it in STANDARD", "haven tier set");
        });
    }

    @Test
    void aRefusedCopyNamesThePackAndWhatToDo() {
        http.answer(Answer.error(400, "InvalidStorageClass", "The storage class you specified is not valid"));
        assertThatThrownBy(() -> tier("NOPE", "Standard").freeze(PACK, s3))
                .isInstanceOfSatisfying(HavenException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.IO);
                    assertThat(e.getMessage()).contains(PACK, "InvalidStorageClass", "NOPE", "haven tier apply");
                });
        assertThat(only().header("x-amz-storage-class")).isEqualTo("NOPE");
    }

    // ---- list: ListObjectsV2, filtered by StorageClass

    @Test
    void listKeepsOnlyTheKeysInTheColdClassRelativeToTheRepository() {
        http.answer(xml(200, listing("repo/data/aa/aa11", "GLACIER", "repo/data/bb/bb22", "STANDARD",
                "repo/data/cc/cc33", "DEEP_ARCHIVE", "repo/data/dd/dd44", null, "repo/data/ee/ee55", "GLACIER")));
        assertThat(glacier().list("data")).containsExactlyInAnyOrder("data/aa/aa11", "data/ee/ee55");
        Request r = only();
        assertThat(r.method()).isEqualTo("GET");
        assertThat(r.uri().getPath()).isEqualTo("/bucket");
        assertThat(r.uri().getQuery()).contains("list-type=2", "prefix=repo/data/");
    }

    @Test
    void aKeyWithoutAStorageClassInTheListingIsStandard() {
        http.answer(xml(200, listing("repo/data/aa/aa11", null)));
        assertThat(s3.listWithStorageClass("data")).singleElement()
                .satisfies(o -> assertThat(o.storageClass()).isEqualTo("STANDARD"));
    }

    // ---- status: HeadObject and x-amz-restore

    @Test
    void noRestoreHeaderOnAnArchivedObjectIsCold() {
        http.answer(head("x-amz-storage-class", "GLACIER"));
        assertThat(glacier().status(PACK, s3)).isEqualTo(new Status(State.COLD, null));
        assertThat(only().method()).isEqualTo("HEAD");
    }

    @Test
    void anOngoingRestoreIsThawing() {
        http.answer(head("x-amz-storage-class", "GLACIER", "x-amz-restore", "ongoing-request=\"true\""));
        assertThat(glacier().status(PACK, s3).state()).isEqualTo(State.THAWING);
    }

    @Test
    void aFinishedRestoreIsReadyUntilItsExpiryDate() {
        http.answer(head("x-amz-storage-class", "DEEP_ARCHIVE", "x-amz-restore",
                "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\""));
        assertThat(tier("DEEP_ARCHIVE", "Bulk").status(PACK, s3))
                .isEqualTo(new Status(State.READY, Instant.parse("2012-12-21T00:00:00Z")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"",
        "ongoing-request = \"false\" ,  expiry-date = \"Fri, 21 Dec 2012 00:00:00 GMT\"",
        "expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\", ongoing-request=\"false\"",
        "Ongoing-Request=\"FALSE\",Expiry-Date=\"2012-12-21T00:00:00Z\"",
        "ongoing-request=false, expiry-date=Fri, 21 Dec 2012 00:00:00 GMT"})
    void theRestoreHeaderIsReadWhateverItsSpacingCaseOrderAndQuoting(String header) {
        assertThat(S3StorageClassTier.parseRestore(header, PACK))
                .isEqualTo(new Status(State.READY, Instant.parse("2012-12-21T00:00:00Z")));
    }

    @Test
    void anUnreadableExpiryDateLeavesTheTimeOpenAndSpacesAroundTheStateAreIgnored() {
        assertThat(S3StorageClassTier.parseRestore("ongoing-request=\"false\", expiry-date=\"tomorrow\"", PACK))
                .isEqualTo(new Status(State.READY, null));
        assertThat(S3StorageClassTier.parseRestore(" ongoing-request=\"true\" ", PACK).state()).isEqualTo(State.THAWING);
    }

    @Test
    void aRestoreHeaderWithoutItsStateIsAnErrorNamingThePackAndTheHeader() {
        assertThatThrownBy(() -> S3StorageClassTier.parseRestore("restored", PACK)).isInstanceOfSatisfying(
                HavenException.class, e -> assertThat(e.getMessage()).contains(PACK, "x-amz-restore: restored"));
    }

    @ParameterizedTest
    @CsvSource({"GLACIER_IR, READY", "STANDARD, READY", "STANDARD_IA, READY", "GLACIER, COLD", "DEEP_ARCHIVE, COLD"})
    void withoutARestoreHeaderTheObjectsClassSaysWhetherItCanBeRead(String objectClass, State expected) {
        assertThat(S3StorageClassTier.statusOf(objectClass, null, null, PACK).state()).isEqualTo(expected);
    }

    @Test
    void anIntelligentTieringObjectInAnArchiveTierIsCold() {
        assertThat(S3StorageClassTier.statusOf("INTELLIGENT_TIERING", null, "ARCHIVE_ACCESS", PACK).state())
                .isEqualTo(State.COLD);
    }

    @Test
    void aGlacierInstantRetrievalObjectIsReadyWithoutARestore() {
        S3StorageClassTier ir = tier("GLACIER_IR", "Standard");
        http.answer(head("x-amz-storage-class", "GLACIER_IR"));
        assertThat(ir.status(PACK, s3).state()).isEqualTo(State.READY);
        ir.requestThaw(PACK, s3);
        assertThat(http.requests()).as("no RestoreObject for GLACIER_IR").hasSize(1);
    }

    @Test
    void anUnknownClassIsColdWhenAOneByteReadIsRefusedAndReadyWhenItIsServed() {
        S3StorageClassTier other = tier("VENDOR_ARCHIVE", "Standard");
        http.answer(head("x-amz-storage-class", "VENDOR_ARCHIVE"),
                Answer.error(403, "InvalidObjectState", "The operation is not valid for the object's storage class"));
        assertThat(other.status(PACK, s3).state()).isEqualTo(State.COLD);
        assertThat(http.requests().get(1).header("Range")).isEqualTo("bytes=0-0");

        http.answer(head("x-amz-storage-class", "VENDOR_ARCHIVE"),
                new Answer(206, Map.of("Content-Range", "bytes 0-0/1234"), new byte[] {7}));
        assertThat(other.status(PACK, s3).state()).isEqualTo(State.READY);
    }

    @Test
    void theStatusOfAMissingPackIsNotFoundNamingIt() {
        http.answer(Answer.status(404));
        assertThatThrownBy(() -> glacier().status(PACK, s3)).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
            assertThat(e.getMessage()).contains(PACK, "haven check");
        });
    }

    @Test
    void infoIsTheSizeAndLastModifiedTimeAndEmptyForAMissingObject() {
        http.answer(head("x-amz-storage-class", "GLACIER"), Answer.status(404));
        assertThat(glacier().info(PACK)).contains(new Backend.ObjectInfo(1234, Instant.parse("2025-01-01T10:00:00Z")));
        assertThat(glacier().info(PACK)).isEmpty();
    }

    // ---- requestThaw: RestoreObject

    @ParameterizedTest
    @CsvSource({"GLACIER, Standard", "GLACIER, Bulk", "GLACIER, Expedited", "DEEP_ARCHIVE, Standard", "DEEP_ARCHIVE, Bulk"})
    void aThawIsARestoreRequestWithTheDaysAndTheRetrievalTier(String storageClass, String retrieval) {
        http.answer(Answer.status(202));
        tier(storageClass, retrieval).requestThaw(PACK, s3);
        Request r = only();
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.uri().getPath()).isEqualTo("/bucket/" + KEY);
        assertThat(r.uri().getQuery()).isEqualTo("restore");
        String body = new String(r.body(), StandardCharsets.UTF_8).replaceAll("\\s", "");
        assertThat(body).contains("<RestoreRequest", "<Days>3</Days>",
                "<GlacierJobParameters><Tier>" + retrieval + "</Tier></GlacierJobParameters>");
    }

    @Test
    void aRestoreAlreadyInProgressIsSuccessAndNotRetried() {
        http.answer(Answer.error(409, "RestoreAlreadyInProgress", "Object restore is already in progress"));
        glacier().requestThaw(PACK, s3);
        assertThat(only().method()).isEqualTo("POST");
        assertThat(sleeper.delays()).isEmpty();
    }

    @Test
    void aRestoreRefusedBecauseTheObjectIsNotArchivedNeedsNothingMore() {
        http.answer(Answer.error(403, "InvalidObjectState", "Restore is not allowed for the object's current storage class"));
        glacier().requestThaw(PACK, s3);
        assertThat(http.requests()).hasSize(1);
    }

    @Test
    void throttledRequestsAreRetriedWithTheBackendsPolicy() {
        http.answer(Answer.error(503, "SlowDown", "Please reduce your request rate"), Answer.status(202),
                Answer.status(503), head("x-amz-storage-class", "GLACIER", "x-amz-restore", "ongoing-request=\"true\""));
        S3StorageClassTier t = glacier();
        t.requestThaw(PACK, s3);
        assertThat(t.status(PACK, s3).state()).isEqualTo(State.THAWING);
        assertThat(http.requests()).extracting(Request::method).containsExactly("POST", "POST", "HEAD", "HEAD");
        assertThat(sleeper.delays()).hasSize(2);
        assertThat(retrier.retries()).isEqualTo(2);
    }

    @Test
    void aRestoreThatKeepsFailingGivesUpNamingThePackAndWhatToRun() {
        for (int i = 0; i < RetryPolicy.DEFAULT.maxAttempts(); i++) {
            http.answer(Answer.error(500, "InternalError", "We encountered an internal error"));
        }
        assertThatThrownBy(() -> glacier().requestThaw(PACK, s3)).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.IO);
            assertThat(e.getMessage()).contains(PACK, "InternalError", "gave up after 6 attempts", "haven thaw");
        });
    }

    @Test
    void aServerWithoutRestoreSaysSoAtOnce() {
        http.answer(Answer.error(501, "NotImplemented", "A header you provided implies functionality that is not implemented"));
        assertThatThrownBy(() -> glacier().requestThaw(PACK, s3)).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.IO);
            assertThat(e.getMessage()).contains(PACK, "does not implement");
        });
        assertThat(sleeper.delays()).as("not retried").isEmpty();
    }

    @Test
    void refreezeHasNothingToDoAndDeleteIsADeleteObject() {
        http.answer(Answer.status(204));
        S3StorageClassTier t = glacier();
        assertThat(t.refreeze(PACK, s3, Instant.now())).isFalse();
        t.delete(PACK);
        assertThat(only().method()).isEqualTo("DELETE");
        assertThat(only().uri().getPath()).isEqualTo("/bucket/" + KEY);
    }

    // ---- reading a pack that is not restored

    @Test
    void aReadOfAnArchivedObjectIsColdNamingItAndThaw() {
        http.answer(Answer.error(403, "InvalidObjectState", "The operation is not valid for the object's storage class"));
        assertThatThrownBy(() -> s3.read(PACK)).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.COLD);
            assertThat(e.getMessage()).contains(PACK, "haven thaw").doesNotContain("access denied");
        });
    }

    @Test
    void throughTheRetryingAndTieredBackendsAColdReadStaysColdAndNamesTheColdTier() {
        http.answer(Answer.error(403, "InvalidObjectState", "The operation is not valid for the object's storage class"),
                xml(200, listing(KEY, "GLACIER")));
        RetryingBackend warm = new RetryingBackend(s3, retrier);
        try (TieredBackend tiered = new TieredBackend(warm, glacier())) {
            assertThatThrownBy(() -> tiered.read(PACK, 10, 20)).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.COLD);
                assertThat(e.getMessage()).contains(PACK, "S3 storage class GLACIER", "haven thaw");
            });
            assertThat(sleeper.delays()).as("COLD is not retried").isEmpty();
        }
    }

    // ---- the numbers

    @ParameterizedTest
    @CsvSource({"GLACIER, Standard, 90, PT4H", "GLACIER, Bulk, 90, PT8H", "GLACIER, Expedited, 90, PT5M",
            "DEEP_ARCHIVE, Standard, 180, PT12H", "DEEP_ARCHIVE, Bulk, 180, PT48H", "GLACIER_IR, Standard, 90, PT0S",
            "VENDOR_ARCHIVE, Standard, 0, PT0S"})
    void minimumStorageAndTypicalThaw(String storageClass, String retrieval, int minDays, Duration thaw) {
        S3StorageClassTier t = tier(storageClass, retrieval);
        assertThat(t.minimumStorage()).isEqualTo(Duration.ofDays(minDays));
        assertThat(t.typicalThaw()).isEqualTo(thaw);
    }

    @Test
    void deepArchiveHasNoExpeditedRetrievalAndStandardIsNotACold() {
        assertThatThrownBy(() -> tier("DEEP_ARCHIVE", "Expedited")).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
        assertThatThrownBy(() -> TierPolicy.storageClassOf("class:STANDARD")).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
        assertThatThrownBy(() -> TierPolicy.storageClassOf("class:")).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
        assertThat(TierPolicy.storageClassOf("glacier")).contains("GLACIER");
        assertThat(TierPolicy.storageClassOf("class:VENDOR_ARCHIVE")).contains("VENDOR_ARCHIVE");
        assertThat(TierPolicy.storageClassOf("/mnt/archive")).isEmpty();
        assertThat(TierPolicy.storageClassOf("s3:http://host/bucket")).isEmpty();
    }

    // ---- s3proxy, a real server: classes in listings and HeadObject; a copy whose class it ignores

    @Test
    void onS3proxyListAndStatusFollowTheStorageClassAndAnIgnoredClassFailsTheFreeze() {
        S3TestServer server = S3TestServer.start(dir.resolve("s3"));
        try (S3Backend real = new S3Backend(server.location("repo"), server.options());
                S3Client raw = S3Client.builder().endpointOverride(server.endpoint()).region(Region.US_EAST_1)
                        .forcePathStyle(true).credentialsProvider(() -> AwsBasicCredentials.create(server.accessKey(),
                                server.secretKey())).build()) {
            // s3proxy keeps the storage class of a PUT (but not of a copy, see below)
            raw.putObject(r -> r.bucket(server.bucket()).key("repo/data/aa/aa11").storageClass("GLACIER"),
                    RequestBody.fromBytes(new byte[] {1, 2, 3}));
            real.write("data/bb/bb22", new byte[] {4, 5});
            S3StorageClassTier t = new S3StorageClassTier(real, "GLACIER", 3, "Standard", retrier);
            assertThat(t.list("data")).containsExactly("data/aa/aa11");
            assertThat(t.status("data/aa/aa11", real)).isEqualTo(new Status(State.COLD, null));
            assertThat(t.status("data/bb/bb22", real).state()).isEqualTo(State.READY);
            assertThat(t.info("data/aa/aa11")).hasValueSatisfying(i -> assertThat(i.size()).isEqualTo(3));

            // s3proxy answers the in-place copy with success but keeps STANDARD: caught, pack untouched
            assertThatThrownBy(() -> t.freeze("data/bb/bb22", real)).isInstanceOfSatisfying(HavenException.class,
                    e -> assertThat(e.getMessage()).contains("keeps it in STANDARD"));
            assertThat(real.read("data/bb/bb22")).containsExactly(4, 5);
            assertThat(t.list("data")).containsExactly("data/aa/aa11");

            // the tiered view lists both once; deleting the cold one deletes it
            try (TieredBackend tiered = new TieredBackend(real, t)) {
                assertThat(tiered.list("data")).containsExactlyInAnyOrder("data/aa/aa11", "data/bb/bb22");
                assertThat(tiered.needsThaw("data/aa/aa11")).isTrue();
                assertThat(tiered.needsThaw("data/bb/bb22")).isFalse();
                tiered.delete("data/aa/aa11");
                assertThat(real.list("data")).containsExactly("data/bb/bb22");
            }
        } finally {
            server.close();
        }
    }
}
