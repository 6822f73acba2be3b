package io.haven.repository.maintenance;

import static io.haven.repository.maintenance.RepoFixture.backup;
import static io.haven.repository.maintenance.RepoFixture.check;
import static io.haven.repository.maintenance.RepoFixture.contents;
import static io.haven.repository.maintenance.RepoFixture.restore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.check.Checker;
import io.haven.repository.index.Index;
import io.haven.repository.index.IndexCodec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small files compressed together in groups (docs/repository-format.md §5): written by backups,
 * read by restore, verified by check, repacked by prune, and rebuilt by repair.
 */
class GroupedBlobsTest {
    @TempDir
    Path tmp;
    Path src;
    RepoFixture fx;

    @BeforeEach
    void setUp() {
        src = tmp.resolve("src");
        fx = new RepoFixture(tmp.resolve("repo"));
    }

    /** {@code n} files of 1 to 20 KB in {@code dir}, half of them compressible text. */
    private static void smallFiles(Path dir, String prefix, int n, long seed) throws IOException {
        Random r = new Random(seed);
        Files.createDirectories(dir);
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[1000 + r.nextInt(19_000)];
            if (i % 2 == 0) {
                r.nextBytes(b);
            } else {
                for (int k = 0; k < b.length; k++) {
                    b[k] = (byte) ('a' + (k * 7 + i) % 26);
                }
            }
            Files.write(dir.resolve(prefix + i), b);
        }
    }

    /** The blob ids of the files in {@code dir} whose names start with {@code prefix} (each one chunk). */
    private Set<BlobId> ids(Path dir, String prefix) throws IOException {
        Set<BlobId> out = new HashSet<>();
        try (Repository repo = fx.open(); var files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith(prefix)).toList()) {
                byte[] b = Files.readAllBytes(f);
                out.add(repo.key().blobId(b, 0, b.length));
            }
        }
        return out;
    }

    private static List<Index.Entry> entries(Repository repo) {
        Index idx = repo.index();
        List<Index.Entry> out = new java.util.ArrayList<>();
        for (int e = 0; e < idx.entryCount(); e++) {
            out.add(idx.entry(e));
        }
        return out;
    }

    private static long grouped(Repository repo) {
        return members(repo).size();
    }

    private static List<Index.Entry> members(Repository repo) {
        return entries(repo).stream().filter(Index.Entry::grouped).toList();
    }

    private static boolean isData(Repository repo, Index.Entry e) {
        return repo.index().packType(e.pack()) == io.haven.repository.BlobType.DATA;
    }

    /** Data blobs stored alone, not in a group. */
    private static long dataAlone(Repository repo) {
        return entries(repo).stream().filter(e -> !e.grouped() && isData(repo, e)).count();
    }

    /** Flips one byte of a stored object, as damage on disk would. */
    private void flipAt(String name, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(fx.repoDir.resolve(name).toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x40);
        }
    }

    @Test
    void smallFilesAreStoredInGroupsAndRestoreByteForByte() throws Exception {
        smallFiles(src, "f", 120, 1);
        RepoFixture.write(src.resolve("large"), 900_000, 2);
        Map<String, String> expected = contents(src);
        backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Set<BlobId> small = ids(src, "f");
        try (Repository repo = fx.open()) {
            List<Index.Entry> all = entries(repo);
            List<Index.Entry> members = all.stream().filter(Index.Entry::grouped).toList();
            // every small file is a member, save one left alone in a last group of one per thread
            assertThat(members.stream().filter(m -> small.contains(m.id())).count()).isBetween(118L, 120L);
            // groups of about 64 KiB: several members each
            Set<String> groups = new HashSet<>();
            for (Index.Entry m : members) {
                groups.add(m.pack() + "@" + m.offset());
                assertThat(m.member() + (long) m.rawLength()).isLessThanOrEqualTo(2 * RepositoryWriter.GROUP_TARGET);
            }
            assertThat(groups.size()).isBetween(10, 40);
            // the large file's chunks are stored alone
            assertThat(dataAlone(repo)).isPositive();
            // every member reads back through the index, and matches its id
            for (Index.Entry m : members) {
                byte[] payload = repo.loadBlob(m.id());
                assertThat(payload).hasSize(m.rawLength());
            }
            assertThat(check(repo).errors()).isEmpty();
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(expected);
        }
        // index files that name members are version 2
        try (Repository repo = fx.open()) {
            for (String name : repo.backend().list("index")) {
                byte[] plain = repo.key().open(repo.backend().read(name), name);
                assertThat(plain[4]).isEqualTo((byte) 2);
                assertThat(IndexCodec.decode(plain, name).stream().flatMap(p -> p.blobs().stream())
                        .anyMatch(io.haven.repository.index.PackRecord.Entry::grouped)).isTrue();
            }
        }
    }

    @Test
    void aRepositoryOfFormatOneStoresEveryBlobAloneAndWritesVersionOneIndexFiles() throws Exception {
        Path dir = tmp.resolve("v1");
        Repository.init(new LocalBackend(dir), RepoFixture.PASSWORD, 8192, Repository.DEFAULT_COMPRESSION_LEVEL, 1,
                new Repository.Actor("h", "u"), InstantSource.system(), new SecureRandom()).close();
        smallFiles(src, "f", 40, 3);
        Map<String, String> expected = contents(src);
        backup(dir, src, Instant.parse("2026-01-01T00:00:00Z"));
        try (Repository repo = RepoFixture.open(new LocalBackend(dir))) {
            assertThat(repo.config().version()).isEqualTo(1);
            assertThat(entries(repo)).isNotEmpty().noneMatch(Index.Entry::grouped);
            for (String name : repo.backend().list("index")) {
                assertThat(repo.key().open(repo.backend().read(name), name)[4]).isEqualTo((byte) 1);
            }
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(expected);
        }
        assertThatThrownBy(() -> Repository.init(new LocalBackend(tmp.resolve("v3")), RepoFixture.PASSWORD, 8192,
                Repository.DEFAULT_COMPRESSION_LEVEL, 3, new Repository.Actor("h", "u"), InstantSource.system(), new SecureRandom()))
                .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
    }

    @Test
    void aDamagedGroupIsReportedByCheckAndRefusedByRestoreForEachOfItsFiles() throws Exception {
        smallFiles(src, "f", 30, 4);
        backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Index.Entry victim;
        int sharing;
        try (Repository repo = fx.open()) {
            List<Index.Entry> members = members(repo);
            victim = members.get(0);
            sharing = (int) members.stream().filter(m -> m.pack() == victim.pack() && m.offset() == victim.offset()).count();
            assertThat(sharing).isGreaterThan(1);
            flipAt(repo.index().packName(victim.pack()), victim.offset() + victim.length() / 2);
        }
        try (Repository repo = fx.open()) {
            Checker.Result c = check(repo);
            assertThat(c.errors().stream().filter(e -> e.contains("in the group at offset " + victim.offset()))).hasSize(sharing);
            assertThatThrownBy(() -> repo.loadBlob(victim.id())).isInstanceOfSatisfying(HavenException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT));
            Path target = Files.createDirectories(tmp.resolve("restore"));
            assertThatThrownBy(() -> new io.haven.repository.restorer.Restorer(repo,
                    new io.haven.repository.restorer.RestoreOptions(target, null, List.of(), List.of(), false, false, 2))
                    .run(repo.resolve("latest"))).isInstanceOf(HavenException.class);
        }
    }

    @Test
    void pruneRepacksAPartlyUsedGroupKeepingOnlyTheMembersStillNeeded() throws Exception {
        smallFiles(src, "f", 60, 5);
        Archiver.Result first = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Set<BlobId> gone = new HashSet<>();
        try (Repository repo = fx.open()) {
            for (int i = 0; i < 60; i += 3) {
                Path f = src.resolve("f" + i);
                gone.add(repo.key().blobId(Files.readAllBytes(f), 0, (int) Files.size(f)));
                Files.delete(f);
            }
        }
        Map<String, String> expected = contents(src);
        backup(fx.repoDir, src, Instant.parse("2026-01-02T00:00:00Z"));
        try (Repository repo = fx.open()) {
            repo.backend().delete("snapshots/" + first.snapshotId().hex());
            Pruner.Result r = new Pruner(repo, new Pruner.Options(0.2, false, Duration.ZERO, 2, "pruner"), m -> {}).run();
            assertThat(r.packsRepacked()).isEqualTo(1);
        }
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isEmpty();
            List<Index.Entry> all = entries(repo);
            assertThat(all).noneMatch(e -> gone.contains(e.id()));
            // the 40 files left are all there, grouped again (a last group of one is stored alone)
            assertThat(all.stream().filter(e -> isData(repo, e))
                    .map(Index.Entry::id)).containsExactlyInAnyOrderElementsOf(ids(src, "f"));
            assertThat(all.stream().filter(Index.Entry::grouped).count()).isBetween(39L, 40L);
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(expected);
        }
    }

    @Test
    void pruneRescuesMembersThatAWriterWhichStartedBeforeItStillNeeded() throws Exception {
        smallFiles(src, "f", 30, 8);
        Archiver.Result old = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Pruner.Options options = new Pruner.Options(0.2, false, Duration.ZERO, 2, "pruner");
        try (Repository writer = fx.open(); Repository pruner = fx.open()) {
            writer.register("backup", "laptop");
            writer.index(); // knows the members before any condemned set exists
            pruner.backend().delete("snapshots/" + old.snapshotId().hex());
            Pruner.Result r = new Pruner(pruner, options, m -> {}).run();
            assertThat(r.pendingSets()).hasSize(1);
            // the old writer deduplicates against the condemned members and saves a snapshot
            Archiver.Result again = backup(writer, src, null);
            assertThat(again.snapshot().summary().bytesAdded()).isLessThan(20_000);
            writer.close();
            Pruner.Result done = new Pruner(pruner, options, m -> {}).run();
            assertThat(done.pendingSets()).isEmpty();
            assertThat(done.blobsRescued()).isGreaterThanOrEqualTo(30); // the 30 files and the unchanged trees
        }
        try (Repository repo = fx.open()) {
            assertThat(check(repo).errors()).isEmpty();
            // rescued by payload, and grouped again
            assertThat(grouped(repo)).isGreaterThanOrEqualTo(29);
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(contents(src));
        }
    }

    @Test
    void repairIndexRebuildsMembersFromPackHeaders() throws Exception {
        smallFiles(src, "f", 50, 6);
        Map<String, String> expected = contents(src);
        backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Set<Index.Entry> before;
        try (Repository repo = fx.open()) {
            before = IndexCopyTest.entries(repo.index());
            for (String name : repo.backend().list("index")) {
                repo.backend().delete(name);
            }
        }
        try (Repository repo = fx.open()) {
            new Repairer(repo, "h", 2, m -> {}).rebuildIndex();
        }
        try (Repository repo = fx.open()) {
            assertThat(IndexCopyTest.entries(repo.index())).isEqualTo(before);
            assertThat(grouped(repo)).isGreaterThanOrEqualTo(48);
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(expected);
        }
    }

    @Test
    void repairIndexWithReadDataSealsTheGoodMembersOfADamagedPackAlone() throws Exception {
        smallFiles(src, "f", 50, 7);
        backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        Index.Entry victim;
        long intact;
        long aloneBefore;
        try (Repository repo = fx.open()) {
            aloneBefore = dataAlone(repo);
            List<Index.Entry> members = members(repo);
            victim = members.get(members.size() / 2);
            intact = members.stream().filter(m -> m.pack() == victim.pack() && m.offset() != victim.offset()).count();
            assertThat(intact).isPositive();
            flipAt(repo.index().packName(victim.pack()), victim.offset() + victim.length() / 2);
        }
        try (Repository repo = fx.open()) {
            new Repairer(repo, "h", 2, m -> {}).rebuildIndex(true);
        }
        try (Repository repo = fx.open()) {
            repo.reloadIndex();
            List<Index.Entry> all = entries(repo);
            // the damaged group's members are gone; the pack's other members were copied, each alone
            assertThat(all).noneMatch(e -> e.id().equals(victim.id()));
            // blobs stored alone before were copied alone; the other groups' members join them
            assertThat(dataAlone(repo)).isEqualTo(aloneBefore + intact);
            for (Index.Entry e : all) {
                if (isData(repo, e)) {
                    assertThat(repo.loadBlob(e.id())).hasSize(e.rawLength());
                }
            }
        }
    }
}
