package io.haven.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.Repository;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.archiver.BackupOptions;
import io.haven.repository.check.Checker;
import io.haven.repository.restorer.RestoreOptions;
import io.haven.repository.restorer.Restorer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The repository engine over S3, through the retry decorator, while the network drops requests. */
class S3RepositoryTest {
    private static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2026-03-04T05:06:07Z"));

    @TempDir
    Path tmp;

    @Test
    void aBackupIntoS3WithFlakyRequestsChecksAndRestoresByteForByte() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("src/sub"));
        Random random = new Random(5);
        for (int i = 0; i < 6; i++) {
            byte[] content = new byte[i * 300_000 + 17];
            random.nextBytes(content);
            Files.write(source.resolve("f" + i), content);
        }
        Files.writeString(source.getParent().resolve("note.txt"), "hello from S3\n");

        try (S3TestServer s3 = S3TestServer.start(tmp.resolve("s3"))) {
            RecordingSleeper sleeper = new RecordingSleeper();
            FaultyBackend faulty = new FaultyBackend(new S3Backend(s3.location("hosts/db1"), s3.options()))
                    .failRandomly(11, 0.2, FaultyBackend.lostAnswer(), FaultyBackend.Op.values());
            RetryingBackend backend = new RetryingBackend(faulty, new RetryPolicy(10, java.time.Duration.ofMillis(1),
                    java.time.Duration.ofMillis(1)), sleeper, new Random(1));

            Repository repo = Repository.init(backend, "pw".toCharArray(), 8192, new Repository.Actor("host", "user"),
                    CLOCK, new SecureRandom());
            new Archiver(repo, new BackupOptions(List.of(source.getParent()), "host", "user", 0, 0, List.of(), List.of(),
                    false, null, 2, false, "test")).run(null);

            Repository reopened = Repository.open(backend, "pw".toCharArray(), CLOCK, new SecureRandom());
            Checker.Result check = new Checker(reopened, true, 2).run();
            assertThat(check.errors()).isEmpty();

            Path target = tmp.resolve("restored");
            new Restorer(reopened, new RestoreOptions(target, "/", List.of(), List.of(), false, false, 2))
                    .run(reopened.resolve("latest"));
            Path restored = target.resolve(source.getParent().toString().substring(1));
            for (int i = 0; i < 6; i++) {
                assertThat(restored.resolve("sub/f" + i)).hasSameBinaryContentAs(source.resolve("f" + i));
            }
            assertThat(restored.resolve("note.txt")).hasContent("hello from S3");
            assertThat(faulty.injected()).isPositive();
            assertThat(backend.retries()).isEqualTo(faulty.injected());
            reopened.close();
        }
    }

    @Test
    void withTheLocalCacheAnUnchangedBackupReadsNoTreeFromS3AndARestoreGroupsItsReads() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("src"));
        Random random = new Random(6);
        for (int d = 0; d < 20; d++) {
            Path sub = Files.createDirectories(source.resolve("d" + d));
            for (int f = 0; f < 10; f++) {
                byte[] content = new byte[2000 + random.nextInt(5000)];
                random.nextBytes(content);
                Files.write(sub.resolve("f" + f), content);
            }
        }
        try (S3TestServer s3 = S3TestServer.start(tmp.resolve("s3"))) {
            FaultyBackend counted = new FaultyBackend(new S3Backend(s3.location("cached"), s3.options()));
            Repository.init(counted, "pw".toCharArray(), 8192, new Repository.Actor("host", "user"), CLOCK,
                    new SecureRandom()).close();
            BackupOptions options = new BackupOptions(List.of(source), "host", "user", 0, 0, List.of(), List.of(),
                    false, null, 2, false, "test");

            CachingBackend first = new CachingBackend(counted, tmp.resolve("cache"));
            Repository repo = Repository.open(first, "pw".toCharArray(), CLOCK, new SecureRandom());
            new Archiver(repo, options).run(null);
            repo.close();

            // a second process: index, snapshot and the parent's 21 trees all come from the cache
            CachingBackend second = new CachingBackend(counted, tmp.resolve("cache"));
            repo = Repository.open(second, "pw".toCharArray(), CLOCK, new SecureRandom());
            int reads = counted.calls(FaultyBackend.Op.READ);
            int ranged = counted.calls(FaultyBackend.Op.READ_RANGE);
            new Archiver(repo, options).run(null);
            assertThat(counted.calls(FaultyBackend.Op.READ_RANGE) - ranged).isZero();
            assertThat(counted.calls(FaultyBackend.Op.READ) - reads).isZero();
            assertThat(second.hits()).isGreaterThanOrEqualTo(2);

            // 200 small files, one chunk each, in one data pack: a few ranged reads, not 200
            ranged = counted.calls(FaultyBackend.Op.READ_RANGE);
            Path target = tmp.resolve("restored");
            new Restorer(repo, new RestoreOptions(target, "/", List.of(), List.of(), false, false, 2))
                    .run(repo.resolve("latest"));
            assertThat(counted.calls(FaultyBackend.Op.READ_RANGE) - ranged).isBetween(1, 4);
            Path restored = target.resolve(source.toString().substring(1));
            for (int d = 0; d < 20; d++) {
                for (int f = 0; f < 10; f++) {
                    assertThat(restored.resolve("d" + d + "/f" + f)).hasSameBinaryContentAs(source.resolve("d" + d + "/f" + f));
                }
            }
            repo.close();
        }
    }
}
