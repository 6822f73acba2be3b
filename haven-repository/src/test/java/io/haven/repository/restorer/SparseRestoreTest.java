package io.haven.repository.restorer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.maintenance.RepoFixture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Holes stay holes: a restored sparse file takes no more blocks than the original, whatever
 * the chunk boundaries, and one that ends in a hole gets its length without a written block.
 * Blocks are counted with {@code stat}, as {@code du} does.
 */
class SparseRestoreTest {
    @TempDir
    Path tmp;

    private Path src;
    private Repository repo;
    private Repository.SnapshotEntry snap;

    @BeforeEach
    void backUp() throws IOException {
        src = Files.createDirectories(tmp.resolve("src"));
        try (FileChannel ch = create(src.resolve("pattern.img"))) {
            // 5 MiB of data, then one byte at +4095 and one at +8192 of every 12 KiB: data
            // blocks and holes alternate, and chunk boundaries fall anywhere among them
            ch.write(ByteBuffer.wrap(random(5 << 20, 1)), 0);
            for (long at = 5 << 20; at < (12L << 20); at += 12 << 10) {
                ch.write(ByteBuffer.wrap(new byte[] {7}), at + 4095);
                ch.write(ByteBuffer.wrap(new byte[] {9}), at + 8192);
            }
            ch.write(ByteBuffer.wrap(new byte[] {1}), (12L << 20) + 100);
        }
        try (FileChannel ch = create(src.resolve("needle.img"))) {
            // 64 MiB with 4 bytes in the middle, not at a block boundary
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), 50_000_000L - 2);
            ch.write(ByteBuffer.wrap(new byte[] {5}), (64L << 20) - 1);
        }
        try (FileChannel ch = create(src.resolve("tail-hole.img"))) {
            // data at the start, then a hole to the end: the length is set, not written
            ch.write(ByteBuffer.wrap(random(10_000, 2)), 0);
        }
        try (var raf = new java.io.RandomAccessFile(src.resolve("tail-hole.img").toFile(), "rw")) {
            raf.setLength(32L << 20);
        }
        repo = new RepoFixture(tmp.resolve("repo")).open();
        Archiver.Result r = RepoFixture.backup(repo, src, Instant.parse("2026-01-01T00:00:00Z"));
        snap = repo.resolve(r.snapshotId().hex());
    }

    @Test
    void restoredFilesTakeNoMoreBlocksThanTheOriginals() throws Exception {
        Path target = tmp.resolve("target");
        new Restorer(repo, new RestoreOptions(target, src.toString(), List.of(), List.of(), false, false, 2)).run(snap);

        for (String name : List.of("pattern.img", "needle.img", "tail-hole.img")) {
            Path original = src.resolve(name);
            Path restored = target.resolve(name);
            assertThat(Files.mismatch(original, restored)).as(name + " content").isEqualTo(-1);
            assertThat(Files.size(restored)).as(name + " length").isEqualTo(Files.size(original));
            assertThat(blocks(restored)).as(name + " blocks (original: " + blocks(original) + ")")
                    .isLessThanOrEqualTo(blocks(original));
        }
    }

    @AfterEach
    void close() {
        repo.close();
    }

    @Test
    void theSpaceCheckCanBeSkippedAndSaysSo() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounts a small tmpfs, which needs root");
        // 64 MiB with 512 random bytes every 64 KiB: 4 MiB of blocks, but no chunk is all zeros,
        // so the estimate counts all 64 MiB, more than the 16 MiB file system has
        Path img = src.resolve("vm.img");
        try (FileChannel ch = create(img)) {
            Random r = new Random(3);
            byte[] b = new byte[512];
            for (long at = 0; at < (64L << 20); at += 64 << 10) {
                r.nextBytes(b);
                ch.write(ByteBuffer.wrap(b), at);
            }
        }
        Repository.SnapshotEntry withImage = repo.resolve(
                RepoFixture.backup(repo, src, Instant.parse("2026-01-02T00:00:00Z")).snapshotId().hex());
        Path small = Files.createDirectories(tmp.resolve("small"));
        sh("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", small.toString());
        try {
            Path target = small.resolve("restore");
            String sub = img.toString();

            assertThatThrownBy(() -> new Restorer(repo, new RestoreOptions(target, sub, List.of(), List.of(), false, false, 2))
                    .run(withImage)).isInstanceOf(HavenException.class)
                    .satisfies(e -> assertThat(((HavenException) e).code()).isEqualTo(ErrorCode.TARGET_UNUSABLE))
                    .hasMessageContaining("not enough room").hasMessageContaining("--no-space-check");
            assertThat(target).doesNotExist();

            new Restorer(repo, new RestoreOptions(target, sub, List.of(), List.of(), false, false, 2, false, false, true))
                    .run(withImage);
            Path restored = target.resolve("vm.img");
            assertThat(Files.mismatch(img, restored)).isEqualTo(-1);
            assertThat(blocks(restored)).isLessThanOrEqualTo(blocks(img));
        } finally {
            sh("umount", small.toString());
        }
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    private static FileChannel create(Path p) throws IOException {
        return FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static long blocks(Path p) throws Exception {
        Process proc = new ProcessBuilder("stat", "-c", "%b", p.toString()).redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes()).trim();
        assertThat(proc.waitFor()).as("stat: " + out).isZero();
        return Long.parseLong(out);
    }
}
