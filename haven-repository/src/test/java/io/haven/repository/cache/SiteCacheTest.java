package io.haven.repository.cache;

import static io.haven.repository.maintenance.RepoFixture.backup;
import static io.haven.repository.maintenance.RepoFixture.contents;
import static io.haven.repository.maintenance.RepoFixture.restore;
import static io.haven.repository.maintenance.RepoFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.archiver.BackupOptions;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.FaultyBackend;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.check.Checker;
import io.haven.repository.maintenance.RepoFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A site cache in front of a main repository: sync, resume, dedup, eviction, a full disk. */
class SiteCacheTest {
    @TempDir
    Path tmp;

    private RepoFixture main;
    private Path cacheDir;
    private Path src;

    @BeforeEach
    void mainAndCache() throws IOException {
        main = new RepoFixture(tmp.resolve("main"));
        cacheDir = tmp.resolve("cache");
        SiteCache.init(new LocalBackend(main.repoDir), "main", cacheDir, 0, Instant.now());
        src = Files.createDirectories(tmp.resolve("src"));
        write(src.resolve("a"), 600_000, 1);
        write(src.resolve("b"), 300_000, 2);
    }

    private Repository openCache(Supplier<Backend> mainBackend, long maxSize) {
        CacheBackend cb = new CacheBackend(new LocalBackend(cacheDir), cacheDir, mainBackend, new SyncState(cacheDir), maxSize);
        return RepoFixture.open(cb);
    }

    private Repository openCache() {
        return openCache(() -> new LocalBackend(main.repoDir), 0);
    }

    private CacheSync.Result sync(Repository cache, Backend mainBackend) {
        return new CacheSync(cache, mainBackend, null, "site-a", m -> { }).run();
    }

