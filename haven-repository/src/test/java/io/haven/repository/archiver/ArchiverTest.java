package io.haven.repository.archiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.BlobType;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.ForwardingBackend;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.maintenance.RepoFixture;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.snapshot.Snapshot;
import io.haven.repository.tree.Tree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walk: directories as tasks, small files read in place, large files as tasks of their
 * own, trees completed by the last entry; what an incremental run reuses; and that a failure
 * in any worker ends the backup with the error instead of a hang or a snapshot.
 */
class ArchiverTest {
    @TempDir
    Path tmp;

    /** Many directories of small files, one directory of large files (forked), a symlink, an empty dir. */
    private Path tree() throws IOException {
        Path src = tmp.resolve("src");
        for (int d = 0; d < 30; d++) {
            for (int f = 0; f < 20; f++) {
                RepoFixture.write(src.resolve("d" + d).resolve("sub").resolve("f" + f), 100 + 37 * f + d, d * 100L + f);
            }
        }
        for (int i = 0; i < 4; i++) {
            RepoFixture.write(src.resolve("big").resolve("b" + i), (int) Archiver.FORK_BYTES + 12345 * i, 7000 + i);
        }
        Files.createDirectories(src.resolve("empty"));
        Files.createSymbolicLink(src.resolve("link"), Path.of("d0/sub/f0"));
        return src;
    }

    private static Archiver.Result backup(Repository repo, List<Path> paths, boolean force, int threads, Repository.SnapshotEntry parent) {
        BackupOptions o = new BackupOptions(paths, "h", "u", 0, 0, List.of(), List.of(), force, null, threads, false, "test");
        return new Archiver(repo, o).run(parent);
    }

    @Test
    void backsUpEverythingAndAnUnchangedRerunReadsNothing() throws IOException {
        Path src = tree();
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        try (Repository repo = fx.open()) {
            for (int threads : new int[] {1, 2, 4}) {
                Archiver.Result first = backup(repo, List.of(src), true, threads, null);
                assertThat(first.snapshot().summary().filesNew()).isEqualTo(604);
                assertThat(first.snapshot().summary().dirs()).isEqualTo(1 + 30 * 2 + 1 + 1);
                Repository.SnapshotEntry entry = repo.resolve(first.snapshotId().hex());
                assertThat(RepoFixture.restore(repo, entry, tmp, src)).isEqualTo(RepoFixture.contents(src));

                Archiver.Result again = backup(repo, List.of(src), false, threads, entry);
                assertThat(again.snapshot().summary().filesUnmodified()).isEqualTo(604);
                assertThat(again.snapshot().summary().bytesProcessed()).isZero();
                // the same content and metadata give the same trees (the ancestors of src change:
                // restores were made beside it)
                assertThat(srcNode(repo, again, src)).isEqualTo(srcNode(repo, first, src));
            }
        }
    }

    @Test
    void forceReadsEveryFileAndStillComparesWithTheParent() throws IOException {
        Path src = tree();
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        try (Repository repo = fx.open()) {
            Archiver.Result first = backup(repo, List.of(src), false, 2, null);
            Repository.SnapshotEntry parent = repo.resolve(first.snapshotId().hex());
            Files.writeString(src.resolve("d3/sub/f5"), "other", StandardCharsets.UTF_8);

            Archiver.Result forced = backup(repo, List.of(src), true, 2, parent);

            Snapshot.Summary s = forced.snapshot().summary();
            assertThat(forced.snapshot().parent()).isEqualTo(parent.id().hex());
            assertThat(s.bytesProcessed()).isEqualTo(s.totalBytes());
            assertThat(s.filesNew()).isZero();
            assertThat(s.filesChanged()).isEqualTo(1);
            assertThat(s.filesUnmodified()).isEqualTo(603);
            assertThat(srcNode(repo, forced, src).subtree()).isNotEqualTo(srcNode(repo, first, src).subtree());
            assertThat(RepoFixture.restore(repo, repo.resolve(forced.snapshotId().hex()), tmp, src))
                    .isEqualTo(RepoFixture.contents(src));

            // check --read-data knows the bytes it will read (its progress line's total)
            io.haven.repository.check.Checker checker = new io.haven.repository.check.Checker(repo, true, 2);
            assertThat(checker.bytesTotal()).isEqualTo(-1);
            io.haven.repository.check.Checker.Result result = checker.run();
            assertThat(result.errors()).isEmpty();
            assertThat(checker.bytesTotal()).isPositive().isEqualTo(result.bytesRead());
        }
    }

