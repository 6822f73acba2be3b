package io.haven.repository.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.index.Index;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local copy of the index ({@code Repository.indexCache}): written after a backup, used
 * by the next command instead of the index files it names, completed with index files written
 * since, and dropped when a file it names is gone.
 */
class IndexCopyTest {
    @TempDir
    Path tmp;

    private Path tree(String name, int files, long seed) {
        Path src = tmp.resolve(name);
        for (int f = 0; f < files; f++) {
            RepoFixture.write(src.resolve("d" + f % 7).resolve("f" + f), 200 + 31 * f, seed + f);
        }
        return src;
    }

    private Repository open(RepoFixture fx, Path copy) {
        Repository repo = fx.open();
        if (copy != null) {
            repo.indexCache(copy);
        }
        return repo;
    }

    /** Every entry of the index loaded from the repository's own files, for comparison. */
    static Set<Index.Entry> entries(Index idx) {
        Set<Index.Entry> out = new HashSet<>();
        for (int e = 0; e < idx.entryCount(); e++) {
            Index.Entry x = idx.entry(e);
            // entry numbers and pack numbers depend on the order files were read in
            out.add(new Index.Entry(0, x.id(), 0, x.offset(), x.length(), x.rawLength(), x.member()));
        }
        return out;
    }

    private static Set<String> indexFiles(Path repoDir) throws Exception {
        try (var s = Files.list(repoDir.resolve("index"))) {
            return new HashSet<>(s.map(p -> "index/" + p.getFileName()).toList());
        }
    }

    @Test
    void theNextCommandUsesTheCopyAndAddsIndexFilesWrittenSince() throws Exception {
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        Path copy = tmp.resolve("cache/index-copy");
        Archiver.Result first;
        try (Repository repo = open(fx, copy)) {
            first = RepoFixture.backup(repo, tree("a", 60, 1), Instant.parse("2026-01-01T00:00:00Z"));
        }
        assertThat(copy).isRegularFile();
        Set<String> named = indexFiles(fx.repoDir);

        // another process (no copy) adds a backup and its index file
        Archiver.Result second;
        try (Repository repo = open(fx, null)) {
            second = RepoFixture.backup(repo, tree("b", 40, 1000), Instant.parse("2026-01-02T00:00:00Z"));
        }
        Set<String> later = indexFiles(fx.repoDir);
        later.removeAll(named);
        assertThat(later).isNotEmpty();

        // the files the copy names are damaged now: only a command that uses the copy can load
        for (String name : named) {
            Path f = fx.repoDir.resolve(name);
            byte[] b = Files.readAllBytes(f);
            b[b.length / 2] ^= 1;
            Files.write(f, b);
        }
        try (Repository repo = open(fx, copy)) {
            Index idx = repo.index();
            for (String snap : List.of(first.snapshotId().hex(), second.snapshotId().hex())) {
                Repository.SnapshotEntry s = repo.resolve(snap);
                assertThat(idx.contains(BlobId.parse(s.snapshot().tree()))).isTrue();
            }
            assertThat(RepoFixture.restore(repo, repo.resolve(second.snapshotId().hex()), tmp, tmp.resolve("b")))
                    .isEqualTo(RepoFixture.contents(tmp.resolve("b")));
        }
        try (Repository repo = open(fx, null)) {
            assertThat(org.assertj.core.api.Assertions.catchThrowable(repo::index)).as("without the copy the damage shows")
                    .hasMessageContaining("does not match its hash");
        }
    }

    @Test
    void theCopyHoldsWhatTheIndexFilesHold() throws Exception {
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        Path copy = tmp.resolve("cache/index-copy");
        try (Repository repo = open(fx, copy)) {
            RepoFixture.backup(repo, tree("a", 80, 1), Instant.parse("2026-01-01T00:00:00Z"));
            RepoFixture.backup(repo, tree("b", 30, 500), Instant.parse("2026-01-02T00:00:00Z"));
        }
        try (Repository cached = open(fx, copy); Repository plain = open(fx, null)) {
            assertThat(entries(cached.index())).isEqualTo(entries(plain.index())).isNotEmpty();
            assertThat(cached.index().packIds()).containsExactlyInAnyOrderElementsOf(plain.index().packIds());
        }
    }

    @Test
    void aCopyThatNamesAFileNoLongerListedIsDropped() throws Exception {
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        Path copy = tmp.resolve("cache/index-copy");
        Archiver.Result gone;
        try (Repository repo = open(fx, copy)) {
            RepoFixture.backup(repo, tree("a", 50, 1), Instant.parse("2026-01-01T00:00:00Z"));
            Set<String> before = indexFiles(fx.repoDir);
            gone = RepoFixture.backup(repo, tree("b", 50, 777), Instant.parse("2026-01-02T00:00:00Z"));
            Set<String> added = indexFiles(fx.repoDir);
            added.removeAll(before);
            // as a prune that rewrote the index would: the second backup's index file disappears
            for (String name : added) {
                Files.delete(fx.repoDir.resolve(name));
            }
        }
        try (Repository repo = open(fx, copy)) {
            BlobId tree = BlobId.parse(repo.resolve(gone.snapshotId().hex()).snapshot().tree());
            assertThat(repo.index().contains(tree)).as("the copy still names the deleted file: not used").isFalse();
        }
    }

    @Test
    void noCopyIsWrittenWhileAnotherWriterOfTheProcessIsOpen() throws Exception {
        RepoFixture fx = new RepoFixture(tmp.resolve("repo"));
        Path copy = tmp.resolve("cache/index-copy");
        try (Repository repo = open(fx, copy)) {
            RepoFixture.backup(repo, tree("a", 20, 1), Instant.parse("2026-01-01T00:00:00Z"));
            byte[] before = Files.readAllBytes(copy);
            RepositoryWriter other = repo.newWriter();
            try {
                byte[] payload = "a blob of the other writer".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                other.save(BlobType.DATA, repo.key().blobId(payload, 0, payload.length), payload, 0, payload.length);
                RepositoryWriter mine = repo.newWriter();
                try {
                    byte[] p2 = "a blob of this writer".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    mine.save(BlobType.DATA, repo.key().blobId(p2, 0, p2.length), p2, 0, p2.length);
                    mine.flush();
                    repo.saveIndexCache();
                } finally {
                    mine.close();
                }
                assertThat(Files.readAllBytes(copy)).as("two writers were open: the copy is left as it was").isEqualTo(before);
                other.flush();
                repo.saveIndexCache();
                assertThat(Files.readAllBytes(copy)).as("the last writer: the copy is updated").isNotEqualTo(before);
            } finally {
                other.close();
            }
        }
        try (Repository cached = open(fx, copy); Repository plain = open(fx, null)) {
            assertThat(entries(cached.index())).isEqualTo(entries(plain.index()));
        }
    }
}
