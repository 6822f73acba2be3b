package io.haven.repository.restorer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.Repository;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.fs.FileNames;
import io.haven.repository.fs.FileStat;
import io.haven.repository.fs.Xattrs;
import io.haven.repository.index.Index;
import io.haven.repository.maintenance.RepoFixture;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sync restore: a target restored from snapshot 1 is brought to snapshot 2 by changing only
 * what differs, and then equals a fresh restore of snapshot 2 in every attribute.
 */
class SyncRestoreTest {
    private static final Instant T = Instant.parse("2021-05-06T07:08:09.123456789Z");
    private static final byte[] LATIN1 = {'c', 'a', 'f', (byte) 0xe9};
    private static final byte[] ODD = {(byte) 0xff, 'n'};
    private static final boolean ROOT = isRoot();

    @TempDir
    Path tmp;

    private Path src;
    private RepoFixture fixture;
    private Repository.SnapshotEntry snap1;
    private Repository.SnapshotEntry snap2;

    /** Files of snapshot 2 whose content the sync keeps. */
    private static final List<String> KEPT = List.of("keep.txt", "big.bin", "perms.txt", "xattr.txt", "hard-a", "pair-x",
            "keep-a", "keep-b", "ro-dir/same.txt", "sparse.img", "caf\\xe9", "owned.txt");
    /** Files of snapshot 2 the sync writes (or links). */
    private static final List<String> WRITTEN = List.of("same-size.txt", "hard-b", "pair-y", "new.txt", "becomes-file",
            "file-becomes-dir/inner.txt", "sym-to-file", "ro-dir/changed.txt", "ro-dir/new-in-ro.txt", "sparse2.img", "\\xffn");

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        fixture = new RepoFixture(tmp.resolve("repo"));
        buildSnapshot1();
        snap1 = backup(Instant.parse("2026-01-01T00:00:00Z"));
        changeToSnapshot2();
        snap2 = backup(Instant.parse("2026-01-02T00:00:00Z"));
    }

    // ------------------------------------------------------------------ the trees

    private void buildSnapshot1() throws Exception {
        RepoFixture.write(src.resolve("keep.txt"), 20_000, 1);
        RepoFixture.write(src.resolve("big.bin"), 600_000, 2);
        RepoFixture.write(src.resolve("same-size.txt"), 5_000, 3);
        RepoFixture.write(src.resolve("perms.txt"), 3_000, 4);
        Files.setAttribute(src.resolve("perms.txt"), "unix:mode", 0644);
        RepoFixture.write(src.resolve("xattr.txt"), 3_000, 5);
        xattrs(src.resolve("xattr.txt")).write("one", ByteBuffer.wrap(new byte[] {1}));
        RepoFixture.write(src.resolve("deleted.txt"), 1_000, 6);
        RepoFixture.write(src.resolve("hard-a"), 4_000, 7);
        Files.createLink(src.resolve("hard-b"), src.resolve("hard-a"));
        RepoFixture.write(src.resolve("keep-a"), 4_000, 8);
        Files.createLink(src.resolve("keep-b"), src.resolve("keep-a"));
        RepoFixture.write(src.resolve("pair-x"), 4_000, 9);
        Files.copy(src.resolve("pair-x"), src.resolve("pair-y"));
        RepoFixture.write(src.resolve("gone-dir/a.txt"), 1_000, 10);
        RepoFixture.write(src.resolve("gone-dir/sub/b.txt"), 1_000, 11);
        Files.setAttribute(src.resolve("gone-dir/sub"), "unix:mode", 0500);
        RepoFixture.write(src.resolve("becomes-file/x.txt"), 1_000, 12);
        RepoFixture.write(src.resolve("file-becomes-dir"), 1_000, 13);
        Files.createSymbolicLink(src.resolve("link"), Path.of("keep.txt"));
        Files.createSymbolicLink(src.resolve("sym-to-file"), Path.of("keep.txt"));
        RepoFixture.write(src.resolve("ro-dir/changed.txt"), 2_000, 14);
        RepoFixture.write(src.resolve("ro-dir/old.txt"), 1_000, 15);
        RepoFixture.write(src.resolve("ro-dir/same.txt"), 1_000, 16);
        sparse(src.resolve("sparse.img"), 17);
        sparse(src.resolve("sparse2.img"), 18);
        RepoFixture.write(FileNames.resolve(src, LATIN1), 1_000, 19);
        sh("mkfifo", src.resolve("fifo").toString());
        RepoFixture.write(src.resolve("owned.txt"), 1_000, 20);
        // distinct nanosecond times on every file (hard links share theirs)
        int i = 0;
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                setTime(p, 10 * i++);
            }
        }
        setTime(src.resolve("pair-y"), 1);
        setTime(src.resolve("pair-x"), 1);
        Files.setAttribute(src.resolve("ro-dir"), "unix:mode", 0555);
    }

    private void changeToSnapshot2() throws Exception {
        // same size, other content, other time
        RepoFixture.write(src.resolve("same-size.txt"), 5_000, 30);
        setTime(src.resolve("same-size.txt"), 1000);
        // metadata only
        Files.setAttribute(src.resolve("perms.txt"), "unix:mode", 0600);
        xattrs(src.resolve("xattr.txt")).delete("one");
        xattrs(src.resolve("xattr.txt")).write("two", ByteBuffer.wrap(new byte[] {2, 2}));
        if (ROOT) {
            Files.setAttribute(src.resolve("owned.txt"), "unix:uid", 1234);
            Files.setAttribute(src.resolve("owned.txt"), "unix:gid", 5678);
        }
        Files.delete(src.resolve("deleted.txt"));
        // a hard-link pair split (hard-b gets its own content), another formed
        Files.delete(src.resolve("hard-b"));
        RepoFixture.write(src.resolve("hard-b"), 4_000, 31);
        Files.delete(src.resolve("pair-y"));
        Files.createLink(src.resolve("pair-y"), src.resolve("pair-x"));
        // a tree removed (with a read-only directory in it), a directory replaced by a file and back
        Files.setAttribute(src.resolve("gone-dir/sub"), "unix:mode", 0700);
        deleteTree(src.resolve("gone-dir"));
        deleteTree(src.resolve("becomes-file"));
        RepoFixture.write(src.resolve("becomes-file"), 1_000, 32);
        Files.delete(src.resolve("file-becomes-dir"));
        RepoFixture.write(src.resolve("file-becomes-dir/inner.txt"), 1_000, 33);
        // a symlink retargeted, another replaced by a file
        Files.delete(src.resolve("link"));
        Files.createSymbolicLink(src.resolve("link"), Path.of("big.bin"));
        Files.delete(src.resolve("sym-to-file"));
        RepoFixture.write(src.resolve("sym-to-file"), 1_000, 34);
        // inside a read-only directory: changed, deleted, added
        Files.setAttribute(src.resolve("ro-dir"), "unix:mode", 0755);
        RepoFixture.write(src.resolve("ro-dir/changed.txt"), 2_000, 35);
        Files.delete(src.resolve("ro-dir/old.txt"));
        RepoFixture.write(src.resolve("ro-dir/new-in-ro.txt"), 1_000, 36);
        Files.setAttribute(src.resolve("ro-dir"), "unix:mode", 0555);
        // a sparse file changed in place
        try (FileChannel ch = FileChannel.open(src.resolve("sparse2.img"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(random(4096, 37)), (8L << 20) - 4096);
        }
        RepoFixture.write(src.resolve("new.txt"), 1_000, 38);
        RepoFixture.write(FileNames.resolve(src, ODD), 1_000, 39);
    }

    private static void sparse(Path p, long seed) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(random(4096, seed)), 4L << 20);
            ch.write(ByteBuffer.wrap(random(4096, seed + 100)), (8L << 20) - 4096);
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void setTime(Path p, int i) throws IOException {
        FileTime t = FileTime.from(T.plusSeconds(i).plusNanos(i));
        Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(t, null, null);
    }

    private static UserDefinedFileAttributeView xattrs(Path p) {
        return Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out);
        }
    }

    private Repository.SnapshotEntry backup(Instant time) {
        try (Repository repo = fixture.open()) {
            Archiver.Result r = RepoFixture.backup(repo, src, time);
            return new Repository.SnapshotEntry(r.snapshotId(), r.snapshot());
        }
    }

    // ------------------------------------------------------------------ restoring

    private RestoreOptions full(Path target) {
        return new RestoreOptions(target, src.toString(), List.of(), List.of(), false, false, 2);
    }

    private RestoreOptions sync(Path target, boolean verify, boolean dryRun) {
        return new RestoreOptions(target, src.toString(), List.of(), List.of(), dryRun, false, 2, true, verify);
    }

    private Restorer.Result restore(Repository.SnapshotEntry snap, RestoreOptions options) {
        try (Repository repo = fixture.open()) {
            return new Restorer(repo, options).run(snap);
        }
    }

    /** Restores with a fresh repository whose pack reads are recorded. */
    private Restorer.Result restore(Repository.SnapshotEntry snap, RestoreOptions options, RecordingBackend backend) {
        try (Repository repo = RepoFixture.open(backend)) {
            return new Restorer(repo, options).run(snap);
        }
    }

    private Path fresh(Repository.SnapshotEntry snap) {
        Path target = tmp.resolve("fresh-" + snap.id().shortHex());
        if (!Files.exists(target)) {
            restore(snap, full(target));
        }
        return target;
    }

    private static Path at(Path dir, String rel) {
        Path p = dir;
        for (String part : rel.split("/")) {
            p = part.equals("caf\\xe9") ? FileNames.resolve(p, LATIN1) : part.equals("\\xffn") ? FileNames.resolve(p, ODD) : p.resolve(part);
        }
        return p;
    }

    @SafeVarargs
    private static List<FileChannel> hold(Path dir, List<String>... rels) throws IOException {
        List<FileChannel> out = new ArrayList<>();
        for (List<String> list : rels) {
            for (String r : list) {
                out.add(FileChannel.open(at(dir, r), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
            }
        }
        return out;
    }

    private static Map<String, Long> inodes(Path dir, List<String> rels) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        for (String r : rels) {
            out.put(r, FileStat.of(at(dir, r)).ino());
        }
        return out;
    }

    /** Snapshot 2's file nodes below src, by relative path (names displayed). */
    private Map<String, Node> files(Repository repo, Repository.SnapshotEntry snap) {
        Tree t = repo.loadTree(BlobId.parse(snap.snapshot().tree()));
        for (Path part : src) {
            t = repo.loadTree(t.find(FileNames.bytes(part)).subtree());
        }
        Map<String, Node> out = new TreeMap<>();
        collect(repo, t, "", out);
        return out;
    }

    private static void collect(Repository repo, Tree t, String dir, Map<String, Node> out) {
        for (Node n : t.nodes()) {
            String rel = dir + n.displayName();
            if (n.type() == NodeType.DIR) {
                collect(repo, repo.loadTree(n.subtree()), rel + "/", out);
            } else if (n.type() == NodeType.FILE) {
                out.put(rel, n);
            }
        }
    }

    // ------------------------------------------------------------------ tests

    @Test
    void syncBringsATargetFromSnapshot1ToSnapshot2ChangingOnlyWhatDiffers() throws Exception {
        Path dr = tmp.resolve("dr");
        restore(snap1, full(dr));
        Map<String, Long> before = inodes(dr, KEPT);
        FileStat fifo = FileStat.of(dr.resolve("fifo"));
        List<String> rewritten = List.of("same-size.txt", "hard-b", "pair-y", "ro-dir/changed.txt", "sparse2.img");
        Map<String, Long> rewrittenBefore = inodes(dr, rewritten);

        RecordingBackend backend = new RecordingBackend(new LocalBackend(tmp.resolve("repo")));
        Restorer.Result r;
        // held open, a replaced file keeps its inode number: equal numbers mean the same file
        List<FileChannel> held = hold(dr, KEPT, rewritten);
        try {
            r = restore(snap2, sync(dr, false, false), backend);
        } finally {
            for (FileChannel ch : held) {
                ch.close();
            }
        }

        assertThat(TreeComparison.differences(fresh(snap2), dr)).as("differences from a fresh restore of snapshot 2").isEmpty();
        // kept files were not rewritten: same inodes; the others were
        assertThat(inodes(dr, KEPT)).isEqualTo(before);
        assertThat(FileStat.of(dr.resolve("fifo"))).as("the FIFO, untouched").isEqualTo(fifo);
        Map<String, Long> rewrittenAfter = inodes(dr, List.copyOf(rewrittenBefore.keySet()));
        for (String rel : rewrittenBefore.keySet()) {
            assertThat(rewrittenAfter.get(rel)).as(rel + " rewritten").isNotEqualTo(rewrittenBefore.get(rel));
        }
        assertThat(r.filesKept()).isEqualTo(KEPT.size());
        assertThat(r.filesWritten()).isEqualTo(WRITTEN.size());
        assertThat(r.files()).isEqualTo(KEPT.size() + WRITTEN.size());
        assertThat(r.hardlinks()).as("pair-y linked to the kept pair-x").isEqualTo(1);
        // deleted.txt, gone-dir (4 entries), becomes-file/ (2), the file file-becomes-dir, the symlink sym-to-file, ro-dir/old.txt
        assertThat(r.deleted()).isEqualTo(10);
        // perms.txt, xattr.txt, owned.txt (as root) and the directories whose times moved
        assertThat(r.metadataUpdated()).isGreaterThanOrEqualTo(ROOT ? 3 : 2);
        // a rewritten sparse file keeps its holes
        long blocks = Long.parseLong(new String(new ProcessBuilder("stat", "-c", "%b", dr.resolve("sparse2.img").toString())
                .start().getInputStream().readAllBytes()).trim());
        assertThat(blocks * 512).isLessThan(1 << 20);

        // only the data of the written files was read
        try (Repository repo = fixture.open()) {
            Map<String, Node> nodes = files(repo, snap2);
            Set<BlobId> written = new HashSet<>();
            Set<BlobId> kept = new HashSet<>();
            for (String rel : WRITTEN) {
                if (!rel.equals("pair-y")) {
                    // linked to the kept pair-x: nothing read
                    written.addAll(nodes.get(rel).content());
                }
            }
            for (String rel : KEPT) {
                kept.addAll(nodes.get(rel).content());
            }
            kept.removeAll(written);
            assertThat(kept).isNotEmpty();
            List<RecordingBackend.Read> reads = backend.readsUnder(BlobType.DATA.directory());
            Index index = repo.index();
            for (BlobId id : kept) {
                Index.Location loc = index.lookup(id);
                assertThat(reads).as("no read of kept chunk " + id.shortHex())
                        .noneMatch(rd -> rd.covers(loc.packName(), loc.offset()));
            }
            for (BlobId id : written) {
                Index.Location loc = index.lookup(id);
                assertThat(reads).as("chunk " + id.shortHex() + " of a written file read")
                        .anyMatch(rd -> rd.covers(loc.packName(), loc.offset()));
            }
            long writtenBytes = 0;
            for (String rel : WRITTEN) {
                if (!rel.equals("pair-y")) {
                    writtenBytes += nodes.get(rel).size();
                }
            }
            assertThat(r.bytesWritten()).isEqualTo(writtenBytes);
        }

        // a second sync finds nothing to do
        RecordingBackend again = new RecordingBackend(new LocalBackend(tmp.resolve("repo")));
        Restorer.Result second = restore(snap2, sync(dr, false, false), again);
        assertThat(second.filesWritten()).isZero();
        assertThat(second.deleted()).isZero();
        assertThat(second.metadataUpdated()).isZero();
        assertThat(second.filesKept()).isEqualTo(second.files());
        assertThat(again.readsUnder(BlobType.DATA.directory())).isEmpty();
        assertThat(TreeComparison.differences(fresh(snap2), dr)).isEmpty();
    }

    @Test
    void aDryRunListsTheChangesAndChangesNothing() throws Exception {
        Path dr = tmp.resolve("dr");
        restore(snap1, full(dr));
        Map<String, Object> before = state(dr);

        Restorer.Result dry = restore(snap2, sync(dr, false, true));
        Restorer.Result dryVerify = restore(snap2, sync(dr, true, true));

        assertThat(state(dr)).as("the target after dry runs").isEqualTo(before);
        List<String> lines = dry.changes().stream().map(c -> c.kind() + " " + dr.relativize(Path.of(c.path()))
                + (c.path().endsWith("/") ? "/" : "")).toList();
        assertThat(lines).contains("- deleted.txt", "- gone-dir/", "- becomes-file/", "- file-becomes-dir", "- sym-to-file",
                "- ro-dir/old.txt", "+ new.txt", "+ same-size.txt", "+ hard-b", "+ pair-y", "+ link", "+ becomes-file",
                "+ file-becomes-dir/", "+ file-becomes-dir/inner.txt", "+ ro-dir/changed.txt", "M perms.txt", "M xattr.txt");
        assertThat(lines).doesNotContain("+ keep.txt", "M keep.txt", "+ big.bin", "+ pair-x", "+ fifo");
        assertThat(dryVerify.filesWritten()).isEqualTo(dry.filesWritten());

        Restorer.Result real = restore(snap2, sync(dr, false, false));
        assertThat(real.changes()).isEmpty();
        assertThat(List.of(real.filesWritten(), real.filesKept(), real.deleted(), real.bytesWritten(), real.metadataUpdated()))
                .isEqualTo(List.of(dry.filesWritten(), dry.filesKept(), dry.deleted(), dry.bytesWritten(), dry.metadataUpdated()));
        assertThat(dry.changes().stream().filter(c -> c.kind() == 'M').count()).isEqualTo(dry.metadataUpdated());
        assertThat(TreeComparison.differences(fresh(snap2), dr)).isEmpty();
    }

    /** Every entry's full lstat (inode, ctime included), extended attributes and content hash. */
    private static Map<String, Object> state(Path dir) throws IOException {
        Map<String, Object> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                FileStat st = FileStat.of(p);
                List<Object> v = new ArrayList<>(List.of(st));
                if (st.type() == NodeType.FILE) {
                    v.add(java.util.Arrays.hashCode(Files.readAllBytes(p)));
                }
                if (st.type() == NodeType.FILE || st.type() == NodeType.DIR) {
                    v.add(Xattrs.read(p));
                }
                out.put(dir.relativize(p).toString(), v);
            }
        }
        return out;
    }

    @Test
    void anEditWithTheSameSizeAndTimeIsFixedOnlyWhenVerifying() throws Exception {
        Path dr = tmp.resolve("dr");
        restore(snap2, full(dr));
        Path keep = dr.resolve("keep.txt");
        FileTime mtime = Files.getLastModifiedTime(keep);
        byte[] edited = Files.readAllBytes(keep);
        edited[100] ^= 1;
        Files.write(keep, edited);
        Files.setLastModifiedTime(keep, mtime);

        Restorer.Result trusting = restore(snap2, sync(dr, false, false));
        assertThat(trusting.filesWritten()).isZero();
        assertThat(Files.mismatch(keep, src.resolve("keep.txt"))).as("not noticed without --verify").isEqualTo(100);

        // same content, time touched: kept with --verify, only its time is set back
        Path big = dr.resolve("big.bin");
        long bigInode = FileStat.of(big).ino();
        Files.setLastModifiedTime(big, FileTime.from(Instant.parse("2030-01-01T00:00:00Z")));
        long keepInode = FileStat.of(keep).ino();
        RecordingBackend backend = new RecordingBackend(new LocalBackend(tmp.resolve("repo")));
        Restorer.Result verifying;
        try (FileChannel a = FileChannel.open(keep); FileChannel b = FileChannel.open(big)) {
            verifying = restore(snap2, sync(dr, true, false), backend);
        }

        assertThat(verifying.filesWritten()).isEqualTo(1);
        assertThat(verifying.metadataUpdated()).isGreaterThanOrEqualTo(1);
        assertThat(FileStat.of(keep).ino()).isNotEqualTo(keepInode);
        assertThat(FileStat.of(big).ino()).isEqualTo(bigInode);
        assertThat(TreeComparison.differences(fresh(snap2), dr)).isEmpty();
        try (Repository repo = fixture.open()) {
            Set<String> packs = new HashSet<>();
            for (BlobId id : files(repo, snap2).get("keep.txt").content()) {
                packs.add(repo.index().lookup(id).packName());
            }
            assertThat(backend.readsUnder(BlobType.DATA.directory())).hasSize(files(repo, snap2).get("keep.txt").content().size())
                    .allMatch(rd -> packs.contains(rd.name()));
        }
    }

    @Test
    void syncWithFiltersIsRefused() {
        Path dr = tmp.resolve("dr");
        assertThatThrownBy(() -> new RestoreOptions(dr, "/", List.of("*.txt"), List.of(), false, false, 2, true, false))
                .isInstanceOfSatisfying(HavenException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
                    assertThat(e.getMessage()).contains("--include or --exclude");
                });
        assertThatThrownBy(() -> new RestoreOptions(dr, "/", List.of(), List.of("tmp"), false, false, 2).withSync(false))
                .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
        assertThatThrownBy(() -> new RestoreOptions(dr, "/", List.of(), List.of(), false, false, 2, false, true))
                .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.getMessage()).contains("--sync"));
        assertThat(Files.exists(dr)).isFalse();
    }

    @Test
    void symlinksInTheTargetAreDeletedAsLinksNeverFollowed() throws Exception {
        Path dr = tmp.resolve("dr");
        restore(snap2, full(dr));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        RepoFixture.write(outside.resolve("o.txt"), 1_000, 99);
        RepoFixture.write(outside.resolve("deep/p.txt"), 1_000, 98);
        Files.setAttribute(outside.resolve("o.txt"), "unix:mode", 0640);
        Map<String, Object> outsideBefore = state(outside);
        // not in the snapshot: links to a directory and a file outside
        Files.createSymbolicLink(dr.resolve("evil-dir"), outside);
        Files.setAttribute(dr.resolve("ro-dir"), "unix:mode", 0755);
        Files.createSymbolicLink(dr.resolve("ro-dir/evil-file"), outside.resolve("o.txt"));
        Files.setAttribute(dr.resolve("ro-dir"), "unix:mode", 0555);
        // in the snapshot as a file, and as a directory
        Files.delete(dr.resolve("keep.txt"));
        Files.createSymbolicLink(dr.resolve("keep.txt"), outside.resolve("o.txt"));
        deleteTree(dr.resolve("file-becomes-dir"));
        Files.createSymbolicLink(dr.resolve("file-becomes-dir"), outside);
        // and a real directory holding a link out, to be deleted as a tree
        Files.createDirectories(dr.resolve("extra/inner"));
        Files.createSymbolicLink(dr.resolve("extra/inner/out"), outside);
        // which its owner cannot even read
        Files.setAttribute(dr.resolve("extra/inner"), "unix:mode", 0);

        Restorer.Result r = restore(snap2, sync(dr, false, false));

        assertThat(state(outside)).as("outside the target").isEqualTo(outsideBefore);
        assertThat(TreeComparison.differences(fresh(snap2), dr)).isEmpty();
        // evil-dir, ro-dir/evil-file, keep.txt's link, file-becomes-dir's link, extra, extra/inner, extra/inner/out
        assertThat(r.deleted()).isEqualTo(7);
    }

    @Test
    void aFileLinkedOutsideTheTargetIsRewrittenNeverChangedInPlace() throws Exception {
        Path dr = tmp.resolve("dr");
        restore(snap1, full(dr));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        // perms.txt has the same content and time in snapshot 2, only another mode
        Files.createLink(outside.resolve("twin"), dr.resolve("perms.txt"));
        long inode = FileStat.of(outside.resolve("twin")).ino();

        restore(snap2, sync(dr, false, false));

        assertThat(FileStat.of(outside.resolve("twin")).permissions()).isEqualTo(0644);
        assertThat(FileStat.of(outside.resolve("twin")).nlink()).isEqualTo(1);
        assertThat(FileStat.of(dr.resolve("perms.txt")).ino()).isNotEqualTo(inode);
        assertThat(TreeComparison.differences(fresh(snap2), dr)).isEmpty();
    }

    @Test
    void syncOfOneFileTouchesNothingElseInTheTarget() throws Exception {
        Path dr = Files.createDirectories(tmp.resolve("dr"));
        RepoFixture.write(dr.resolve("other.txt"), 100, 1);
        RestoreOptions one = new RestoreOptions(dr, src.resolve("keep.txt").toString(), List.of(), List.of(), false, false, 2,
                true, false);
        Restorer.Result first = restore(snap2, one);
        assertThat(first.filesWritten()).isEqualTo(1);
        long inode = FileStat.of(dr.resolve("keep.txt")).ino();

        Restorer.Result second = restore(snap2, one);

        assertThat(second.filesKept()).isEqualTo(1);
        assertThat(second.deleted()).isZero();
        assertThat(FileStat.of(dr.resolve("keep.txt")).ino()).isEqualTo(inode);
        assertThat(dr.resolve("other.txt")).exists();
        assertThat(dr.resolve("keep.txt")).hasSameBinaryContentAs(src.resolve("keep.txt"));
    }

    @Test
    void syncIntoAMissingTargetIsAFullRestore() throws Exception {
        Path dr = tmp.resolve("new/dr");
        Restorer.Result r = restore(snap2, sync(dr, true, false));
        assertThat(r.filesKept()).isZero();
        assertThat(r.filesWritten()).isEqualTo(r.files());
        assertThat(TreeComparison.differences(fresh(snap2), dr)).isEmpty();
    }

    private static boolean isRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
