package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A repository in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, Garage, s3proxy…).
 * Object {@code NAME} is stored under key {@code PREFIX/NAME} of the location's bucket.
 *
 * <p>Design: one synchronous AWS SDK v2 client over the JDK's {@code HttpURLConnection}
 * (url-connection-client: no netty, no Apache client, no native code). Each operation is one
 * request: {@code list} is ListObjectsV2 (paginated, recursive: no delimiter), {@code stat} is
 * HeadObject, reads are GetObject (with a {@code Range} header for ranges), {@code write} is one
 * PutObject (atomic in S3: readers see the whole object or none) with a {@code Content-MD5} header
 * so the service rejects a body damaged on the way, and {@code delete} is DeleteObject. Objects
 * above 5 GiB would need multipart uploads; Haven's packs are about 16 MiB.
 *
 * <p>The SDK's own retries are off: a failure that may pass (connection refused or reset, a
 * timeout, HTTP 5xx other than 501 {@code NotImplemented}, 429, {@code SlowDown},
 * {@code RequestTimeout}, {@code BadDigest}) is thrown as a {@link TransientBackendException},
 * for {@link RetryingBackend} to retry. Permanent failures
 * are a {@link HavenException}: NOT_FOUND for a missing object (naming it), REPOSITORY_NOT_FOUND
 * for a missing bucket, USAGE for refused credentials or a wrong region, CORRUPT for a range past
 * the end of an object, IO for the rest (with the S3 error code and message).
 *
 * <p>A GetObject of an object in an archive storage class (GLACIER, DEEP_ARCHIVE) that is not
 * restored is answered 403 {@code InvalidObjectState}: that is {@link ErrorCode#COLD}, naming the
 * object and {@code haven thaw}, never "access denied". For the S3 storage-class cold tier
 * ({@code io.haven.repository.tier.S3StorageClassTier}) the backend also offers {@link #head},
 * {@link #listWithStorageClass}, {@link #changeStorageClass} and {@link #restore}, with the same
 * error mapping.
 *
 * <p>Thread safe: the SDK client is.
 */
public final class S3Backend implements Backend {
    static final int MAX_KEYS = 1000;
    private static final Set<String> TRANSIENT_CODES = Set.of("SlowDown", "Throttling", "ThrottlingException",
            "RequestThrottled", "TooManyRequests", "TooManyRequestsException", "RequestTimeout", "RequestTimeoutException",
            "InternalError", "ServiceUnavailable", "BadDigest", "IncompleteBody", "XAmzContentSHA256Mismatch",
            "RequestLimitExceeded", "BandwidthLimitExceeded", "OperationAborted");
    private static final Set<String> CREDENTIAL_CODES = Set.of("InvalidAccessKeyId", "SignatureDoesNotMatch",
            "InvalidToken", "ExpiredToken", "TokenRefreshRequired", "InvalidSecurity", "MissingSecurityHeader");
    private static final String INVALID_OBJECT_STATE = "InvalidObjectState";
    private static final Set<String> REGION_CODES = Set.of("PermanentRedirect", "AuthorizationHeaderMalformed",
            "IllegalLocationConstraintException", "InvalidRegion");

    private final S3Location location;
    private final S3Options options;
    private final boolean pathStyle;
    private final int maxKeys;
    private final S3Client client;

    /**
     * A backend for {@code location}. Opening makes no request: a missing bucket or wrong
     * credentials show on the first operation.
     *
     * @throws HavenException USAGE when the credentials cannot be set up (a missing profile file)
     */
    public S3Backend(S3Location location, S3Options options) {
        this(location, options, MAX_KEYS, b -> { });
    }

    /** {@code S3Backend(S3Location.parse(location), options)}. */
    public static S3Backend open(String location, S3Options options) {
        return new S3Backend(S3Location.parse(location), options);
    }

    /** For tests: a smaller listing page, and a hook on the SDK client's builder. */
    S3Backend(S3Location location, S3Options options, int maxKeys, Consumer<S3ClientBuilder> customizer) {
        this.location = location;
        this.options = options;
        this.pathStyle = options.pathStyle(location);
        this.maxKeys = maxKeys;
        S3ClientBuilder builder = S3Client.builder()
                .endpointOverride(location.endpoint())
                .region(Region.of(options.region()))
                .forcePathStyle(pathStyle)
                // plain bodies, not aws-chunked streaming signatures: the body is in memory anyway,
                // and not every S3-compatible server or proxy understands aws-chunked
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
                .credentialsProvider(credentialsProvider(options.credentials()))
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(options.connectTimeout())
                        .socketTimeout(options.socketTimeout())
                        // no HTTP(S)_PROXY lookup below main; the JVM's https.proxyHost still applies
                        .proxyConfiguration(p -> p.useEnvironmentVariablesValues(false))
                        .build())
                // Content-MD5 is set on every PutObject; no flexible (CRC) checksums, which not
                // every S3-compatible server understands.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(c -> {
                    c.retryStrategy(AwsRetryStrategy.doNotRetry());
                    if (!(options.credentials() instanceof S3Credentials.SdkDefaultChain)) {
                        // settings come from S3Options only, not from ~/.aws/config
                        c.defaultProfileFile(ProfileFile.builder().content(new ByteArrayInputStream(new byte[0]))
                                .type(ProfileFile.Type.CONFIGURATION).build());
                        c.defaultProfileName("default");
                    }
                });
        customizer.accept(builder);
        this.client = builder.build();
    }

    /** The parsed location. */
    public S3Location s3Location() {
        return location;
    }

    /** Whether requests name the bucket in the path (true) or in the host name (false). */
    public boolean pathStyle() {
        return pathStyle;
    }

    @Override
    public String location() {
        return location.toString();
    }

    private AwsCredentialsProvider credentialsProvider(S3Credentials credentials) {
        AwsCredentialsProvider provider = switch (credentials) {
            case S3Credentials.Keys k -> {
                AwsCredentials c = k.sessionToken() == null ? AwsBasicCredentials.create(k.accessKeyId(), k.secretAccessKey())
                        : AwsSessionCredentials.create(k.accessKeyId(), k.secretAccessKey(), k.sessionToken());
                yield () -> c;
            }
            case S3Credentials.Profile p -> {
                if (!Files.isRegularFile(p.file())) {
                    throw new HavenException(ErrorCode.USAGE, "the AWS credentials file " + p.file()
                            + " does not exist (for profile '" + p.name() + "'): create it or set AWS_ACCESS_KEY_ID and "
                            + "AWS_SECRET_ACCESS_KEY");
                }
                ProfileFile file;
                try {
                    file = ProfileFile.builder().content(p.file()).type(ProfileFile.Type.CREDENTIALS).build();
                } catch (RuntimeException e) {
                    throw new HavenException(ErrorCode.USAGE, "cannot read the AWS credentials file " + p.file() + ": "
                            + e.getMessage(), e);
                }
                yield ProfileCredentialsProvider.builder().profileFile(file).profileName(p.name()).build();
            }
            case S3Credentials.SdkDefaultChain d -> DefaultCredentialsProvider.builder().build();
        };
        return () -> {
            try {
                return provider.resolveCredentials();
            } catch (RuntimeException e) {
                throw new HavenException(ErrorCode.USAGE, "no usable S3 credentials for " + location + " from "
                        + credentials.describe() + " (" + e.getMessage() + "): set AWS_ACCESS_KEY_ID and "
                        + "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE and ~/.aws/credentials", e);
            }
        };
    }

    private static void checkName(String name) {
        if (name.startsWith("/") || name.contains("..")) {
            throw new IllegalArgumentException("invalid object name " + name);
        }
    }

    @Override
    public List<String> list(String directory) {
        List<String> out = new ArrayList<>();
        eachObject(directory, (name, o) -> out.add(name));
        return out;
    }

    /** An object in a listing with its size, last-modified time and storage class. */
    public record Listed(String name, long size, Instant modified, String storageClass) {}

    /**
     * {@link #list} with each object's size, last-modified time and storage class as
     * ListObjectsV2 reports it ({@code STANDARD} when the service does not say).
     */
    public List<Listed> listWithStorageClass(String directory) {
        List<Listed> out = new ArrayList<>();
        eachObject(directory, (name, o) -> out.add(new Listed(name, o.size() == null ? -1 : o.size(), o.lastModified(),
                o.storageClassAsString() == null || o.storageClassAsString().isEmpty() ? STANDARD : o.storageClassAsString())));
        return out;
    }

    private void eachObject(String directory, java.util.function.BiConsumer<String, S3Object> each) {
        checkName(directory);
        String dir = directory;
        while (dir.endsWith("/")) {
            dir = dir.substring(0, dir.length() - 1);
        }
        String strip = location.prefix().isEmpty() ? "" : location.prefix() + "/";
        String keyPrefix = dir.isEmpty() ? strip : location.key(dir) + "/";
        String token = null;
        try {
            do {
                String t = token;
                ListObjectsV2Response page = client.listObjectsV2(r -> r.bucket(location.bucket()).prefix(keyPrefix)
                        .maxKeys(maxKeys).continuationToken(t));
                for (S3Object o : page.contents()) {
                    String key = o.key();
                    if (!key.startsWith(strip) || key.endsWith("/")) {
                        continue; // a "directory" marker made by some consoles
                    }
                    String name = key.substring(strip.length());
                    if (!name.contains(LocalBackend.TMP_MARK)) {
                        each.accept(name, o);
                    }
                }
                token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
            } while (token != null);
        } catch (RuntimeException e) {
            throw failure("list", dir.isEmpty() ? "the objects" : dir + "/", e);
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        return head(name).map(h -> new ObjectInfo(h.size(), h.modified()));
    }

    /** The storage class S3 reports when it reports none. */
    public static final String STANDARD = "STANDARD";

    /**
     * What HeadObject says about an object.
     *
     * @param storageClass {@code x-amz-storage-class}, {@link #STANDARD} when absent
     * @param restore {@code x-amz-restore} (the state of a restore from an archive class), or null
     * @param archiveStatus {@code x-amz-archive-status} (INTELLIGENT_TIERING archive tiers), or null
     */
    public record Head(long size, Instant modified, String storageClass, String restore, String archiveStatus) {}

    /** HeadObject of {@code name}; empty when it does not exist. */
    public Optional<Head> head(String name) {
        checkName(name);
        try {
            HeadObjectResponse h = client.headObject(r -> r.bucket(location.bucket()).key(location.key(name)));
            String sc = h.storageClassAsString();
            return Optional.of(new Head(h.contentLength() == null ? -1 : h.contentLength(), h.lastModified(),
                    sc == null || sc.isEmpty() ? STANDARD : sc, h.restore(), h.archiveStatusAsString()));
        } catch (AwsServiceException e) {
            if (e.statusCode() == 404 && !"NoSuchBucket".equals(errorCode(e))) {
                return Optional.empty();
            }
            throw failure("stat", name, e);
        } catch (RuntimeException e) {
            throw failure("stat", name, e);
        }
    }

    /**
     * Moves {@code name} to {@code storageClass} in place: a CopyObject of the key onto itself
     * ({@code x-amz-copy-source} = the same key) with {@code x-amz-storage-class}. The metadata
     * directive is {@code REPLACE} with the content type Haven writes ({@code write} sets no other
     * metadata): AWS accepts a self-copy that changes the storage class with either directive, but
     * some compatible servers (s3proxy) refuse a self-copy with {@code COPY}. The bytes and the key
     * stay; the last-modified time becomes now. A server may accept the copy and ignore the class
     * (s3proxy does): check with {@link #head}.
     */
    public void changeStorageClass(String name, String storageClass) {
        checkName(name);
        String key = location.key(name);
        try {
            client.copyObject(r -> r.sourceBucket(location.bucket()).sourceKey(key).destinationBucket(location.bucket())
                    .destinationKey(key).storageClass(storageClass).metadataDirective(MetadataDirective.REPLACE)
                    .contentType("application/octet-stream"));
        } catch (RuntimeException e) {
            throw failure("move to storage class " + storageClass, name, e);
        }
    }

    /** What a RestoreObject request found. */
    public enum RestoreAnswer {
        /** The service started the restore (202), or extended a finished one (200). */
        ACCEPTED,
        /** A restore of the object is running already (409 {@code RestoreAlreadyInProgress}). */
        ALREADY_IN_PROGRESS,
        /**
         * The object's storage class cannot be restored (403 {@code InvalidObjectState}): it is
         * readable in place.
         */
        NOT_ARCHIVED
    }

    /**
     * Asks S3 to make an archived object readable for {@code days} days: RestoreObject
     * ({@code POST KEY?restore}) with {@code Days} (omitted when null, as for INTELLIGENT_TIERING
     * archive tiers) and {@code GlacierJobParameters/Tier} ({@code Standard}, {@code Bulk} or
     * {@code Expedited}).
     */
    public RestoreAnswer restore(String name, Integer days, String retrievalTier) {
        checkName(name);
        try {
            client.restoreObject(r -> r.bucket(location.bucket()).key(location.key(name))
                    .restoreRequest(q -> q.days(days).glacierJobParameters(g -> g.tier(retrievalTier))));
            return RestoreAnswer.ACCEPTED;
        } catch (AwsServiceException e) {
            String code = errorCode(e);
            if ("RestoreAlreadyInProgress".equals(code) || e.statusCode() == 409 && code == null) {
                return RestoreAnswer.ALREADY_IN_PROGRESS;
            }
            if (INVALID_OBJECT_STATE.equals(code)) {
                return RestoreAnswer.NOT_ARCHIVED;
            }
            throw failure("ask for a restore of", name, e);
        } catch (RuntimeException e) {
            throw failure("ask for a restore of", name, e);
        }
    }

    @Override
    public byte[] read(String name) {
        checkName(name);
        ResponseBytes<GetObjectResponse> rb;
        try {
            rb = client.getObjectAsBytes(r -> r.bucket(location.bucket()).key(location.key(name)));
        } catch (RuntimeException e) {
            throw failure("read", name, e);
        }
        byte[] b = rb.asByteArrayUnsafe();
        Long expected = rb.response().contentLength();
        if (expected != null && expected != b.length) {
            throw new TransientBackendException("cannot read " + name + " at " + location + ": the answer had " + b.length
                    + " of " + expected + " bytes");
        }
        return b;
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        checkName(name);
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative range " + offset + "+" + length + " of " + name);
        }
        if (length == 0) {
            long size = stat(name).orElseThrow(() -> missing(name)).size();
            if (offset > size) {
                throw shorter(name, offset, length);
            }
            return new byte[0];
        }
        ResponseBytes<GetObjectResponse> rb;
        try {
            rb = client.getObjectAsBytes(r -> r.bucket(location.bucket()).key(location.key(name))
                    .range("bytes=" + offset + "-" + (offset + length - 1)));
        } catch (AwsServiceException e) {
            if (e.statusCode() == 416 || "InvalidRange".equals(errorCode(e))) {
                throw shorter(name, offset, length);
            }
            throw failure("read", name, e);
        } catch (RuntimeException e) {
            throw failure("read", name, e);
        }
        byte[] b = rb.asByteArrayUnsafe();
        if (b.length == length) {
            return b;
        }
        if (rb.response().contentRange() == null && b.length >= offset + length) {
            // a server that ignores Range sends the whole object
            return java.util.Arrays.copyOfRange(b, (int) offset, (int) offset + length);
        }
        Long expected = rb.response().contentLength();
        if (expected != null && expected != b.length) {
            throw new TransientBackendException("cannot read " + name + " at " + location + ": the answer had " + b.length
                    + " of " + expected + " bytes");
        }
        throw shorter(name, offset, length);
    }

    @Override
    public void write(String name, byte[] data, int length) {
        checkName(name);
        if (length < 0 || length > data.length) {
            throw new IllegalArgumentException("length " + length + " outside the " + data.length + "-byte buffer");
        }
        String md5 = md5Base64(data, length);
        try {
            client.putObject(r -> r.bucket(location.bucket()).key(location.key(name)).contentLength((long) length)
                    .contentMD5(md5).contentType("application/octet-stream"),
                    RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, 0, length), length,
                            "application/octet-stream"));
        } catch (RuntimeException e) {
            throw failure("write", name, e);
        }
    }

    @Override
    public void delete(String name) {
        checkName(name);
        try {
            client.deleteObject(r -> r.bucket(location.bucket()).key(location.key(name)));
        } catch (AwsServiceException e) {
            if ("NoSuchKey".equals(errorCode(e))) {
                return; // S3 answers 204 for a missing key, but not every compatible server does
            }
            throw failure("delete", name, e);
        } catch (RuntimeException e) {
            throw failure("delete", name, e);
        }
    }

    @Override
    public void close() {
        client.close();
    }

    static String md5Base64(byte[] data, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            md.update(data, 0, length);
            return Base64.getEncoder().encodeToString(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new HavenException(ErrorCode.INTERNAL, "this JVM has no MD5", e);
        }
    }

    private HavenException missing(String name) {
        return new HavenException(ErrorCode.NOT_FOUND, "object " + name + " is missing from the repository at " + location);
    }

    private HavenException shorter(String name, long offset, int length) {
        return new HavenException(ErrorCode.CORRUPT, "object " + name + " at " + location + " is shorter than expected (wanted "
                + length + " bytes at " + offset + ")");
    }

    private static boolean isIn(Set<String> codes, String code) {
        return code != null && codes.contains(code);
    }

    private static String errorCode(AwsServiceException e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    /** Maps an SDK failure of {@code action} on {@code name} to Haven's errors (see the class comment). */
    HavenException failure(String action, String name, RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof HavenException h) {
                return h; // raised by our credentials provider inside the SDK
            }
        }
        String what = "cannot " + action + " " + name + " at " + location;
        if (e instanceof AwsServiceException se) {
            int status = se.statusCode();
            String code = errorCode(se);
            String message = se.awsErrorDetails() == null ? null : se.awsErrorDetails().errorMessage();
            String detail = "S3 error " + (code == null ? "" : code + " ") + "(HTTP " + status + ")"
                    + (message == null || message.isBlank() ? "" : ": " + message);
            if ("NoSuchBucket".equals(code)) {
                return new HavenException(ErrorCode.REPOSITORY_NOT_FOUND, "the bucket '" + location.bucket()
                        + "' does not exist at " + location.endpoint() + " (" + detail + "): create it first; Haven does not "
                        + "create buckets", e);
            }
            if ("NoSuchKey".equals(code) || status == 404 && code == null) {
                HavenException m = missing(name);
                m.initCause(e);
                return m;
            }
            if (INVALID_OBJECT_STATE.equals(code)) {
                // an object in an archive class (GLACIER, DEEP_ARCHIVE) that is not restored
                return new HavenException(ErrorCode.COLD, what + ": the object is in an archive storage class and not restored ("
                        + detail + "); run 'haven thaw SNAPSHOT --wait' for the snapshot that needs it (or restore with --wait),"
                        + " then try again", e);
            }
            if (status == 403 || isIn(CREDENTIAL_CODES, code)) {
                boolean credentials = isIn(CREDENTIAL_CODES, code);
                return new HavenException(credentials ? ErrorCode.USAGE : ErrorCode.IO, "access denied to s3://"
                        + location.bucket() + "/" + location.key(name) + " at " + location.endpoint() + " for "
                        + options.credentials().describe() + " (" + detail + "): check AWS_ACCESS_KEY_ID and "
                        + "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) or the profile in ~/.aws/credentials"
                        + (credentials ? "" : ", and that the bucket's policy allows this key to " + action), e);
            }
            if (status == 301 || isIn(REGION_CODES, code)) {
                return new HavenException(ErrorCode.USAGE, what + ": the bucket '" + location.bucket()
                        + "' is not in region " + options.region() + " or not at this endpoint (" + detail
                        + "): set AWS_REGION to the bucket's region", e);
            }
            if (status == 501 || "NotImplemented".equals(code)) {
                return new HavenException(ErrorCode.IO, what + ": the S3 service at " + location.endpoint()
                        + " does not implement this request (" + detail + ")", e);
            }
            if (status >= 500 || status == 429 || status == 408 || isIn(TRANSIENT_CODES, code)) {
                return new TransientBackendException(what + ": " + detail, e);
            }
            return new HavenException(ErrorCode.IO, what + ": " + detail, e);
        }
        if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException) {
            return new TransientBackendException(what + ": timed out", e);
        }
        IOException io = null;
        for (Throwable t = e; t != null && io == null; t = t.getCause()) {
            if (t instanceof IOException x) {
                io = x;
            }
        }
        if (io instanceof UnknownHostException) {
            String host = pathStyle ? location.endpoint().getHost() : location.bucket() + "." + location.endpoint().getHost();
            return new HavenException(ErrorCode.IO, what + ": unknown host " + host
                    + (pathStyle ? ": check the location" : " (virtual-host style): check the location, or use path-style "
                            + "addressing for servers without per-bucket DNS names"), e);
        }
        if (io instanceof SSLHandshakeException || io instanceof SSLPeerUnverifiedException) {
            return new HavenException(ErrorCode.IO, what + ": TLS failed (" + io.getMessage() + "): check the endpoint's "
                    + "certificate" + (pathStyle ? "" : "; bucket names with dots need path-style addressing over https"), e);
        }
        if (io != null) {
            String reason = io instanceof SocketTimeoutException || io instanceof InterruptedIOException ? "timed out ("
                    + io.getMessage() + ")" : io.getClass().getSimpleName() + ": " + io.getMessage();
            return new TransientBackendException(what + ": " + reason, e);
        }
        if (e instanceof SdkClientException) {
            return new HavenException(ErrorCode.IO, what + ": " + e.getMessage(), e);
        }
        return new HavenException(ErrorCode.INTERNAL, what + ": " + e, e);
    }
}
