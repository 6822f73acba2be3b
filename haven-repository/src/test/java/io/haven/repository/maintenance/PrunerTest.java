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
import io.haven.repository.Json;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.archiver.Archiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import io.haven.repository.check.Checker;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PrunerTest {
    @TempDir
    Path tmp;
    Path src;
    RepoFixture fx;

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        fx = new RepoFixture(Files.createDirectories(tmp.resolve("repo")));
    }

    private static Pruner.Result prune(Repository repo, Duration waitFor) {
        return new Pruner(repo, new Pruner.Options(0.2, false, waitFor, 2, "pruner"), m -> {}).run();
    }

    private static void forget(Repository repo, Archiver.Result r) {
        repo.backend().delete("snapshots/" + r.snapshotId().hex());
    }

    @Test
    void pruneAfterForgetFreesSpaceAndKeepsTheRestRestorable() throws Exception {
        write(src.resolve("a"), 300_000, 1);
        write(src.resolve("b"), 900_000, 2);
        write(src.resolve("c"), 300_000, 3);
        Archiver.Result first = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Files.delete(src.resolve("b"));
        write(src.resolve("d"), 200_000, 4);
        backup(fx.repoDir, src, Instant.parse("2026-01-02T00:00:00Z"));
        Map<String, String> expected = contents(src);
        long before = RepoFixture.storedBytes(fx.repoDir);
        try (Repository repo = fx.open()) {
            forget(repo, first);
            Pruner.Result r = prune(repo, Duration.ZERO);
            assertThat(r.packsRepacked()).isEqualTo(1);
            assertThat(r.packsDeleted()).isGreaterThanOrEqualTo(1);
            assertThat(r.pendingSets()).isEmpty();
            assertThat(repo.condemnedSets()).isEmpty();
        }
        assertThat(RepoFixture.storedBytes(fx.repoDir)).isLessThan(before - 800_000);
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isEmpty();
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(expected);
        }
    }

    @Test
    void aBackupThatFinishesWhilePruneStartsDoesNotStopIt() throws Exception {
        write(src.resolve("a"), 300_000, 1);
        Archiver.Result first = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Path other = Files.createDirectories(tmp.resolve("other"));
        write(other.resolve("new"), 400_000, 9);
        // a whole backup of new data lands while prune asks for the list of snapshots: with the
        // index loaded before that list, its snapshot would reach blobs the index lacks
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        io.haven.repository.backend.Backend racing = new io.haven.repository.backend.ForwardingBackend(
                new io.haven.repository.backend.LocalBackend(fx.repoDir)) {
            @Override
            public List<String> list(String directory) {
                if (directory.equals("snapshots") && once.compareAndSet(false, true)) {
                    backup(fx.repoDir, other, Instant.parse("2026-01-02T00:00:00Z"));
                }
                return super.list(directory);
            }
        };
        try (Repository repo = RepoFixture.open(racing)) {
            repo.index(); // loaded before, as a long-running process would have it
            Pruner.Result r = prune(repo, Duration.ZERO);
            assertThat(once).isTrue();
            assertThat(r.snapshots()).isEqualTo(2);
        }
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isEmpty();
            assertThat(repo.snapshots()).hasSize(2);
            assertThat(first.snapshotId()).isNotNull();
        }
    }

    @Test
    void aSecondPruneFindsNothingToDo() {
        write(src.resolve("a"), 100_000, 1);
        backup(fx.repoDir, src, null);
        try (Repository repo = fx.open()) {
            prune(repo, Duration.ZERO);
            Pruner.Result r = prune(repo, Duration.ZERO);
            assertThat(r.packsUnused() + r.packsRepacked() + r.packsDeleted()).isZero();
        }
    }

    @Test
    void deletionWaitsForAWriterThatStartedBeforeItAndEndsWithAllItsSnapshotsIntact() throws Exception {
        write(src.resolve("x"), 500_000, 7);
        Archiver.Result old = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        try (Repository writer = fx.open(); Repository pruner = fx.open()) {
            writer.register("backup", "laptop");
            writer.index(); // loads the index and knows x's chunk, before any condemned set exists
            forget(pruner, old);
            Pruner.Result r = prune(pruner, Duration.ZERO);
            assertThat(r.packsUnused()).isGreaterThanOrEqualTo(1);
            assertThat(r.pendingSets()).hasSize(1);
            assertThat(r.waitingFor()).singleElement().satisfies(b -> assertThat(b.host()).isEqualTo("laptop"));
            // the old writer still relies on x's chunk: it deduplicates against it and saves a snapshot
            Archiver.Result again = backup(writer, src, null);
            assertThat(again.snapshot().summary().bytesAdded()).isLessThan(100_000);
            writer.close();
            Pruner.Result done = prune(pruner, Duration.ZERO);
            assertThat(done.pendingSets()).isEmpty();
            assertThat(done.blobsRescued()).isGreaterThanOrEqualTo(1);
        }
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isEmpty();
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(contents(src));
        }
    }

    @Test
    void aWriterThatKnowsTheCondemnedSetStoresItsDataAgainAndDoesNotHoldDeletionBack() throws Exception {
        write(src.resolve("x"), 500_000, 7);
        Archiver.Result old = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        try (Repository blocker = fx.open(); Repository pruner = fx.open()) {
            blocker.register("backup", "slow-host");
            forget(pruner, old);
            assertThat(prune(pruner, Duration.ZERO).pendingSets()).hasSize(1);
            try (Repository writer = fx.open()) {
                Archiver.Result r = backup(writer, src, null);
                assertThat(r.snapshot().summary().bytesAdded()).isGreaterThan(400_000); // x stored again, not deduplicated
            }
            blocker.close();
            Pruner.Result done = prune(pruner, Duration.ZERO);
            assertThat(done.pendingSets()).isEmpty();
            assertThat(done.blobsRescued()).isZero();
        }
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isEmpty();
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(contents(src));
        }
    }

    @Test
    void aDeadWritersMarkerStopsCountingAfterTheStaleInterval() {
        write(src.resolve("x"), 200_000, 9);
        Archiver.Result old = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        try (Repository repo = fx.open()) {
            // a backup that was killed: its marker stays and is never refreshed again
            WriterMarker dead = new WriterMarker(1, "backup", "crashed-host", 4242, "2026-01-01T00:00:00Z",
                    "2026-01-01T00:00:00Z", List.of());
            repo.backend().write("writers/0123456789abcdef0123456789abcdef", repo.key().seal(Json.write(dead)));
            forget(repo, old);
            long t0 = System.nanoTime();
            Pruner.Result r = prune(repo, Duration.ofSeconds(30));
            assertThat(r.pendingSets()).isEmpty();
            assertThat(r.packsDeleted()).isGreaterThanOrEqualTo(1);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
        }
    }

    private String deadMarker(Repository repo, String host, Duration age) throws Exception {
        WriterMarker dead = new WriterMarker(1, "backup", host, 4242, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", List.of());
        byte[] id = new byte[16];
        new java.util.Random(host.hashCode()).nextBytes(id);
        String name = "writers/" + java.util.HexFormat.of().formatHex(id);
        repo.backend().write(name, repo.key().seal(Json.write(dead)));
        Files.setLastModifiedTime(fx.repoDir.resolve(name), java.nio.file.attribute.FileTime.from(Instant.now().minus(age)));
        return name;
    }

    @Test
    void pruneRemovesTheMarkersOfKilledProcessesOnceTheyAreStaleBeyondDoubtAndCheckWarnsAboutThem() throws Exception {
        write(src.resolve("x"), 200_000, 9);
        backup(fx.repoDir, src, null);
        try (Repository repo = fx.open()) {
            // stale-after is 2 s: the limit is the hour's floor, not 4 × 2 s
            assertThat(Repository.markerRemovalAge(Duration.ofSeconds(2))).isEqualTo(Duration.ofHours(1));
            assertThat(Repository.markerRemovalAge(Duration.ofMinutes(30))).isEqualTo(Duration.ofHours(2));
            String old1 = deadMarker(repo, "killed-1", Duration.ofHours(3));
            String old2 = deadMarker(repo, "killed-2", Duration.ofMinutes(61));
            String recent = deadMarker(repo, "killed-recently", Duration.ofMinutes(10));
            try (Repository live = fx.open()) {
                live.register("backup", "running-host");
                String liveName = live.registration().name();

                assertThat(check(repo).warnings().stream().filter(w -> w.startsWith("writer marker")).toList())
                        .satisfiesExactlyInAnyOrder(
                                w -> assertThat(w).contains(old1).contains("backup on host killed-1").contains("pid 4242")
                                        .contains("3 hours ago").contains("'haven prune' removes it"),
                                w -> assertThat(w).contains(old2).contains("killed-2").contains("61 minutes ago"));

                Pruner.Result dry = new Pruner(repo, new Pruner.Options(0.2, true, Duration.ZERO, 2, "pruner"), m -> {}).run();
                assertThat(dry.staleWriterMarkersRemoved()).isZero();
                assertThat(repo.backend().list("writers")).contains(old1, old2);

                Pruner.Result r = prune(repo, Duration.ZERO);
                assertThat(r.staleWriterMarkersRemoved()).isEqualTo(2);
                List<String> left = repo.backend().list("writers");
                assertThat(left).doesNotContain(old1, old2).contains(recent, liveName);
            }
            assertThat(check(repo).warnings()).noneSatisfy(w -> assertThat(w).startsWith("writer marker"));
            assertThat(prune(repo, Duration.ZERO).staleWriterMarkersRemoved()).isZero();
        }
    }

    @Test
    void aPruneRefusesWhileAnotherLivePruneRunsAndSaysWhichOne() {
        try (Repository other = fx.open(); Repository repo = fx.open()) {
            other.register("prune", "admin-box");
            assertThatThrownBy(() -> prune(repo, Duration.ZERO)).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.BUSY);
                assertThat(e.getMessage()).contains("admin-box").contains("pid");
            });
        }
    }

    @Test
    void pruneRefusesWhenASnapshotNeedsMissingDataAndDeletesNothing() throws Exception {
        write(src.resolve("x"), 200_000, 9);
        backup(fx.repoDir, src, null);
        try (Repository repo = fx.open()) {
            for (String idx : repo.backend().list("index")) {
                repo.backend().delete(idx);
            }
            long before = RepoFixture.storedBytes(fx.repoDir);
            assertThatThrownBy(() -> prune(repo, Duration.ZERO)).isInstanceOfSatisfying(HavenException.class,
                    e -> assertThat(e.getMessage()).contains("repair"));
            assertThat(RepoFixture.storedBytes(fx.repoDir)).isLessThanOrEqualTo(before + 4096);
            assertThat(repo.backend().list("data")).isNotEmpty();
        }
    }

    @Test
    void packsLeftByAKilledBackupAreRemoved() throws Exception {
        write(src.resolve("x"), 200_000, 9);
        backup(fx.repoDir, src, null);
        try (Repository repo = fx.open()) {
            // a writer that stored a pack and died before writing its index
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
        }
        try (Repository repo = fx.open()) {
            assertThat(check(repo).warnings()).anySatisfy(w -> assertThat(w).contains("is not in any index"));
            assertThat(prune(repo, Duration.ZERO).orphansDeleted()).isGreaterThanOrEqualTo(1);
            assertThat(check(repo).errors()).isEmpty();
            assertThat(check(repo).warnings()).isEmpty();
        }
    }

    @Test
    void aWriterThatCouldNotRefreshItsMarkerForTooLongRefusesToSaveItsSnapshot() throws Exception {
        var faulty = new io.haven.repository.backend.FaultyBackend(new io.haven.repository.backend.LocalBackend(fx.repoDir));
        try (Repository repo = RepoFixture.open(faulty)) {
            repo.staleAfter(Duration.ofSeconds(1));
            repo.register("backup", "frozen-host");
            // the store stops answering writes: heartbeats fail for longer than 80 % of stale-after
            faulty.plan(io.haven.repository.backend.FaultyBackend.Op.WRITE, java.util.Collections
                    .nCopies(10_000, io.haven.repository.backend.FaultyBackend.transientError())
                    .toArray(new io.haven.repository.backend.FaultyBackend.Fault[0]));
            Thread.sleep(1500);
            var snap = new io.haven.repository.snapshot.Snapshot(1, "2026-01-01T00:00:00Z",
                    io.haven.repository.BlobId.of(new byte[32]).hex(), List.of("/x"), "h", "u", 0, 0, List.of(), List.of(),
                    null, "t", null);
            assertThatThrownBy(() -> repo.saveSnapshot(snap)).isInstanceOfSatisfying(HavenException.class,
                    e -> assertThat(e.getMessage()).contains("could not announce itself").contains("not saved"));
            assertThat(repo.backend().list("snapshots")).isEmpty();
        }
    }

    // ------------------------------------------------------------------ readers beside a prune

    /**
     * Two snapshots; the newer shares a directory's tree ({@code sub}) and file data ({@code a},
     * {@code sub/kept}) with the older, which is forgotten: a prune then repacks the older's tree
     * and data packs (the newer's blobs go into new packs) and deletes them. Returns what the
     * newer one restores to.
     */
    private Map<String, String> twoSnapshotsTheOlderForgotten() throws Exception {
        write(src.resolve("sub/kept"), 300_000, 5);
        write(src.resolve("a"), 300_000, 1);
        write(src.resolve("b"), 900_000, 2);
        Archiver.Result first = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Files.delete(src.resolve("b"));
        write(src.resolve("d"), 200_000, 4);
        backup(fx.repoDir, src, Instant.parse("2026-01-02T00:00:00Z"));
        try (Repository repo = fx.open()) {
            forget(repo, first);
        }
        return contents(src);
    }

    /**
     * A reader's view of the repository that runs a whole prune (another process, in effect) the
     * first time the reader does {@code when}: {@code "read index/"}, {@code "read tree/"},
     * {@code "read data/"} or {@code "list data"}. {@code remote}: the backend says it is not
     * local disk (a restore then reads through PackReads). The prune's result lands in {@code pruned}.
     */
    private Repository readerWithPruneAt(String when, boolean remote, AtomicReference<Pruner.Result> pruned) {
        io.haven.repository.backend.Backend racing = new io.haven.repository.backend.ForwardingBackend(
                new io.haven.repository.backend.LocalBackend(fx.repoDir)) {
            private void maybePrune(String what) {
                if (what.startsWith(when) && pruned.get() == null) {
                    synchronized (pruned) {
                        if (pruned.get() == null) {
                            try (Repository other = fx.open()) {
                                pruned.set(prune(other, Duration.ZERO));
                            }
                        }
                    }
                }
            }

            @Override
            public boolean local() {
                return !remote && super.local();
            }

            @Override
            public List<String> list(String directory) {
                maybePrune("list " + directory);
                return super.list(directory);
            }

            @Override
            public byte[] read(String name) {
                maybePrune("read " + name);
                return super.read(name);
            }

            @Override
            public byte[] read(String name, long offset, int length) {
                maybePrune("read " + name);
                return super.read(name, offset, length);
            }
        };
        return RepoFixture.open(racing);
    }

    private static void assertThePruneMovedData(AtomicReference<Pruner.Result> pruned) {
        assertThat(pruned.get()).as("the prune ran").isNotNull();
        assertThat(pruned.get().packsRepacked()).isGreaterThanOrEqualTo(2); // the older's tree pack and data pack
        assertThat(pruned.get().packsDeleted()).isGreaterThanOrEqualTo(2);
        assertThat(pruned.get().pendingSets()).isEmpty();
    }

    @ParameterizedTest(name = "{0}, remote {1}")
    @CsvSource({"read tree/, false", "read tree/, true", "read data/, false", "read data/, true", "read index/, false"})
    void aRestoreBesideAPruneFindsTheDataWhereThePruneMovedIt(String when, boolean remote) throws Exception {
        Map<String, String> expected = twoSnapshotsTheOlderForgotten();
        AtomicReference<Pruner.Result> pruned = new AtomicReference<>();
        try (Repository reader = readerWithPruneAt(when, remote, pruned)) {
            // "read tree/" and "read data/": the prune runs after the restore loaded its index,
            // which names packs the prune deletes; "read index/": while it reads the index files
            assertThat(restore(reader, reader.resolve("latest"), tmp, src)).isEqualTo(expected);
        }
        assertThePruneMovedData(pruned);
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}, read data {1}")
    @CsvSource({"list data, false", "list data, true", "read index/, false", "read tree/, true", "read data/, true"})
    void aCheckBesideAPruneReportsNoPackThePruneDeletedAsMissing(String when, boolean readData) throws Exception {
        twoSnapshotsTheOlderForgotten();
        AtomicReference<Pruner.Result> pruned = new AtomicReference<>();
        try (Repository reader = readerWithPruneAt(when, false, pruned)) {
            Checker.Result r = new Checker(reader, readData, 2).run();
            assertThat(r.errors()).isEmpty();
            assertThat(r.snapshots()).isEqualTo(1);
            assertThat(r.warnings()).noneSatisfy(w -> assertThat(w).contains("not in any index")); // the prune's new packs
            if (when.equals("list data")) {
                assertThat(r.warnings()).anySatisfy(w -> assertThat(w).contains("deleted by a prune while check ran"));
            }
        }
        assertThePruneMovedData(pruned);
    }

    @Test
    void aPackThatIsReallyMissingIsStillAnErrorForCheckAndRestore() throws Exception {
        twoSnapshotsTheOlderForgotten();
        try (Repository repo = fx.open()) {
            prune(repo, Duration.ZERO);
            // every data pack left holds data of the snapshot that is left
            repo.backend().delete(repo.backend().list("data").get(0));
        }
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).anySatisfy(e -> assertThat(e).contains("in the index but missing"));
            assertThatThrownBy(() -> restore(repo, repo.resolve("latest"), tmp, src)).isInstanceOfSatisfying(HavenException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        }
    }
}
