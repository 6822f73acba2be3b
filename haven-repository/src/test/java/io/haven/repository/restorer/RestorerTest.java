package io.haven.repository.restorer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.snapshot.Snapshot;
import io.haven.repository.fs.FileNames;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RestorerTest {
    private static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2026-03-04T05:06:07Z"));
    private static final byte[] CONTENT = "the content of a restored file\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private Path work;
    private Repository repo;

    @BeforeEach
    void createRepository() throws IOException {
        Path repoDir = Files.createDirectory(tmp.resolve("repo"));
        work = Files.createDirectory(tmp.resolve("work"));
        repo = Repository.init(new LocalBackend(repoDir), "pw".toCharArray(), 8192,
                new Repository.Actor("host", "user"), CLOCK, new SecureRandom());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Node file(byte[] name, BlobId chunk, long size) {
        return new Node(NodeType.FILE, name, 0640, 1000, 1000, "", "", 1_600_000_000L, 5, 1_600_000_000L, 5, 11, 22, 1,
                size, List.of(chunk), null, null, 0, List.of());
    }

    private static Node dir(byte[] name, BlobId subtree) {
        return new Node(NodeType.DIR, name, 0755, 1000, 1000, "", "", 1_600_000_000L, 0, 1_600_000_000L, 0, 12, 22, 2,
                0, List.of(), subtree, null, 0, List.of());
    }

    /** Stores the root tree, flushes the writer and saves a snapshot of it; returns the snapshot. */
    private Repository.SnapshotEntry snapshotOf(Tree rootTree, RepositoryWriter writer) {
        BlobId root = writer.saveTree(rootTree.encode());
        writer.flush();
        repo.saveSnapshot(new Snapshot(1, CLOCK.instant().toString(), root.hex(), List.of("/"), "host", "user", 1000,
                1000, List.of(), List.of(), null, "test", null));
        return repo.resolve("latest");
    }

    private BlobId saveData(RepositoryWriter writer) {
        BlobId id = repo.key().blobId(CONTENT, 0, CONTENT.length);
        writer.save(BlobType.DATA, id, CONTENT, 0, CONTENT.length);
        return id;
    }

    /** A snapshot whose root holds a file "evil" and a directory "sub" with an entry {@code badName}. */
    private Repository.SnapshotEntry hostileSnapshot(String badName) {
        RepositoryWriter writer = repo.newWriter();
        BlobId chunk = saveData(writer);
        // Node and Tree accept any name; only decoding refuses unsafe ones, as a restorer reading a
        // hostile repository would meet them
        Tree inner = new Tree(List.of(file(utf8(badName), chunk, CONTENT.length)));
        BlobId sub = writer.saveTree(inner.encode());
        Tree root = new Tree(List.of(file(utf8("evil"), chunk, CONTENT.length), dir(utf8("sub"), sub)));
        return snapshotOf(root, writer);
    }

    private Repository.SnapshotEntry plainSnapshot() {
        RepositoryWriter writer = repo.newWriter();
        BlobId chunk = saveData(writer);
        Tree inner = new Tree(List.of(file(utf8("inner.txt"), chunk, CONTENT.length)));
        BlobId sub = writer.saveTree(inner.encode());
        Tree root = new Tree(List.of(file(utf8("hello.txt"), chunk, CONTENT.length), dir(utf8("sub"), sub)));
        return snapshotOf(root, writer);
    }

    private RestoreOptions options(Path target) {
        return new RestoreOptions(target, "/", List.of(), List.of(), false, false, 2);
    }

    @Test
    @org.junit.jupiter.api.Timeout(60) // the code before this test waited for the stuck worker for ever
    void aWorkerThatDoesNotStopAfterAFailureIsNamedInTheError() throws Exception {
        Restorer restorer = new Restorer(repo, options(tmp.resolve("target")));
        restorer.workerGrace = java.time.Duration.ofMillis(200);
        java.util.concurrent.CountDownLatch stuckStarted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try {
            assertThatThrownBy(() -> restorer.parallel(List.of("stuck", "fails"), item -> {
                if (item.equals("stuck")) {
                    stuckStarted.countDown();
                    // ignores interrupts, as a write blocked in the kernel would
                    while (true) {
                        try {
                            release.await();
                            return;
                        } catch (InterruptedException e) {
                            // keep waiting
                        }
                    }
                }
                try {
                    stuckStarted.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                throw new HavenException(ErrorCode.CORRUPT, "chunk 1234 does not match its id");
            }))
                    .isInstanceOf(HavenException.class)
                    .hasMessage("chunk 1234 does not match its id (also: a restore worker did not stop within 200 ms;"
                            + " a file it was writing may be incomplete)")
                    .satisfies(e -> assertThat(((HavenException) e).code()).isEqualTo(ErrorCode.CORRUPT));
        } finally {
            release.countDown();
        }
    }

    @Test
    void aFailureWhoseWorkersStopIsThrownAsItIs() {
        Restorer restorer = new Restorer(repo, options(tmp.resolve("target")));
        HavenException failure = new HavenException(ErrorCode.CORRUPT, "chunk 1234 does not match its id");
        assertThatThrownBy(() -> restorer.parallel(List.of("a", "b", "c"), item -> {
            if (item.equals("b")) {
                throw failure;
            }
        })).isSameAs(failure);
    }

    private static List<Path> listRecursively(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            return s.sorted().toList();
        }
    }

    @Test
    void restoresAHandBuiltSnapshot() throws IOException {
        // the control case: the same construction without a hostile name restores
        Path target = work.resolve("target");
        new Restorer(repo, options(target)).run(plainSnapshot());

        assertThat(target.resolve("hello.txt")).hasBinaryContent(CONTENT);
        assertThat(target.resolve("sub/inner.txt")).hasBinaryContent(CONTENT);
        assertThat(Files.getLastModifiedTime(target.resolve("hello.txt")).toInstant())
                .isEqualTo(Instant.ofEpochSecond(1_600_000_000L, 5));
        assertThat(listRecursively(work)).containsExactly(work, target, target.resolve("hello.txt"),
                target.resolve("sub"), target.resolve("sub/inner.txt"));
    }

    @Test
    void ownersAreRestoredByIdOrByNameWhenAsked() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0, "chown needs root");
        RepositoryWriter writer = repo.newWriter();
        BlobId chunk = saveData(writer);
        // recorded on another machine: user "root" had uid 4321 there, group "root" gid 8765
        Node foreign = new Node(NodeType.FILE, utf8("foreign.txt"), 0640, 4321, 8765, "root", "root", 1_600_000_000L, 0,
                1_600_000_000L, 0, 11, 22, 1, CONTENT.length, List.of(chunk), null, null, 0, List.of());
        Repository.SnapshotEntry snap = snapshotOf(new Tree(List.of(foreign)), writer);

        Path byId = work.resolve("by-id");
        new Restorer(repo, options(byId)).run(snap);
        assertThat(Files.getAttribute(byId.resolve("foreign.txt"), "unix:uid")).isEqualTo(4321);
        assertThat(Files.getAttribute(byId.resolve("foreign.txt"), "unix:gid")).isEqualTo(8765);

        Path byName = work.resolve("by-name");
        new Restorer(repo, new RestoreOptions(byName, "/", List.of(), List.of(), false, true, 2)).run(snap);
        assertThat(Files.getAttribute(byName.resolve("foreign.txt"), "unix:uid")).isEqualTo(0);
        assertThat(Files.getAttribute(byName.resolve("foreign.txt"), "unix:gid")).isEqualTo(0);
        assertThat(Files.getAttribute(byName.resolve("foreign.txt"), "unix:mode")).isEqualTo(0100640);
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "../../escaped", "x/../../escaped", "/tmp/escaped"})
    void aHostileNameIsRefusedBeforeAnythingIsWritten(String badName) throws IOException {
        Repository.SnapshotEntry snapshot = hostileSnapshot(badName);
        Path target = work.resolve("target");

        assertThatThrownBy(() -> new Restorer(repo, options(target)).run(snapshot))
                .isInstanceOfSatisfying(HavenException.class,
                        e -> assertThat(e.code()).isIn(ErrorCode.UNSAFE_PATH, ErrorCode.CORRUPT));

        // nothing was written: not the target, not "evil", nothing next to the target
        assertThat(listRecursively(work)).containsExactly(work);
        assertThat(listRecursively(tmp.resolve("repo")).stream().map(p -> p.getFileName().toString()))
                .doesNotContain("evil", "escaped");
    }

    @Test
    void aHostileNameIsRefusedWithUnsafePath() {
        Repository.SnapshotEntry snapshot = hostileSnapshot("..");
        assertThatThrownBy(() -> new Restorer(repo, options(work.resolve("target"))).run(snapshot))
                .isInstanceOfSatisfying(HavenException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSAFE_PATH));
    }

    @Test
    void aHostileNameIsRefusedInADryRunToo() throws IOException {
        Repository.SnapshotEntry snapshot = hostileSnapshot("..");
        RestoreOptions dry = new RestoreOptions(work.resolve("target"), "/", List.of(), List.of(), true, false, 2);
        assertThatThrownBy(() -> new Restorer(repo, dry).run(snapshot)).isInstanceOf(HavenException.class);
        assertThat(listRecursively(work)).containsExactly(work);
    }

    @Test
    void aTargetThatIsARegularFileIsUnusable() throws IOException {
        Repository.SnapshotEntry snapshot = plainSnapshot();
        Path target = Files.write(work.resolve("a-file"), utf8("keep me"));

        assertThatThrownBy(() -> new Restorer(repo, options(target)).run(snapshot))
                .isInstanceOfSatisfying(HavenException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.TARGET_UNUSABLE));
        assertThat(target).hasContent("keep me");
        assertThat(listRecursively(work)).containsExactly(work, target);
    }

    @Test
    void aTargetThatIsASymlinkToADirectoryIsUnusable() throws IOException {
        Repository.SnapshotEntry snapshot = plainSnapshot();
        Path elsewhere = Files.createDirectory(work.resolve("elsewhere"));
        Path target = Files.createSymbolicLink(work.resolve("link"), elsewhere);

        assertThatThrownBy(() -> new Restorer(repo, options(target)).run(snapshot))
                .isInstanceOfSatisfying(HavenException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.TARGET_UNUSABLE));
        assertThat(listRecursively(elsewhere)).containsExactly(elsewhere);
    }

    @Test
    void aSymlinkInTheTargetIsNeverWrittenThrough() throws IOException {
        Repository.SnapshotEntry snapshot = plainSnapshot();
        Path target = Files.createDirectory(work.resolve("target"));
        Path outside = Files.write(work.resolve("outside.txt"), utf8("untouched"));
        Files.createSymbolicLink(target.resolve("hello.txt"), outside);

        try {
            new Restorer(repo, options(target)).run(snapshot);
        } catch (HavenException e) {
            // whether the restore completes is aSymlinkInTheTargetIsReplaced's business
        }
        assertThat(outside).hasContent("untouched");
    }

    @Test
    void aSymlinkedDirectoryInTheTargetIsReplaced() throws IOException {
        Repository.SnapshotEntry snapshot = plainSnapshot();
        Path target = Files.createDirectory(work.resolve("target"));
        Path outsideDir = Files.createDirectory(work.resolve("outside"));
        Files.createSymbolicLink(target.resolve("sub"), outsideDir);

        new Restorer(repo, options(target)).run(snapshot);

        assertThat(listRecursively(outsideDir)).containsExactly(outsideDir);
        assertThat(Files.isSymbolicLink(target.resolve("sub"))).isFalse();
        assertThat(target.resolve("sub/inner.txt")).hasBinaryContent(CONTENT);
    }

    @Test
    void aSymlinkInTheTargetIsReplaced() throws IOException {
        Repository.SnapshotEntry snapshot = plainSnapshot();
        Path target = Files.createDirectory(work.resolve("target"));
        Path outside = Files.write(work.resolve("outside.txt"), utf8("untouched"));
        Files.createSymbolicLink(target.resolve("hello.txt"), outside);

        new Restorer(repo, options(target)).run(snapshot);

        assertThat(Files.isSymbolicLink(target.resolve("hello.txt"))).isFalse();
        assertThat(target.resolve("hello.txt")).hasBinaryContent(CONTENT);
        assertThat(outside).hasContent("untouched");
    }

    /** glibc's makedev, the encoding of docs/repository-format.md. */
    private static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xff);
    }

    @Test
    void deviceNumbersComeApartAsGlibcPutsThemTogether() {
        long[][] cases = {{7, 200}, {0, 0}, {8, 1}, {259, 65_536}, {4095, 255}, {4096, 256}, {0xfffff, 0xffffff},
            {0x12345, 0xabcdef}, {1, 0xffffff}};
        for (long[] c : cases) {
            assertThat(Restorer.majorMinor(makedev(c[0], c[1]))).as(c[0] + "," + c[1]).containsExactly(c[0], c[1]);
        }
        assertThat(makedev(7, 200)).isEqualTo(1992);
    }

    @Test
    void anEntryWhosePathTheTargetCannotHoldIsSkippedAndTheRestRestored() throws IOException {
        // a chain of directories whose path is longer than Linux allows, as a backup can store it
        // (it reads such trees relative to each directory), beside an ordinary file
        RepositoryWriter writer = repo.newWriter();
        BlobId chunk = saveData(writer);
        Tree deepest = new Tree(List.of(file(utf8("deep.txt"), chunk, CONTENT.length)));
        BlobId below = writer.saveTree(deepest.encode());
        for (int i = 0; i < 20; i++) {
            String name = String.format("%02d", i) + "x".repeat(240);
            below = writer.saveTree(new Tree(List.of(dir(utf8(name), below))).encode());
        }
        Tree root = new Tree(List.of(file(utf8("hello.txt"), chunk, CONTENT.length), dir(utf8("deep"), below)));
        Repository.SnapshotEntry snap = snapshotOf(root, writer);
        Path target = work.resolve("target");

        Restorer.Result r = new Restorer(repo, options(target)).run(snap);

        assertThat(target.resolve("hello.txt")).hasBinaryContent(CONTENT);
        // the directories that fit were restored; the first that would not, and all below it
        // (the rest of the 20 directories and the file), were left out and counted
        long restoredOfChain;
        try (Stream<Path> s = Files.walk(target.resolve("deep"))) {
            List<Path> all = s.toList();
            assertThat(all.stream().mapToInt(p -> FileNames.bytes(p).length).max().orElseThrow()).isLessThan(Restorer.PATH_MAX);
            restoredOfChain = all.size() - 1;
        }
        assertThat(restoredOfChain).isBetween(10L, 19L);
        assertThat(r.skipped()).isEqualTo(21 - restoredOfChain);
        assertThat(r.warnings()).singleElement().asString().contains(r.skipped() + " entries not restored", "longer than the 4095 bytes");

        // what is excluded, or not included, is not counted: nothing asked for was left out
        Path target2 = work.resolve("targ_x"); // as long as "target": the same entries fit
        Restorer.Result excluded = new Restorer(repo, new RestoreOptions(target2, "/", List.of(), List.of("deep.txt"), false, false, 2))
                .run(snap);
        assertThat(excluded.skipped()).isEqualTo(20 - restoredOfChain);
        Path target3 = work.resolve("targ_y");
        Restorer.Result included = new Restorer(repo, new RestoreOptions(target3, "/", List.of("hello.txt"), List.of(), false, false, 2))
                .run(snap);
        assertThat(included.skipped()).isZero();
        assertThat(included.warnings()).isEmpty();
        assertThat(target3.resolve("hello.txt")).hasBinaryContent(CONTENT);
    }
}