    private static List<String> dataPacks(Path dir) throws IOException {
        Path d = dir.resolve("data");
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(d)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void aSyncUploadsDataThenTheIndexThenTheSnapshotAndTheMainRepositoryRestoresIt() throws IOException {
        Map<String, String> expected = contents(src);
        try (Repository cache = openCache()) {
            backup(cache, src, null);
            assertThat(new LocalBackend(main.repoDir).list("snapshots")).isEmpty();
            CacheSync.Result r = sync(cache, new LocalBackend(main.repoDir));
            assertThat(r.snapshotsSynced()).isEqualTo(1);
            assertThat(r.packsUploaded()).isEqualTo(2);   // one data pack, one tree pack
            assertThat(r.indexFiles()).isEqualTo(1);
            // the same objects, byte for byte
            for (String pack : dataPacks(cacheDir)) {
                assertThat(main.repoDir.resolve(pack)).hasSameBinaryContentAs(cacheDir.resolve(pack));
            }
            CacheSync.Result again = sync(cache, new LocalBackend(main.repoDir));
            assertThat(again.snapshotsSynced()).isZero();
            assertThat(again.snapshotsAlreadyThere()).isEqualTo(1);
            assertThat(again.bytesUploaded()).isZero();
        }
        try (Repository m = main.open()) {
            assertThat(RepoFixture.check(m).errors()).isEmpty();
            assertThat(restore(m, m.resolve("latest"), tmp, src)).isEqualTo(expected);
        }
    }

    @Test
    void dataTheMainRepositoryHoldsAlreadyIsNotUploadedAgain() throws IOException {
        try (Repository m = main.open()) {
            backup(m, src, null);   // another host backed up the same files straight to main
        }
        write(src.resolve("c"), 50_000, 3);
        try (Repository cache = openCache()) {
            backup(cache, src, null);
            CacheSync.Result r = sync(cache, new LocalBackend(main.repoDir));
            assertThat(r.snapshotsSynced()).isEqualTo(1);
            // the cache's one data pack holds c as well as a and b, so it goes whole; a second
            // snapshot of unchanged files then uploads no data at all
            backup(cache, src, null);
            CacheSync.Result second = sync(cache, new LocalBackend(main.repoDir));
            assertThat(second.snapshotsSynced()).isEqualTo(1);
            assertThat(second.packsUploaded()).isLessThanOrEqualTo(1);   // at most a tree pack
            assertThat(second.bytesUploaded()).isLessThan(20_000);
        }
    }

    @Test
    void aSyncThatFailsAtAnyWriteLeavesTheMainRepositoryValidAndTheNextSyncCompletes() throws IOException {
        Map<String, String> first = contents(src);
        try (Repository cache = openCache()) {
            backup(cache, src, null);
            write(src.resolve("b"), 300_000, 22);
            backup(cache, src, null);
        }
        Map<String, String> second = contents(src);
        // two snapshots: 2 packs + index + snapshot each = 8 writes; fail at each of them in turn
        for (int failAt = 1; failAt <= 8; failAt++) {
            Path mainCopy = tmp.resolve("main-" + failAt);
            Path cacheCopy = tmp.resolve("cache-" + failAt);
            copyTree(main.repoDir, mainCopy);
            copyTree(cacheDir, cacheCopy);
            FaultyBackend.Fault[] plan = new FaultyBackend.Fault[failAt];
            for (int i = 0; i < failAt - 1; i++) {
                plan[i] = FaultyBackend.pass();
            }
            plan[failAt - 1] = FaultyBackend.permanent(ErrorCode.IO);
            // writer markers are writes too: let them pass by planning only object writes below
            FaultyBackend failing = new FaultyBackend(new LocalBackend(mainCopy));
            failing.plan(FaultyBackend.Op.WRITE, plan);
            Backend dataOnly = new OnlyObjectWrites(failing, new LocalBackend(mainCopy));
            CacheBackend cb = new CacheBackend(new LocalBackend(cacheCopy), cacheCopy, () -> new LocalBackend(mainCopy),
                    new SyncState(cacheCopy), 0);
            try (Repository cache = RepoFixture.open(cb)) {
                assertThatThrownBy(() -> new CacheSync(cache, dataOnly, null, "site-a", m -> { }).run())
                        .isInstanceOf(HavenException.class);
            }
            try (Repository m = RepoFixture.open(new LocalBackend(mainCopy))) {
                Checker.Result check = RepoFixture.check(m);
                assertThat(check.errors()).as("main after a sync failed at write %d", failAt).isEmpty();
                for (Repository.SnapshotEntry s : m.snapshots()) {
                    assertThat(restore(m, s, tmp, src)).isIn(first, second);
                }
            }
            CacheBackend again = new CacheBackend(new LocalBackend(cacheCopy), cacheCopy, () -> new LocalBackend(mainCopy),
                    new SyncState(cacheCopy), 0);
            try (Repository cache = RepoFixture.open(again)) {
                CacheSync.Result r = new CacheSync(cache, new LocalBackend(mainCopy), null, "site-a", m -> { }).run();
                assertThat(r.snapshotsSynced() + r.snapshotsAlreadyThere()).isEqualTo(2);
            }
            try (Repository m = RepoFixture.open(new LocalBackend(mainCopy))) {
                assertThat(RepoFixture.check(m).errors()).isEmpty();
                List<Repository.SnapshotEntry> snaps = m.snapshots();
                assertThat(snaps).hasSize(2);
                assertThat(restore(m, snaps.get(0), tmp, src)).isEqualTo(first);
                assertThat(restore(m, snaps.get(1), tmp, src)).isEqualTo(second);
            }
        }
    }

    /** Sends writes of repository objects through {@code objects}, and writer markers straight to {@code markers}. */
    private static final class OnlyObjectWrites implements Backend {
        private final Backend objects;
        private final Backend markers;

        OnlyObjectWrites(Backend objects, Backend markers) {
            this.objects = objects;
            this.markers = markers;
        }

        private Backend of(String name) {
            return name.startsWith("writers/") ? markers : objects;
        }

        @Override public String location() { return objects.location(); }
        @Override public List<String> list(String d) { return objects.list(d); }
        @Override public Optional<ObjectInfo> stat(String n) { return objects.stat(n); }
        @Override public byte[] read(String n) { return objects.read(n); }
        @Override public byte[] read(String n, long o, int l) { return objects.read(n, o, l); }
        @Override public void write(String n, byte[] d, int l) { of(n).write(n, d, l); }
        @Override public void delete(String n) { of(n).delete(n); }
        @Override public void close() { }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    @Test
    void evictionDropsOnlyDataTheMainRepositoryHoldsAndRestoresReadItFromThere() throws IOException {
        Map<String, String> first = contents(src);
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), 1)) {
            backup(cache, src, null);
            List<String> before = dataPacks(cacheDir);
            assertThat(before).hasSize(1);   // not synced: never evicted, whatever the limit
            sync(cache, new LocalBackend(main.repoDir));
            assertThat(dataPacks(cacheDir)).isEmpty();   // safe in main now: evicted to meet the limit
            assertThat(cacheDir.resolve("config")).exists();
            assertThat(new LocalBackend(cacheDir).list("tree")).isNotEmpty();   // metadata stays

            write(src.resolve("a"), 600_000, 11);
            backup(cache, src, null);
            Map<String, String> second = contents(src);
            assertThat(dataPacks(cacheDir)).hasSize(1);
            // restores: the first from main (evicted), the second from the cache (not uploaded)
            List<Repository.SnapshotEntry> snaps = cache.snapshots();
            assertThat(restore(cache, snaps.get(0), tmp, src)).isEqualTo(first);
            assertThat(restore(cache, snaps.get(1), tmp, src)).isEqualTo(second);
        }
    }

    @Test
    void dataTheCacheEvictedIsStoredAgainByANewBackupRatherThanReferenced() throws IOException {
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), 1)) {
            backup(cache, src, null);
            sync(cache, new LocalBackend(main.repoDir));
            assertThat(dataPacks(cacheDir)).isEmpty();
        }
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), 0)) {
            backup(cache, src, null);   // the same files: their blobs are only in evicted packs
            assertThat(dataPacks(cacheDir)).hasSize(1);
        }
    }

    /** Files a, b and c: 1.5 MB of data, in one data pack, in a cache limited to {@link #SMALL}. */
    private static final long SMALL = 700_000;

    private Repository smallCache(SmallDisk disk) {
        return RepoFixture.open(new CacheBackend(disk, cacheDir, () -> new LocalBackend(main.repoDir), new SyncState(cacheDir), SMALL));
    }

    /** A backup of src as the command makes it: with the newest snapshot as its parent. */
    private Archiver.Result backupOnLatest(Repository repo) {
        List<Repository.SnapshotEntry> snaps = repo.snapshots();
        BackupOptions o = new BackupOptions(List.of(src), "h", "u", 0, 0, List.of(), List.of(), false, null, 2, false, "test");
        return new Archiver(repo, o).run(snaps.isEmpty() ? null : snaps.get(snaps.size() - 1));
    }

    /** Every snapshot of the cache (opened afresh) and of the main repository restores as {@code expected}. */
    private void everySnapshotRestoresFromBoth(Map<String, String> expected, int snapshots) {
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), SMALL)) {
            assertThat(cache.snapshots()).hasSize(snapshots);
            for (Repository.SnapshotEntry s : cache.snapshots()) {
                assertThat(restore(cache, s, tmp, src)).as("cache snapshot %s", s.id().shortHex()).isEqualTo(expected);
            }
        }
        try (Repository m = main.open()) {
            assertThat(RepoFixture.check(m).errors()).isEmpty();
            assertThat(m.snapshots()).hasSize(snapshots);
            for (Repository.SnapshotEntry s : m.snapshots()) {
                assertThat(restore(m, s, tmp, src)).as("main snapshot %s", s.id().shortHex()).isEqualTo(expected);
            }
        }
    }

    @Test
    void aCacheSmallerThanItsDataGetsBackUnderItsLimitOnceSyncedAndBackupsGoOn() throws IOException {
        write(src.resolve("c"), 600_000, 3);
        Map<String, String> expected = contents(src);
        SmallDisk disk = new SmallDisk(new LocalBackend(cacheDir), Long.MAX_VALUE);
        // each step opens the cache afresh, as each command does
        try (Repository cache = smallCache(disk)) {
            backupOnLatest(cache);
        }
        try (Repository cache = smallCache(disk)) {
            sync(cache, new LocalBackend(main.repoDir));
            assertThat(((CacheBackend) cache.backend()).usedBytes()).isLessThanOrEqualTo(SMALL);   // the data pack went
        }
        try (Repository cache = smallCache(disk)) {
            // nothing changed: the blobs are only in the evicted pack, so they are read and stored again
            io.haven.repository.snapshot.Snapshot.Summary again = backupOnLatest(cache).snapshot().summary();
            assertThat(dataPacks(cacheDir)).hasSize(1);
            assertThat(again.bytesProcessed()).isEqualTo(1_500_000);
            // ... but they are not "changed": metadata and chunks came out as in the parent
            assertThat(again.filesUnmodified()).isEqualTo(3);
            assertThat(again.filesChanged()).isZero();
            assertThat(again.filesNew()).isZero();
        }
        try (Repository cache = smallCache(disk)) {
            CacheSync.Result second = sync(cache, new LocalBackend(main.repoDir));
            assertThat(second.snapshotsSynced()).isEqualTo(1);
            assertThat(second.packsUploadedForRoom()).isEqualTo(1);   // the main repository held its blobs under the old name
            assertThat(((CacheBackend) cache.backend()).usedBytes()).isLessThanOrEqualTo(SMALL);
            assertThat(dataPacks(cacheDir)).isEmpty();
        }
        // a disk with room for the limit and one copy of the data: the next backup fits
        disk.quota = SMALL + 1_600_000;
        try (Repository cache = smallCache(disk)) {
            backupOnLatest(cache);
            assertThat(cache.snapshots()).hasSize(3);
        }
        try (Repository cache = smallCache(disk)) {
            sync(cache, new LocalBackend(main.repoDir));
            assertThat(((CacheBackend) cache.backend()).usedBytes()).isLessThanOrEqualTo(SMALL);
            assertThat(new SyncState(cacheDir).packs()).containsAll(new LocalBackend(main.repoDir).list("data"));
        }
        everySnapshotRestoresFromBoth(expected, 3);
    }

    @Test
    void aPackAnEarlierSyncLeftUnevictableIsUploadedByTheNextSyncThatNeedsRoom() throws IOException {
        // a cache as a sync without a limit (or before this fix) leaves it: all synced, a pack main holds under another name
        write(src.resolve("c"), 600_000, 3);
        Map<String, String> expected = contents(src);
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), SMALL)) {
            backupOnLatest(cache);
            sync(cache, new LocalBackend(main.repoDir));
        }
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), 0)) {
            backupOnLatest(cache);
            sync(cache, new LocalBackend(main.repoDir));   // no limit: nothing needs room, nothing goes again
            assertThat(dataPacks(cacheDir)).hasSize(1);
            assertThat(new LocalBackend(main.repoDir).list("data")).hasSize(1);
        }
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), SMALL)) {
            CacheSync.Result r = sync(cache, new LocalBackend(main.repoDir));
            assertThat(r.snapshotsSynced()).isZero();
            assertThat(r.packsUploadedForRoom()).isEqualTo(1);
            assertThat(((CacheBackend) cache.backend()).usedBytes()).isLessThanOrEqualTo(SMALL);
        }
        everySnapshotRestoresFromBoth(expected, 2);
    }

    @Test
    void aSyncThatFailsAtAnyWriteWhileMakingRoomLeavesTheMainRepositoryValid() throws IOException {
        write(src.resolve("c"), 600_000, 3);
        Map<String, String> expected = contents(src);
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), SMALL)) {
            backupOnLatest(cache);
            sync(cache, new LocalBackend(main.repoDir));
        }
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), SMALL)) {
            backupOnLatest(cache);   // unchanged: stored again, not synced yet
        }
        int failAt = 1;
        for (;; failAt++) {
            assertThat(failAt).isLessThan(20);
            Path mainCopy = tmp.resolve("main-" + failAt);
            Path cacheCopy = tmp.resolve("cache-" + failAt);
            copyTree(main.repoDir, mainCopy);
            copyTree(cacheDir, cacheCopy);
            FaultyBackend.Fault[] plan = new FaultyBackend.Fault[failAt];
            for (int i = 0; i < failAt - 1; i++) {
                plan[i] = FaultyBackend.pass();
            }
            plan[failAt - 1] = FaultyBackend.permanent(ErrorCode.IO);
            FaultyBackend failing = new FaultyBackend(new LocalBackend(mainCopy));
            failing.plan(FaultyBackend.Op.WRITE, plan);
            Backend dataOnly = new OnlyObjectWrites(failing, new LocalBackend(mainCopy));
            CacheBackend cb = new CacheBackend(new LocalBackend(cacheCopy), cacheCopy, () -> new LocalBackend(mainCopy),
                    new SyncState(cacheCopy), SMALL);
            boolean failed;
            try (Repository cache = RepoFixture.open(cb)) {
                try {
                    CacheSync.Result r = new CacheSync(cache, dataOnly, null, "site-a", m -> { }).run();
                    assertThat(r.packsUploadedForRoom()).isEqualTo(1);
                    failed = false;
                } catch (HavenException e) {
                    failed = true;
                }
            }
            if (!failed) {
                assertThat(failing.injected()).isZero();
                break;
            }
            try (Repository m = RepoFixture.open(new LocalBackend(mainCopy))) {
                assertThat(RepoFixture.check(m).errors()).as("main after a sync failed at write %d", failAt).isEmpty();
                for (Repository.SnapshotEntry s : m.snapshots()) {
                    assertThat(restore(m, s, tmp, src)).isEqualTo(expected);
                }
            }
            // the cache relies on nothing the failed sync did not finish
            try (Repository cache = RepoFixture.open(new CacheBackend(new LocalBackend(cacheCopy), cacheCopy,
                    () -> new LocalBackend(mainCopy), new SyncState(cacheCopy), SMALL))) {
                for (Repository.SnapshotEntry s : cache.snapshots()) {
                    assertThat(restore(cache, s, tmp, src)).isEqualTo(expected);
                }
                new CacheSync(cache, new LocalBackend(mainCopy), null, "site-a", m -> { }).run();
                assertThat(((CacheBackend) cache.backend()).usedBytes()).as("after failing at write %d", failAt)
                        .isLessThanOrEqualTo(SMALL);
            }
            try (Repository m = RepoFixture.open(new LocalBackend(mainCopy))) {
                assertThat(RepoFixture.check(m).errors()).isEmpty();
                assertThat(m.snapshots()).hasSize(2);
                for (Repository.SnapshotEntry s : m.snapshots()) {
                    assertThat(restore(m, s, tmp, src)).isEqualTo(expected);
                }
            }
            try (Repository cache = RepoFixture.open(new CacheBackend(new LocalBackend(cacheCopy), cacheCopy,
                    () -> new LocalBackend(mainCopy), new SyncState(cacheCopy), SMALL))) {
                for (Repository.SnapshotEntry s : cache.snapshots()) {
                    assertThat(restore(cache, s, tmp, src)).isEqualTo(expected);
                }
            }
        }
        // the snapshot, then the pack uploaded to make room and its index (and before them a tree pack
        // and its index when the trees of src's ancestors changed)
        assertThat(failAt - 1).isGreaterThanOrEqualTo(3);
    }

    @Test
    void aSyncDoesNotRelyOnAPackUploadedToMakeRoomThatAPruneCondemnedAsAnOrphan() throws IOException {
        write(src.resolve("c"), 600_000, 3);
        Map<String, String> expected = contents(src);
        String again;
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), SMALL)) {
            backupOnLatest(cache);
            sync(cache, new LocalBackend(main.repoDir));
        }
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), SMALL)) {
            backupOnLatest(cache);
            again = dataPacks(cacheDir).get(0);
        }
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), 0)) {
            sync(cache, new LocalBackend(main.repoDir));   // no limit: the stored-again pack stays here only
        }
        // an interrupted sync left it in main, unindexed, and a prune there condemned it as an orphan
        new LocalBackend(main.repoDir).write(again, new LocalBackend(cacheDir).read(again));
        try (Repository m = main.open()) {
            m.saveCondemnedSet(new io.haven.repository.maintenance.CondemnedSet(1, Instant.now().toString(), "hq", List.of(),
                    List.of(again)));
        }
        try (Repository cache = openCache(() -> new LocalBackend(main.repoDir), SMALL)) {
            CacheSync.Result r = sync(cache, new LocalBackend(main.repoDir));
            assertThat(r.packsUploadedForRoom()).isZero();
            assertThat(dataPacks(cacheDir)).containsExactly(again);   // kept: still over the limit, nothing lost
            assertThat(new SyncState(cacheDir).packSafe(again)).isFalse();
        }
        everySnapshotRestoresFromBoth(expected, 2);
    }

    @Test
    void packsABackupLeftUnindexedOnAFullDiskAreRemovedByASyncWhenNoBackupIsWriting() throws IOException {
        write(src.resolve("c"), 600_000, 3);
        SmallDisk disk = new SmallDisk(new LocalBackend(cacheDir), Long.MAX_VALUE);
        try (Repository cache = smallCache(disk)) {
            backupOnLatest(cache);
        }
        try (Repository cache = smallCache(disk)) {
            sync(cache, new LocalBackend(main.repoDir));
        }
        Map<String, String> first = contents(src);
        write(src.resolve("d"), 300_000, 4);
        disk.fullFor = "index/";   // the packs fit, their index does not
        try (Repository cache = smallCache(disk)) {
            assertThatThrownBy(() -> backupOnLatest(cache)).isInstanceOfSatisfying(HavenException.class,
                    e -> assertThat(e.getMessage()).contains("full"));
        }
        disk.fullFor = "\0";
        List<String> left = dataPacks(cacheDir);
        assertThat(left).hasSize(1);   // written, never indexed: no snapshot needs it

        // while a backup writes to the cache, the pack may be one of its own: it stays
        try (Repository writing = smallCache(disk)) {
            writing.register("backup", "h2");
            try (Repository cache = smallCache(disk)) {
                CacheSync.Result r = sync(cache, new LocalBackend(main.repoDir));
                assertThat(r.unindexedPacksRemoved()).isZero();
                assertThat(dataPacks(cacheDir)).isEqualTo(left);
            }
        }
        try (Repository cache = smallCache(disk)) {
            CacheSync.Result r = sync(cache, new LocalBackend(main.repoDir));
            assertThat(r.unindexedPacksRemoved()).isEqualTo(2);   // the data pack and the tree pack
            assertThat(r.bytesUploaded()).isZero();
            assertThat(((CacheBackend) cache.backend()).usedBytes()).isLessThanOrEqualTo(SMALL);
            assertThat(RepoFixture.check(cache).errors()).isEmpty();
        }
        try (Repository cache = smallCache(disk)) {
            backupOnLatest(cache);
        }
        try (Repository cache = smallCache(disk)) {
            sync(cache, new LocalBackend(main.repoDir));
            assertThat(((CacheBackend) cache.backend()).usedBytes()).isLessThanOrEqualTo(SMALL);
        }
        Map<String, String> second = contents(src);
        try (Repository m = main.open()) {
            assertThat(RepoFixture.check(m).errors()).isEmpty();
            List<Repository.SnapshotEntry> snaps = m.snapshots();
            assertThat(snaps).hasSize(2);
            assertThat(restore(m, snaps.get(0), tmp, src)).isEqualTo(first);
            assertThat(restore(m, snaps.get(1), tmp, src)).isEqualTo(second);
        }
        try (Repository cache = smallCache(disk)) {
            List<Repository.SnapshotEntry> snaps = cache.snapshots();
            assertThat(restore(cache, snaps.get(0), tmp, src)).isEqualTo(first);
            assertThat(restore(cache, snaps.get(1), tmp, src)).isEqualTo(second);
        }
    }

    @Test
    void aSyncRefusesAMainRepositoryThatIsNotTheOneTheCacheWasMadeFor() throws IOException {
        RepoFixture other = new RepoFixture(tmp.resolve("other"));
        try (Repository cache = openCache()) {
            backup(cache, src, null);
            assertThatThrownBy(() -> sync(cache, new LocalBackend(other.repoDir)))
                    .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.getMessage()).contains("not the one this cache was made for"));
        }
        assertThat(new LocalBackend(other.repoDir).list("data")).isEmpty();
        assertThat(new LocalBackend(other.repoDir).list("snapshots")).isEmpty();
    }

    @Test
    void aSyncDoesNotRelyOnAPackThatAPruneOfTheMainRepositoryIsDeleting() throws IOException {
        try (Repository cache = openCache()) {
            backup(cache, src, null);
            // an interrupted sync left the data pack in main, unindexed; a prune condemned it as an orphan
            String pack = dataPacks(cacheDir).get(0);
            new LocalBackend(main.repoDir).write(pack, new LocalBackend(cacheDir).read(pack));
            try (Repository m = main.open()) {
                m.saveCondemnedSet(new io.haven.repository.maintenance.CondemnedSet(1, Instant.now().toString(), "hq", List.of(),
                        List.of(pack)));
            }
            assertThatThrownBy(() -> sync(cache, new LocalBackend(main.repoDir)))
                    .isInstanceOfSatisfying(HavenException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BUSY);
                        assertThat(e.getMessage()).contains("prune", pack);
                    });
            assertThat(new LocalBackend(main.repoDir).list("snapshots")).isEmpty();
            assertThat(new SyncState(cacheDir).packSafe(pack)).isFalse();
        }
    }

    /** A disk that holds at most {@code quota} bytes of objects. */
    private static final class SmallDisk implements Backend {
        private final LocalBackend disk;
        long quota;
        /** Writes of objects whose names start with this find the disk full too. */
        String fullFor = "\0";

        SmallDisk(LocalBackend disk, long quota) {
            this.disk = disk;
            this.quota = quota;
        }

        private long used() {
            long t = 0;
            for (String n : disk.list("")) {
                t += disk.stat(n).map(ObjectInfo::size).orElse(0L);
            }
            return t;
        }

        @Override public String location() { return disk.location(); }
        @Override public boolean local() { return true; }
        @Override public List<String> list(String d) { return disk.list(d); }
        @Override public Optional<ObjectInfo> stat(String n) { return disk.stat(n); }
        @Override public byte[] read(String n) { return disk.read(n); }
        @Override public byte[] read(String n, long o, int l) { return disk.read(n, o, l); }
        @Override public void write(String n, byte[] d, int l) {
            if (used() + l > quota || n.startsWith(fullFor)) {
                throw new HavenException(ErrorCode.IO, "cannot write " + n + ": No space left on device");
            }
            disk.write(n, d, l);
        }
        @Override public void delete(String n) { disk.delete(n); }
        @Override public void close() { }
    }

    @Test
    void aFullCacheDiskEvictsWhatIsSafeAndOtherwiseFailsClearlyLosingNothing() throws IOException {
        SmallDisk disk = new SmallDisk(new LocalBackend(cacheDir), Long.MAX_VALUE);
        CacheBackend cb = new CacheBackend(disk, cacheDir, () -> new LocalBackend(main.repoDir), new SyncState(cacheDir), 0);
        Map<String, String> first = contents(src);
        try (Repository cache = RepoFixture.open(cb)) {
            backup(cache, src, null);
            sync(cache, new LocalBackend(main.repoDir));
            long used = cb.usedBytes();
            disk.quota = used + 400_000;   // room for less than the next backup's data
            write(src.resolve("a"), 600_000, 31);
            backup(cache, src, null);   // fits after evicting the synced pack
            assertThat(cache.snapshots()).hasSize(2);
            assertThat(restore(cache, cache.snapshots().get(0), tmp, src)).isEqualTo(first);

            write(src.resolve("a"), 600_000, 32);
            write(src.resolve("b"), 600_000, 33);
            disk.quota = cb.usedBytes() + 100_000;   // nothing safe to evict now: the second backup is not synced
            assertThatThrownBy(() -> backup(cache, src, null))
                    .isInstanceOfSatisfying(HavenException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.IO);
                        assertThat(e.getMessage()).contains("cache", "full", "haven cache sync", "Nothing was lost");
                    });
            assertThat(cache.snapshots()).hasSize(2);
            assertThat(new Checker(cache, true, 2).run().errors()).isEmpty();
        }
    }

    @Test
    void theRateLimiterHoldsTheAverageRateWithinOneSecondsBurst() throws InterruptedException {
        long[] now = {0};
        long[] slept = {0};
        RateLimiter limiter = new RateLimiter(20L << 20, () -> now[0], n -> {
            slept[0] += n;
            now[0] += n;
        });
        long sent = 0;
        for (int i = 0; i < 300; i++) {
            int chunk = 4 << 20;   // 300 packs of 4 MiB: 60 s at 20 MiB/s
            limiter.acquire(chunk);
            sent += chunk;
        }
        double seconds = now[0] / 1e9;
        assertThat(sent / seconds / (20 << 20)).isBetween(0.99, 1.01);

        // idle time builds up at most one second of credit
        now[0] += 10_000_000_000L;
        long before = now[0];
        limiter.acquire(40L << 20);
        assertThat((now[0] - before) / 1e9).isBetween(0.99, 1.01);
    }
}
