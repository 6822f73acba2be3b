package io.haven.repository.backend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An S3-compatible server for tests: s3proxy, in-process, on 127.0.0.1 and a free port, storing
 * objects as files under a directory the test owns (s3proxy's filesystem store, not its in-memory
 * one), signing with fixed keys ({@link #ACCESS_KEY}, {@link #SECRET_KEY}), with one bucket
 * ({@link #BUCKET}) made at start.
 *
 * <pre>{@code
 * @TempDir static Path dir;
 * static S3TestServer s3;
 * @BeforeAll static void start() { s3 = S3TestServer.start(dir); }
 * @AfterAll static void stop() { s3.close(); }
 * ... new S3Backend(s3.location("repo1"), s3.options())   // or s3.location("repo1").toString() for --repo
 * }</pre>
 *
 * <p>s3proxy's filesystem store writes an object to {@code NAME-<uuid>} beside its final name and
 * renames it when complete, and lists such files while they exist; this fixture hides them from
 * listings, as S3 itself never shows an unfinished upload. Virtual-host addressing is not served
 * (it needs DNS names per bucket); use path style, which {@link #options()} does.
 *
 * <p>Shipped in haven-repository's test jar for other modules' integration tests; they need
 * {@code org.gaul:s3proxy} as a test dependency too.
 */
public final class S3TestServer implements AutoCloseable {
    public static final String ACCESS_KEY = "haven-test-access-key";
    public static final String SECRET_KEY = "haven-test-secret-key-0123456789";
    public static final String BUCKET = "haven-test";

    private final S3Proxy proxy;
    private final BlobStore store;
    private final Path dataDir;
    private final URI endpoint;

    private S3TestServer(S3Proxy proxy, BlobStore store, Path dataDir) {
        this.proxy = proxy;
        this.store = store;
        this.dataDir = dataDir;
        this.endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    /**
     * Starts a server storing its buckets under {@code dataDir} (a directory per bucket; created
     * if missing), and creates {@link #BUCKET}.
     */
    public static S3TestServer start(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Properties props = new Properties();
        props.setProperty("jclouds.filesystem.basedir", dataDir.toAbsolutePath().toString());
        BlobStore store = new HidingUnfinishedUploads(BlobStores.create("filesystem", props));
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .stopTimeout(0)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("s3proxy did not start within 30 s (state " + proxy.getState() + ")");
                }
                Thread.sleep(5);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot start s3proxy: " + e, e);
        }
        S3TestServer server = new S3TestServer(proxy, store, dataDir);
        server.createBucket(BUCKET);
        return server;
    }

    /** {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return endpoint;
    }

    public int port() {
        return proxy.getPort();
    }

    public String bucket() {
        return BUCKET;
    }

    public String accessKey() {
        return ACCESS_KEY;
    }

    public String secretKey() {
        return SECRET_KEY;
    }

    /** Where the buckets' files are. */
    public Path dataDir() {
        return dataDir;
    }

    /** Creates another bucket (nothing happens if it exists). */
    public void createBucket(String name) {
        store.createContainer(name);
    }

    /** A location in {@link #BUCKET} under {@code prefix} ("" for the bucket's root). */
    public S3Location location(String prefix) {
        return location(BUCKET, prefix);
    }

    /** A location in {@code bucket} under {@code prefix} ("" for the bucket's root). */
    public S3Location location(String bucket, String prefix) {
        return new S3Location(endpoint, bucket, prefix);
    }

    /** The test keys, path style, and short timeouts (2 s to connect, 20 s per read). */
    public S3Options options() {
        return S3Options.defaults(new S3Credentials.Keys(ACCESS_KEY, SECRET_KEY))
                .withAddressing(S3Options.Addressing.PATH)
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(20));
    }

    /** The environment variables a {@code haven} process would need to reach this server. */
    public java.util.Map<String, String> environment() {
        return java.util.Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY,
                "AWS_REGION", S3Options.DEFAULT_REGION);
    }

    /** Stops the server; the files stay in {@link #dataDir()}. */
    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop s3proxy: " + e, e);
        }
    }

    /**
     * Runs the server until the process is killed, for the benchmarks in {@code bench/}:
     * {@code S3TestServer DATA_DIR [ENDPOINT_FILE]}. Prints {@code endpoint=http://127.0.0.1:PORT}
     * on standard output (and writes the endpoint to {@code ENDPOINT_FILE} when given, once the
     * server is serving). The keys are {@link #ACCESS_KEY} and {@link #SECRET_KEY}; the bucket is
     * {@link #BUCKET}.
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: S3TestServer DATA_DIR [ENDPOINT_FILE]");
            System.exit(64);
        }
        S3TestServer server = start(Path.of(args[0]));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("endpoint=" + server.endpoint());
        System.out.flush();
        if (args.length == 2) {
            Path file = Path.of(args[1]);
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, server.endpoint() + "\n");
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        Thread.currentThread().join();
    }

    /** Hides s3proxy's in-progress upload files ({@code NAME-<uuid>}) from listings. */
    private static final class HidingUnfinishedUploads extends ForwardingBlobStore {
        private static final Pattern UPLOADING = Pattern.compile(
                ".*-\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}");

        HidingUnfinishedUploads(BlobStore delegate) {
            super(delegate);
        }

        @Override
        public ListObjectsV2Response list(ListObjectsV2Request request) {
            ListObjectsV2Response r = super.list(request);
            List<S3Object> kept = r.contents().stream().filter(o -> !UPLOADING.matcher(o.key()).matches()).toList();
            return kept.size() == r.contents().size() ? r : r.toBuilder().contents(kept).keyCount(kept.size()).build();
        }
    }
}
