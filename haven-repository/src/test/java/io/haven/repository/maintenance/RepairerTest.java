package io.haven.repository.maintenance;

import static io.haven.repository.maintenance.RepoFixture.backup;
import static io.haven.repository.maintenance.RepoFixture.check;
import static io.haven.repository.maintenance.RepoFixture.contents;
import static io.haven.repository.maintenance.RepoFixture.restore;
import static io.haven.repository.maintenance.RepoFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.check.Checker;
import io.haven.repository.index.Index;
import io.haven.repository.snapshot.Snapshot;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code repair index [--read-data]} and {@code repair snapshots}, and how check and prune lead to them. */
class RepairerTest {
    @TempDir
    Path tmp;
    Path src;
    RepoFixture fx;

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        fx = new RepoFixture(Files.createDirectories(tmp.resolve("repo")));
    }

    private static Repairer repairer(Repository repo) {
        return new Repairer(repo, "h", 2, m -> {});
    }

    private static Pruner.Result prune(Repository repo) {
        return new Pruner(repo, new Pruner.Options(0.2, false, Duration.ZERO, 2, "pruner"), m -> {}).run();
    }

    /** Flips one bit in the middle of the stored object {@code name}. */
    private void flip(String name) throws Exception {
        flipAt(name, -1);
    }

    private void flipAt(String name, long offset) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(fx.repoDir.resolve(name).toFile(), "rw")) {
            long at = offset >= 0 ? offset : f.length() / 2;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 1);
        }
    }

    /** The file node named {@code name} anywhere below {@code tree}, or null. */
    private static Node find(Repository repo, BlobId tree, String name) {
        for (Node n : repo.loadTree(tree).nodes()) {
            if (n.displayName().equals(name)) {
                return n;
            }
            if (n.type() == NodeType.DIR) {
                Node x = find(repo, n.subtree(), name);
                if (x != null) {
                    return x;
                }
            }
        }
        return null;
    }

    private static Checker.Result checkStructure(Repository repo) {
        repo.reloadIndex();
        return new Checker(repo, false, 2).run();
    }

    @Test
    void aDamagedDataBlobIsLeftOutOfTheIndexSoThatRepairSnapshotsDropsItAndANewBackupStoresItAgain() throws Exception {
        write(src.resolve("a.bin"), 3_000_000, 1);
        write(src.resolve("b.txt"), 1000, 2);
        Map<String, String> expected = contents(src);
        backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        String pack;
        try (Repository repo = fx.open()) {
            assertThat(repo.backend().list("data")).hasSize(1);
            pack = repo.backend().list("data").get(0);
        }
        flip(pack);
        try (Repository repo = fx.open()) {
            Checker.Result c = check(repo);
            assertThat(c.errors()).isNotEmpty()
                    .allSatisfy(e -> assertThat(e).contains("run 'haven repair index --read-data', then 'haven repair snapshots'"));
        }
        Repairer.IndexResult r;
        try (Repository repo = fx.open()) {
            r = repairer(repo).rebuildIndex(true);
        }
        assertThat(r.damaged()).singleElement().satisfies(d -> {
            assertThat(d.pack()).isEqualTo(pack);
            assertThat(d.damaged()).singleElement().satisfies(m -> assertThat(m).contains("authentication"));
            assertThat(d.salvaged()).isPositive();
            assertThat(d.hashMismatch()).isTrue();
        });
        assertThat(r.packsRead()).isEqualTo(2);
        try (Repository repo = fx.open()) {
            // the damaged blob is no longer indexed: the snapshot misses it, and nothing else is wrong
            Checker.Result c = check(repo);
            assertThat(c.errors()).singleElement().satisfies(e -> assertThat(e).contains("a.bin").contains("missing"));
            assertThat(c.warnings()).singleElement().satisfies(w -> assertThat(w).contains(pack).contains("left out"));
            // a plain repair index does not bring the damaged blob back
            repairer(repo).rebuildIndex();
        }
        try (Repository repo = fx.open()) {
            assertThat(checkStructure(repo).errors()).singleElement().satisfies(e -> assertThat(e).contains("a.bin"));
            List<Repairer.RepairedSnapshot> repaired = repairer(repo).repairSnapshots(false, true);
            assertThat(repaired).singleElement().satisfies(s -> assertThat(s.removed()).singleElement()
                    .satisfies(x -> assertThat(x).contains("a.bin")));
        }
        try (Repository repo = fx.open()) {
            Repository.SnapshotEntry s = repo.resolve("latest");
            assertThat(s.snapshot().tags()).contains("repaired");
            assertThat(s.snapshot().summary().totalFiles()).isEqualTo(1);
            assertThat(s.snapshot().summary().totalBytes()).isEqualTo(1000);
            assertThat(restore(repo, s, tmp, src)).containsOnlyKeys("b.txt");
        }
        // the next backup stores the lost chunk again instead of deduplicating against the damaged copy
        Archiver.Result again = backup(fx.repoDir, src, Instant.parse("2026-01-02T00:00:00Z"));
        assertThat(again.snapshot().summary().bytesAdded()).isPositive();
        try (Repository repo = fx.open()) {
            assertThat(restore(repo, repo.resolve(again.snapshotId().hex()), tmp, src)).isEqualTo(expected);
            Pruner.Result p = prune(repo);
            assertThat(p.packsDeleted()).isPositive();
        }
        try (Repository repo = fx.open()) {
            assertThat(repo.backend().list("data")).doesNotContain(pack);
            Checker.Result c = check(repo);
            assertThat(c.errors()).isEmpty();
            assertThat(c.warnings()).isEmpty();
            assertThat(restore(repo, repo.resolve(again.snapshotId().hex()), tmp, src)).isEqualTo(expected);
        }
    }

    @Test
    void aDamagedTreeBlobIsLeftOutOfTheIndexAndTheNextBackupStoresItsTreeAgain() throws Exception {
        write(src.resolve("d/x"), 200_000, 1);
        write(src.resolve("y"), 1000, 2);
        Map<String, String> expected = contents(src);
        Archiver.Result first = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        String treePack;
        BlobId dTree;
        try (Repository repo = fx.open()) {
            treePack = repo.backend().list("tree").get(0);
            // damage the tree of d, which every later backup of the same files would reuse
            dTree = find(repo, BlobId.parse(first.snapshot().tree()), "d").subtree();
            Index.Location at = repo.index().lookup(dTree);
            assertThat(at.packName()).isEqualTo(treePack);
            flipAt(treePack, at.offset() + at.length() / 2);
        }
        Repairer.IndexResult r;
        try (Repository repo = fx.open()) {
            r = repairer(repo).rebuildIndex(true);
        }
        assertThat(r.damaged()).singleElement().satisfies(d -> assertThat(d.pack()).isEqualTo(treePack));
        Archiver.Result again = backup(fx.repoDir, src, Instant.parse("2026-01-02T00:00:00Z"));
        try (Repository repo = fx.open()) {
            assertThat(find(repo, BlobId.parse(again.snapshot().tree()), "d").subtree()).isEqualTo(dTree);
            assertThat(restore(repo, repo.resolve(again.snapshotId().hex()), tmp, src)).isEqualTo(expected);
            List<Repairer.RepairedSnapshot> repaired = repairer(repo).repairSnapshots(false, true);
            // the tree of d is in the index again (the new backup stored it): nothing to repair
            assertThat(repaired).isEmpty();
            prune(repo);
        }
        try (Repository repo = fx.open()) {
            Checker.Result c = check(repo);
            assertThat(c.errors()).isEmpty();
            assertThat(c.warnings()).isEmpty();
            assertThat(repo.backend().list("tree")).doesNotContain(treePack);
        }
    }

    @Test
    void aRepairedSnapshotWhoseRootIsLostIsEmptyAndSaysSo() throws Exception {
        write(src.resolve("d/x"), 200_000, 1);
        Archiver.Result first = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        try (Repository repo = fx.open()) {
            Index.Location root = repo.index().lookup(BlobId.parse(first.snapshot().tree()));
            flipAt(root.packName(), root.offset() + root.length() / 2);
        }
        try (Repository repo = fx.open()) {
            repairer(repo).rebuildIndex(true);
        }
        try (Repository repo = fx.open()) {
            assertThat(repairer(repo).repairSnapshots(false, false)).singleElement()
                    .satisfies(s -> assertThat(s.removed()).singleElement().satisfies(x -> assertThat(x).startsWith("/ ")));
        }
        try (Repository repo = fx.open()) {
            Snapshot.Summary s = repo.snapshots().stream().filter(e -> e.snapshot().tags().contains("repaired")).findFirst()
                    .orElseThrow().snapshot().summary();
            assertThat(s.totalFiles()).isZero();
            assertThat(s.totalBytes()).isZero();
            assertThat(s.dirs()).isZero();
            assertThat(s.filesNew()).isEqualTo(first.snapshot().summary().filesNew());
        }
    }

    /** Two backups, then the index file the second wrote is lost. */
    private List<String> loseTheLastIndexFile() throws Exception {
        Path one = Files.createDirectories(src.resolve("one"));
        Path two = Files.createDirectories(src.resolve("two"));
        write(one.resolve("a"), 300_000, 1);
        write(two.resolve("b"), 300_000, 2);
        List<String> before;
        try (Repository repo = fx.open()) {
            backup(repo, one, Instant.parse("2026-01-01T00:00:00Z"));
            before = repo.backend().list("index");
        }
        try (Repository repo = fx.open()) {
            backup(repo, two, Instant.parse("2026-01-02T00:00:00Z"));
            List<String> lost = new ArrayList<>(repo.backend().list("index"));
            lost.removeAll(before);
            assertThat(lost).hasSize(1);
            repo.backend().delete(lost.get(0));
            List<String> packs = new ArrayList<>(repo.backend().list("data"));
            packs.addAll(repo.backend().list("tree"));
            return packs;
        }
    }

    @Test
    void afterALostIndexFileCheckSaysTheUnindexedPacksHoldTheMissingDataAndRepairSnapshotsAndPruneRefuse() throws Exception {
        List<String> packs = loseTheLastIndexFile();
        try (Repository repo = fx.open()) {
            Checker.Result c = checkStructure(repo);
            assertThat(c.errors()).anySatisfy(e -> assertThat(e).contains("missing"));
            assertThat(c.errors()).anySatisfy(e -> assertThat(e).contains("2 unindexed pack(s) may hold the missing data")
                    .contains("run 'haven repair index' first"));
            assertThat(c.warnings()).noneSatisfy(w -> assertThat(w).contains("harmless"));
        }
        try (Repository repo = fx.open()) {
            assertThatThrownBy(() -> repairer(repo).repairSnapshots(false, true)).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT);
                assertThat(e.getMessage()).contains("haven repair index");
            });
            assertThatThrownBy(() -> repairer(repo).repairSnapshots(true, false)).isInstanceOf(HavenException.class);
            assertThat(repo.backend().list("snapshots")).hasSize(2);
        }
        try (Repository repo = fx.open()) {
            assertThatThrownBy(() -> prune(repo)).isInstanceOfSatisfying(HavenException.class,
                    e -> assertThat(e.getMessage()).contains("unindexed pack(s) may hold the missing data").contains("haven repair index"));
        }
        try (Repository repo = fx.open()) {
            List<String> now = new ArrayList<>(repo.backend().list("data"));
            now.addAll(repo.backend().list("tree"));
            assertThat(now).containsAll(packs);
            repairer(repo).rebuildIndex();
        }
        try (Repository repo = fx.open()) {
            Checker.Result c = check(repo);
            assertThat(c.errors()).isEmpty();
            assertThat(c.warnings()).isEmpty();
            assertThat(repairer(repo).repairSnapshots(false, true)).isEmpty();
        }
    }

    @Test
    void repairSnapshotsSaysToWaitWhenALiveBackupMayOwnTheUnindexedPacks() throws Exception {
        loseTheLastIndexFile();
        try (Repository other = fx.open(); Repository repo = fx.open()) {
            other.register("backup", "elsewhere");
            assertThatThrownBy(() -> repairer(repo).repairSnapshots(false, false)).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.BUSY);
                assertThat(e.getMessage()).contains("wait for it").contains("elsewhere").contains("haven repair index");
            });
        }
    }

    @Test
    void unindexedPacksThatHoldNoneOfTheMissingDataDoNotStopRepairSnapshots() throws Exception {
        write(src.resolve("a"), 300_000, 1);
        backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        write(src.resolve("b"), 300_000, 2);
        Map<String, String> all = contents(src);
        backup(fx.repoDir, src, Instant.parse("2026-01-02T00:00:00Z"));
        try (Repository repo = fx.open()) {
            // a chunk of b is lost: its pack (which holds nothing of a) is gone
            Repository.SnapshotEntry s = repo.resolve("latest");
            Node b = find(repo, BlobId.parse(s.snapshot().tree()), "b");
            String pack = repo.index().lookup(b.content().get(0)).packName();
            Node a = find(repo, BlobId.parse(s.snapshot().tree()), "a");
            assertThat(repo.index().lookup(a.content().get(0)).packName()).isNotEqualTo(pack);
            repo.backend().delete(pack);
            // and a killed backup left an unrelated pack
            List<String> indexBefore = repo.backend().list("index");
            RepositoryWriter w = repo.newWriter();
            byte[] payload = new byte[1000];
            new java.util.Random(5).nextBytes(payload);
            w.save(io.haven.repository.BlobType.DATA, repo.key().blobId(payload, 0, payload.length), payload, 0, payload.length);
            w.flush();
            for (String name : repo.backend().list("index")) {
                if (!indexBefore.contains(name)) {
                    repo.backend().delete(name);
                }
            }
            w.close();
        }
        try (Repository repo = fx.open()) {
            repairer(repo).rebuildIndex();
        }
        try (Repository repo = fx.open()) {
            // the killed backup's pack is indexed now; make another one for the test
            Checker.Result c = checkStructure(repo);
            assertThat(c.errors()).noneSatisfy(e -> assertThat(e).contains("unindexed"));
        }
        try (Repository repo = fx.open()) {
            List<String> indexBefore = repo.backend().list("index");
            RepositoryWriter w = repo.newWriter();
            byte[] payload = new byte[1000];
            new java.util.Random(6).nextBytes(payload);
            w.save(io.haven.repository.BlobType.DATA, repo.key().blobId(payload, 0, payload.length), payload, 0, payload.length);
            w.flush();
            for (String name : repo.backend().list("index")) {
                if (!indexBefore.contains(name)) {
                    repo.backend().delete(name);
                }
            }
            w.close();
        }
        try (Repository repo = fx.open()) {
            Checker.Result c = checkStructure(repo);
            assertThat(c.errors()).noneSatisfy(e -> assertThat(e).contains("unindexed"));
            assertThat(c.warnings()).anySatisfy(w -> assertThat(w).contains("harmless"));
            List<Repairer.RepairedSnapshot> r = repairer(repo).repairSnapshots(false, true);
            assertThat(r).singleElement().satisfies(s -> assertThat(s.removed()).isNotEmpty());
        }
        try (Repository repo = fx.open()) {
            Repository.SnapshotEntry s = repo.resolve("latest");
            Map<String, String> restored = restore(repo, s, tmp, src);
            assertThat(s.snapshot().summary().totalFiles()).isEqualTo(restored.size());
            assertThat(all).containsAllEntriesOf(restored);
            assertThat(restored).containsOnlyKeys("a");
            assertThat(prune(repo).orphansDeleted()).isEqualTo(1);
            assertThat(check(repo).errors()).isEmpty();
        }
    }

    @Test
    void pruneRepacksAPackWhoseUnusedBlobIsDamagedWithoutFailing() throws Exception {
        write(src.resolve("x"), 500_000, 1);
        write(src.resolve("y"), 500_000, 2);
        Archiver.Result first = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Files.delete(src.resolve("y"));
        Map<String, String> expected = contents(src);
        Archiver.Result second = backup(fx.repoDir, src, Instant.parse("2026-01-02T00:00:00Z"));
        try (Repository repo = fx.open()) {
            Node y = find(repo, BlobId.parse(first.snapshot().tree()), "y");
            Index.Location loc = repo.index().lookup(y.content().get(0));
            flipAt(loc.packName(), loc.offset() + loc.length() / 2);
            repo.backend().delete("snapshots/" + first.snapshotId().hex());
        }
        try (Repository repo = fx.open()) {
            Pruner.Result p = prune(repo);
            assertThat(p.packsRepacked()).isEqualTo(1);
        }
        try (Repository repo = fx.open()) {
            Checker.Result c = check(repo);
            assertThat(c.errors()).isEmpty();
            assertThat(restore(repo, repo.resolve(second.snapshotId().hex()), tmp, src)).isEqualTo(expected);
        }
    }

    @Test
    void aDamagedPackThatNoIndexNamesIsLeftToPrune() throws Exception {
        write(src.resolve("a"), 100_000, 1);
        backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        String orphan;
        try (Repository repo = fx.open()) {
            List<String> indexBefore = repo.backend().list("index");
            List<String> packsBefore = repo.backend().list("data");
            RepositoryWriter w = repo.newWriter();
            byte[] payload = new byte[5000];
            new java.util.Random(5).nextBytes(payload);
            w.save(io.haven.repository.BlobType.DATA, repo.key().blobId(payload, 0, payload.length), payload, 0, payload.length);
            w.flush();
            w.close();
            for (String name : repo.backend().list("index")) {
                if (!indexBefore.contains(name)) {
                    repo.backend().delete(name);
                }
            }
            orphan = repo.backend().list("data").stream().filter(n -> !packsBefore.contains(n)).findFirst().orElseThrow();
        }
        flipAt(orphan, 100);
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isNotEmpty().allSatisfy(e -> assertThat(e).contains(orphan)
                    .contains("'haven prune' removes it"));
            assertThat(prune(repo).orphansDeleted()).isEqualTo(1);
        }
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isEmpty();
        }
    }
}