    @Test
    void aChangedFileDeepDownIsReadAndItsTreesChange() throws IOException {
        Path src = tree();
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        try (Repository repo = fx.open()) {
            Archiver.Result first = backup(repo, List.of(src), false, 2, null);
            Files.writeString(src.resolve("d7/sub/f3"), "changed", StandardCharsets.UTF_8);
            RepoFixture.write(src.resolve("big/b9"), (int) Archiver.FORK_BYTES, 99);
            Archiver.Result second = backup(repo, List.of(src), false, 2, repo.resolve(first.snapshotId().hex()));
            assertThat(second.snapshot().summary().filesChanged()).isEqualTo(1);
            assertThat(second.snapshot().summary().filesNew()).isEqualTo(1);
            assertThat(second.snapshot().summary().filesUnmodified()).isEqualTo(603);
            assertThat(RepoFixture.restore(repo, repo.resolve(second.snapshotId().hex()), tmp, src))
                    .isEqualTo(RepoFixture.contents(src));
            // the changed directory and its ancestors get new trees; an untouched sibling keeps its tree
            Tree before = repo.loadTree(srcNode(repo, first, src).subtree());
            Tree after = repo.loadTree(srcNode(repo, second, src).subtree());
            byte[] d7 = "d7".getBytes(StandardCharsets.UTF_8);
            byte[] d8 = "d8".getBytes(StandardCharsets.UTF_8);
            assertThat(after.find(d7).subtree()).isNotEqualTo(before.find(d7).subtree());
            assertThat(after.find(d8)).isEqualTo(before.find(d8));
        }
    }

    @Test
    void severalPathsAndASingleFileAsRoots() throws IOException {
        Path src = tree();
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        try (Repository repo = fx.open()) {
            Path single = src.resolve("big/b1");
            Archiver.Result r = backup(repo, List.of(src.resolve("d3"), src.resolve("d4/sub"), single), false, 2, null);
            assertThat(r.snapshot().summary().filesNew()).isEqualTo(41);
            Map<String, String> restored = RepoFixture.restore(repo, repo.resolve(r.snapshotId().hex()), tmp, src);
            Map<String, String> expected = new java.util.TreeMap<>(RepoFixture.contents(src));
            expected.keySet().removeIf(k -> !(k.startsWith("d3/") || k.startsWith("d4/sub/") || k.equals("big/b1")));
            assertThat(restored).isEqualTo(expected);
        }
    }

    @Test
    void aFailedPackWriteEndsTheBackupWithTheErrorAndNoSnapshot() throws IOException {
        Path src = tree();
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        java.util.concurrent.atomic.AtomicInteger packWrites = new java.util.concurrent.atomic.AtomicInteger();
        // more than two packs of data: the first full pack is stored while workers are mid-walk, and fails
        for (int i = 0; i < 6; i++) {
            RepoFixture.write(src.resolve("more").resolve("m" + i), 6 << 20, 500 + i);
        }
        Backend full = new ForwardingBackend(new LocalBackend(fx.repoDir)) {
            @Override
            public void write(String name, byte[] data, int length) {
                if (name.startsWith(BlobType.DATA.directory() + "/") && packWrites.incrementAndGet() == 1) {
                    throw new HavenException(ErrorCode.IO, "no space left on device");
                }
                super.write(name, data, length);
            }
        };
        try (Repository repo = RepoFixture.open(full)) {
            int before = repo.snapshots().size();
            BackupOptions o = new BackupOptions(List.of(src), "h", "u", 0, 0, List.of(), List.of(), false, null, 2, false, "test");
            Archiver archiver = new Archiver(repo, o);
            assertThatThrownBy(() -> archiver.run(null))
                    .isInstanceOf(HavenException.class)
                    .hasMessageContaining("no space left on device")
                    .satisfies(e -> assertThat(((HavenException) e).code()).isEqualTo(ErrorCode.IO));
            assertThat(packWrites.get()).isGreaterThanOrEqualTo(1);
            assertThat(repo.snapshots()).hasSize(before);
        }
        // the repository is still usable: the next backup completes and checks clean
        try (Repository repo = fx.open()) {
            Archiver.Result r = backup(repo, List.of(src), false, 2, null);
            assertThat(r.snapshot().summary().filesNew()).isEqualTo(610);
            assertThat(RepoFixture.check(repo).errors()).isEmpty();
        }
    }

    /** The node of {@code src} in a snapshot's tree. */
    private static Node srcNode(Repository repo, Archiver.Result r, Path src) {
        Tree t = repo.loadTree(io.haven.repository.BlobId.parse(r.snapshot().tree()));
        Node n = null;
        for (Path part : src) {
            n = t.find(part.toString().getBytes(StandardCharsets.UTF_8));
            assertThat(n).as(part.toString()).isNotNull();
            t = repo.loadTree(n.subtree());
        }
        return n;
    }

    @Test
    void nodeTypesSurviveTheWalk() throws IOException {
        Path src = tree();
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        try (Repository repo = fx.open()) {
            Archiver.Result r = backup(repo, List.of(src), false, 2, null);
            // the root tree holds the path's ancestors down to src
            Tree t = repo.loadTree(srcNode(repo, r, src).subtree());
            assertThat(t.find("link".getBytes(StandardCharsets.UTF_8)).type()).isEqualTo(NodeType.SYMLINK);
            assertThat(t.find("empty".getBytes(StandardCharsets.UTF_8)).type()).isEqualTo(NodeType.DIR);
            Tree big = repo.loadTree(t.find("big".getBytes(StandardCharsets.UTF_8)).subtree());
            List<String> names = new ArrayList<>();
            for (Node n : big.nodes()) {
                names.add(new String(n.name(), StandardCharsets.UTF_8));
                assertThat(n.content()).hasSizeGreaterThanOrEqualTo(1);
            }
            assertThat(names).containsExactly("b0", "b1", "b2", "b3");
        }
    }
}
