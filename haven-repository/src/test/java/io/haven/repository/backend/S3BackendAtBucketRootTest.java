package io.haven.repository.backend;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The conformance suite against s3proxy with no prefix: each test has a bucket of its own. */
class S3BackendAtBucketRootTest extends BackendConformanceTest {
    @TempDir
    static Path dir;
    static S3TestServer server;
    private static final AtomicInteger buckets = new AtomicInteger();

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
        String bucket = "root-" + buckets.incrementAndGet();
        server.createBucket(bucket);
        return new S3Backend(server.location(bucket, ""), server.options());
    }
}
