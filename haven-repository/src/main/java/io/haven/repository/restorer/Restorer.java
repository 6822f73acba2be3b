package io.haven.repository.restorer;

import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.fs.Descriptors;
import io.haven.repository.fs.FileNames;
import io.haven.repository.fs.FileStat;
import io.haven.repository.fs.PathPatterns;
import io.haven.repository.fs.Xattrs;
import io.haven.repository.index.Index;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import io.haven.repository.tree.Xattr;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Restores a snapshot (or a path in it) into a target directory.
 *
 * <p>Design: first a plan (walk the trees, apply include and exclude patterns, refuse unsafe
 * names, add up the bytes), then checks of the target (a writable directory with room), and
 * only then writes: directories in pre-order, files in parallel (every chunk's id verified,
 * zero blocks left as holes), hard links, special files, and last the directories' metadata in
 * post-order, so read-only directories get their mode after their contents. Nothing is ever
 * written through a symlink: existing symlinks in the way are replaced, files are opened with
 * {@code O_NOFOLLOW}.
 *
 * <p>A sync restore ({@link RestoreOptions#sync()}) compares the plan with what the target
 * holds before writing: files with the snapshot's size and modification time (or, verifying,
 * chunk ids) are kept, symlinks and special files that match are kept, kept entries whose
 * metadata differs get it set again, entries of another type and entries the snapshot does not
 * have are deleted (directories with all inside, through {@code openat}/{@code unlinkat}, never
 * following a symlink), and only the remaining files are written, so only their data is read.
 */
public final class Restorer {
    private static final int BLOCK = 4096;
    private static final byte[] ZEROS = new byte[BLOCK];
    private static final String USER_NS = "user.";

    private final Repository repo;
    private final RestoreOptions options;
    private final RestoreCounters counters = new RestoreCounters();
    private final List<String> warnings = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> warned = Collections.synchronizedSet(new LinkedHashSet<>());
    private final boolean root = isRoot();

    public Restorer(Repository repo, RestoreOptions options) {
        this.repo = repo;
        this.options = options;
    }

    public RestoreCounters counters() {
        return counters;
    }

    /**
     * What a restore did (or, for a dry run, would do).
     *
     * @param files regular files in the snapshot (path), as are dirs, symlinks, others and bytes
     * @param hardlinks files linked to another rather than written
     * @param filesWritten files written or linked (a full restore: all of them)
     * @param filesKept a sync: files left in place because they already held the content
     * @param deleted a sync: entries deleted from the target, every entry of a deleted tree counted
     * @param bytesWritten bytes of file content written (a hard-link group's once)
     * @param metadataUpdated a sync: entries kept in place whose metadata was set again
     * @param changes a sync dry run: what would change, deletions first; otherwise empty
     * @param skipped entries not restored because the target cannot hold them (a path longer than
     *     Linux allows); named in {@code warnings}
     */
    public record Result(long files, long dirs, long symlinks, long others, long bytes, long hardlinks,
            List<String> warnings, double durationSeconds, long filesWritten, long filesKept, long deleted,
            long bytesWritten, long metadataUpdated, List<Change> changes, long skipped) {}

    /**
     * One change of a sync: {@code +} written (created, rewritten or linked), {@code M} kept with
     * its metadata set again, {@code -} deleted (a directory with everything in it). Paths are
     * in the target; directories end in {@code /}.
     */
    public record Change(char kind, String path) {}

    private enum Action { WRITE, LINK, KEEP }

    /** One planned entry: where it goes, what it is, its path in the snapshot, and what to do. */
    private static final class Entry {
        private final Path path;
        private final Node node;
        private final String snapshotPath;
        /** A sync: what the target has at the path, when of the same type. */
        FileStat existing;
        Action action = Action.WRITE;
        /** LINK: the entry whose file this one is linked to. */
        Entry linkTo;
        /** KEEP: the metadata differs and is set again. */
        boolean metadata;

        Entry(Path path, Node node, String snapshotPath) {
            this.path = path;
            this.node = node;
            this.snapshotPath = snapshotPath;
        }

        Path path() {
            return path;
        }

        Node node() {
            return node;
        }

        String snapshotPath() {
            return snapshotPath;
        }
    }

    /** What a sync found in the target besides the planned entries: what to delete. */
    private static final class Sync {
        /** Entries to delete, by the directory holding them. */
        final Map<Path, List<Path>> deletions = new HashMap<>();
        /** Regular files with other links among the deletions: (device, inode) → links deleted. */
        final Map<List<Long>, Integer> deletedLinks = new HashMap<>();
        final List<Change> changes = new ArrayList<>();
        long deleteCount;
        /** The target itself is restored from a directory (SNAPSHOT:PATH) and its metadata differs. */
        boolean targetMetadata;
    }

    /** Linux's PATH_MAX: bytes of a path, with its terminating NUL. */
    static final int PATH_MAX = 4096;
    /** Entries left out by the plan because their path in the target is too long, and one of them. */
    private long skipped;
    private String skippedExample;

    /** The directory node restored as the target itself (SNAPSHOT:PATH of a directory), or null. */
    private Node targetNode;
    /** SNAPSHOT:PATH of a single non-directory entry, restored by its name into the target. */
    private boolean single;

    public Result run(Repository.SnapshotEntry snapshot) {
        long started = System.nanoTime();
        List<Entry> entries = plan(snapshot);
        if (skipped > 0) {
            warnings.add(skipped + " entr" + (skipped == 1 ? "y" : "ies") + " not restored: the path in the target would be longer"
                    + " than the " + (PATH_MAX - 1) + " bytes Linux allows, e.g. " + skippedExample
                    + "; restore it with SNAPSHOT:PATH into a shorter target");
        }
        Sync sync = options.sync() ? compareWithTarget(entries) : null;
        decideFiles(entries, sync);
        long files = 0;
        long bytes = 0;
        long dirs = 0;
        long links = 0;
        long others = 0;
        long needed = 0;
        long filesWritten = 0;
        long filesKept = 0;
        long bytesWritten = 0;
        long hardlinks = 0;
        long metadata = sync != null && sync.targetMetadata ? 1 : 0;
        for (Entry e : entries) {
            Node n = e.node();
            switch (n.type()) {
                case FILE -> {
                    files++;
                    bytes += n.size();
                    switch (e.action) {
                        case WRITE -> {
                            filesWritten++;
                            bytesWritten += n.size();
                            // hard links share their blocks: only the written one counts
                            needed += allocated(n);
                        }
                        case LINK -> {
                            filesWritten++;
                            hardlinks++;
                        }
                        case KEEP -> filesKept++;
                    }
                }
                case DIR -> dirs++;
                case SYMLINK -> links++;
                default -> others++;
            }
            if (e.action == Action.KEEP && e.metadata) {
                metadata++;
            }
        }
        counters.totalFiles = filesWritten;
        counters.totalBytes = bytesWritten;
        counters.filesKept = filesKept;
        checkTarget(needed);
        if (options.dryRun()) {
            List<Change> changes = sync == null ? List.of() : changes(entries, sync);
            return new Result(files, dirs, links, others, bytes, hardlinks, List.copyOf(warnings), seconds(started),
                    filesWritten, filesKept, sync == null ? 0 : sync.deleteCount, bytesWritten, metadata, changes, skipped);
        }
        write(entries, sync);
        return new Result(files, dirs, links, others, bytes, hardlinks, List.copyOf(warnings), seconds(started),
                filesWritten, filesKept, counters.deleted.get(), bytesWritten, metadata, List.of(), skipped);
    }

    /**
     * The data blobs this restore will read (its path, includes and excludes applied; a sync:
     * only those of the files it will write), without writing anything: what must be readable,
     * for example thawed from a cold tier, first.
     */
    public java.util.Set<BlobId> dataNeeded(Repository.SnapshotEntry snapshot) {
        List<Entry> entries = plan(snapshot);
        decideFiles(entries, options.sync() ? compareWithTarget(entries) : null);
        java.util.Set<BlobId> out = new java.util.HashSet<>();
        for (Entry e : entries) {
            if (e.node().type() == NodeType.FILE && e.action == Action.WRITE) {
                out.addAll(e.node().content());
            }
        }
        targetNode = null;
        return out;
    }

    private static double seconds(long started) {
        return Math.round((System.nanoTime() - started) / 1e6) / 1000.0;
    }

    /**
     * Whether {@code subpath} names a directory in the snapshot (the root does); false for any
     * other entry. NOT_FOUND when it is not in the snapshot. For callers that pick a target: a
     * file restored "in place" goes into its directory, a directory onto itself.
     */
    public static boolean isDirectoryAt(Repository repo, Repository.SnapshotEntry snapshot, String subpath) {
        Tree tree = repo.loadTree(BlobId.parse(snapshot.snapshot().tree()));
        Node node = null;
        for (String s : subpath.split("/")) {
            if (s.isEmpty()) {
                continue;
            }
            node = tree == null ? null : tree.findTyped(FileNames.bytes(s));
            if (node == null) {
                throw new HavenException(ErrorCode.NOT_FOUND, "path " + subpath + " is not in snapshot " + snapshot.id().shortHex());
            }
            tree = node.type() == NodeType.DIR ? repo.loadTree(node.subtree()) : null;
        }
        return node == null || node.type() == NodeType.DIR;
    }

    // ------------------------------------------------------------------ plan

    private List<Entry> plan(Repository.SnapshotEntry snapshot) {
        BlobId rootTree = BlobId.parse(snapshot.snapshot().tree());
        String sub = options.subpath();
        List<byte[]> parts = new ArrayList<>();
        for (String s : sub.split("/")) {
            if (!s.isEmpty()) {
                // the string holds the argument's bytes (FileNames.string)
                parts.add(FileNames.bytes(s));
            }
        }
        targetNode = null;
        single = false;
        skipped = 0;
        skippedExample = null;
        Tree tree = repo.loadTree(rootTree);
        Node node = null;
        StringBuilder at = new StringBuilder();
        byte[] baseBytes = {'/'};
        for (byte[] part : parts) {
            // a name as typed, or as haven ls shows it
            node = tree == null ? null : tree.findTyped(part);
            if (node == null) {
                throw new HavenException(ErrorCode.NOT_FOUND, "path " + at + "/" + FileNames.typedForMessage(part) + " is not in snapshot "
                        + snapshot.id().shortHex());
            }
            at.append('/').append(node.displayName());
            baseBytes = concat(baseBytes, node.name());
            tree = node.type() == NodeType.DIR ? repo.loadTree(node.subtree()) : null;
        }
        PathPatterns includes = new PathPatterns(options.includes());
        PathPatterns excludes = new PathPatterns(options.excludes());
        List<Entry> out = new ArrayList<>();
        String base = parts.isEmpty() ? "" : at.toString();
        if (node != null && node.type() != NodeType.DIR) {
            // a single entry: restore it by its name into the target
            single = true;
            out.add(new Entry(FileNames.resolve(options.target(), node.name()), node, base));
            return out;
        }
        if (node != null) {
            targetNode = node;
        }
        if (includes.hasDisplayForms() || excludes.hasDisplayForms()) {
            // a pattern with \xHH is read as haven ls shows names when it so matches an entry
            observe(tree, baseBytes, includes, excludes);
            includes.settle();
            excludes.settle();
        }
        walk(tree, options.target(), base, baseBytes, includes, excludes, false, out);
        return out;
    }

    /** Shows the patterns every entry below {@code tree}, for {@link PathPatterns#settle}. */
    private void observe(Tree tree, byte[] dirBytes, PathPatterns includes, PathPatterns excludes) {
        for (Node n : tree.nodes()) {
            byte[] p = concat(dirBytes, n.name());
            includes.observe(p, n.name());
            excludes.observe(p, n.name());
            if (n.type() == NodeType.DIR) {
                observe(repo.loadTree(n.subtree()), p, includes, excludes);
            }
        }
    }

    /** Appends the entries of {@code tree} in pre-order; returns whether any was selected. */
    private boolean walk(Tree tree, Path dir, String snapDir, byte[] snapDirBytes, PathPatterns includes,
            PathPatterns excludes, boolean included, List<Entry> out) {
        boolean any = false;
        for (Node n : tree.nodes()) {
            Path path = FileNames.resolve(dir, n.name());
            if (!path.normalize().startsWith(options.target()) || !path.getParent().equals(dir)) {
                throw new HavenException(ErrorCode.UNSAFE_PATH, "refusing entry '" + n.displayName()
                        + "': it would be written outside the target");
            }
            String snapPath = snapDir + "/" + n.displayName();
            byte[] snapBytes = concat(snapDirBytes, n.name());
            if (!excludes.isEmpty() && excludes.matches(snapBytes, n.name())) {
                continue;
            }
            boolean selected = included || includes.isEmpty() || includes.matches(snapBytes, n.name());
            if (FileNames.bytes(path).length >= PATH_MAX) {
                // the kernel refuses such a path: skip it and all below it, restore the rest; count
                // what of it was asked for (selected, or selected inside)
                long asked = countSelected(n, snapBytes, includes, excludes, selected);
                if (asked > 0 && skipped == 0) {
                    skippedExample = snapPath;
                }
                skipped += asked;
                continue;
            }
            Entry e = new Entry(path, n, snapPath);
            if (n.type() == NodeType.DIR) {
                int at = out.size();
                out.add(e);
                boolean inner = walk(repo.loadTree(n.subtree()), path, snapPath, snapBytes, includes, excludes, selected, out);
                if (!selected && !inner) {
                    out.remove(at);
                } else {
                    any = true;
                }
            } else if (selected) {
                out.add(e);
                any = true;
            }
        }
        return any;
    }

    /** Entries of the subtree at {@code n} (itself included) that the restore selects. */
    private long countSelected(Node n, byte[] snapBytes, PathPatterns includes, PathPatterns excludes, boolean selected) {
        long count = selected ? 1 : 0;
        if (n.type() == NodeType.DIR) {
            for (Node c : repo.loadTree(n.subtree()).nodes()) {
                byte[] cb = concat(snapBytes, c.name());
                if (!excludes.isEmpty() && excludes.matches(cb, c.name())) {
                    continue;
                }
                boolean sel = selected || includes.isEmpty() || includes.matches(cb, c.name());
                count += countSelected(c, cb, includes, excludes, sel);
            }
        }
        return count;
    }

    private static byte[] concat(byte[] dir, byte[] name) {
        boolean slash = dir.length > 0 && dir[dir.length - 1] == '/';
        byte[] out = Arrays.copyOf(dir, dir.length + (slash ? 0 : 1) + name.length);
        if (!slash) {
            out[dir.length] = '/';
        }
        System.arraycopy(name, 0, out, out.length - name.length, name.length);
        return out;
    }

    /**
     * Bytes a file will take on disk, as far as the index tells without reading data: chunks that
     * compressed more than 1000-fold (long runs of one byte, in practice zeros) are counted as
     * holes, every other chunk in full, also when it holds holes between its data.
     */
    private long allocated(Node n) {
        long sum = 0;
        Index index = repo.index();
        for (BlobId id : n.content()) {
            Index.Location loc = index.lookup(id);
            if (loc == null) {
                throw new HavenException(ErrorCode.CORRUPT, "file " + n.displayName() + " references chunk " + id.shortHex()
                        + " which is not in the repository (run 'haven check')");
            }
            if ((long) loc.length() * 1000 >= loc.rawLength()) {
                sum += loc.rawLength();
            }
        }
        return sum;
    }

    /**
     * The target's free space looks too small for the restore. The message ends with how to
     * restore anyway, which depends on where the restore was asked for: {@link #withHint} gives
     * the same refusal with another way (the agent names {@code haven workload restore}'s option).
     */
    public static final class NotEnoughRoom extends HavenException {
        private final Path target;
        private final long needed;
        private final long free;

        NotEnoughRoom(Path target, long needed, long free, String hint) {
            super(ErrorCode.TARGET_UNUSABLE, "not enough room in " + target + ": the restore needs " + DataSize.format(needed) + ", "
                    + DataSize.format(free) + " is free (an estimate: holes in sparse files count as data unless a whole chunk is"
                    + " zeros; " + hint + ")");
            this.target = target;
            this.needed = needed;
            this.free = free;
        }

        /** The same refusal, ending with {@code hint} instead of this command's option. */
        public NotEnoughRoom withHint(String hint) {
            NotEnoughRoom e = new NotEnoughRoom(target, needed, free, hint);
            e.initCause(this);
            return e;
        }
    }

    /** Checks the target before a byte is written: a writable directory (or creatable) with room. */
    private void checkTarget(long needed) {
        Path t = options.target();
        try {
            if (Files.exists(t, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS)) {
                throw new HavenException(ErrorCode.TARGET_UNUSABLE, "restore target " + t + " exists and is not a directory");
            }
            Path probe = t;
            while (probe != null && !Files.exists(probe)) {
                probe = probe.getParent();
            }
            if (probe == null || !Files.isDirectory(probe)) {
                throw new HavenException(ErrorCode.TARGET_UNUSABLE, "restore target " + t + " cannot be created");
            }
            if (!Files.isWritable(probe)) {
                throw new HavenException(ErrorCode.TARGET_UNUSABLE, "restore target " + t + " is not writable");
            }
            long free = Files.getFileStore(probe).getUsableSpace();
            if (needed > free && !options.noSpaceCheck()) {
                throw new NotEnoughRoom(t, needed, free, "--no-space-check restores anyway");
            }
            if (!options.dryRun()) {
                Files.createDirectories(t);
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.TARGET_UNUSABLE, "restore target " + t + " is not usable: " + reason(e), e);
        }
    }

    // ------------------------------------------------------------------ sync: compare with the target

    /**
     * Reads what the target holds at and around the planned entries (nothing is changed): marks
     * entries whose counterpart has their type (kept directories, matching symlinks and special
     * files; files are decided with their hard-link groups), and plans the deletion of entries of
     * another type and of entries the snapshot does not have, in the target and in every planned
     * directory. Listing starts at the target and descends only into real directories, so a
     * symlink is never followed.
     */
    private Sync compareWithTarget(List<Entry> entries) {
        Sync s = new Sync();
        Path t = options.target();
        Map<Path, FileStat> found = new HashMap<>();
        Map<Path, Set<Path>> expected = new HashMap<>();
        for (Entry e : entries) {
            expected.computeIfAbsent(e.path().getParent(), k -> new HashSet<>()).add(e.path().getFileName());
        }
        try {
            FileStat top = lstat(t);
            if (top != null && top.type() == NodeType.DIR) {
                if (single) {
                    // SNAPSHOT:FILE: only that name in the target is ours
                    Entry e = entries.get(0);
                    FileStat st = lstat(e.path());
                    if (st != null) {
                        found.put(e.path(), st);
                    }
                } else {
                    list(t, expected, found, s);
                    if (targetNode != null) {
                        s.targetMetadata = metadataDiffers(t, top, targetNode);
                    }
                }
            }
            for (Entry e : entries) {
                FileStat st = found.get(e.path());
                if (st == null) {
                    continue;
                }
                Node n = e.node();
                if (st.type() != n.type()) {
                    // something of another type is in the way: deleted (a directory with all in it) first
                    planDeletion(s, e.path(), st);
                    continue;
                }
                e.existing = st;
                switch (n.type()) {
                    case DIR -> {
                        if (!root && !(Files.isReadable(e.path()) && Files.isExecutable(e.path()))) {
                            // its owner cannot look inside (mode 0300, 0000…) without changing it,
                            // which a dry run must not: replaced as a whole
                            e.existing = null;
                            planDeletion(s, e.path(), st);
                            continue;
                        }
                        e.action = Action.KEEP;
                        list(e.path(), expected, found, s);
                    }
                    case FILE -> {
                        // decided with its hard-link group (decideFiles)
                    }
                    // a fresh restore makes these with one link: another link would share their metadata
                    case SYMLINK -> e.action = st.nlink() == 1
                            && Arrays.equals(FileNames.bytes(Files.readSymbolicLink(e.path())), n.linkTarget())
                            ? Action.KEEP : Action.WRITE;
                    case FIFO -> e.action = st.nlink() == 1 ? Action.KEEP : Action.WRITE;
                    case CHAR_DEVICE, BLOCK_DEVICE -> e.action = st.nlink() == 1 && st.rdev() == n.rdev()
                            ? Action.KEEP : Action.WRITE;
                    // not restored; one a program made there stays
                    case SOCKET -> e.action = Action.KEEP;
                }
                if (e.action == Action.KEEP && n.type() != NodeType.SOCKET) {
                    e.metadata = metadataDiffers(e.path(), st, n);
                }
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.TARGET_UNUSABLE, "cannot compare restore target " + t + " with the snapshot: "
                    + reason(e), e);
        }
        return s;
    }

    /** Reads the entries of target directory {@code dir}: planned ones into {@code found}, others to delete. */
    private void list(Path dir, Map<Path, Set<Path>> expected, Map<Path, FileStat> found, Sync s) throws IOException {
        Set<Path> names = expected.getOrDefault(dir, Set.of());
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path c : ds) {
                children.add(c);
            }
        }
        for (Path c : children) {
            FileStat st = lstat(c);
            if (st == null) {
                continue;
            }
            if (names.contains(c.getFileName())) {
                found.put(c, st);
            } else {
                planDeletion(s, c, st);
            }
        }
    }

    private void planDeletion(Sync s, Path p, FileStat st) throws IOException {
        s.deletions.computeIfAbsent(p.getParent(), k -> new ArrayList<>()).add(p);
        boolean dir = st.type() == NodeType.DIR;
        s.changes.add(new Change('-', display(p) + (dir ? "/" : "")));
        if (!dir) {
            s.deleteCount++;
            countLink(s, st);
            return;
        }
        // count what is inside, and note hard links, without following symlinks
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                s.deleteCount++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                s.deleteCount++;
                if (a.isRegularFile()) {
                    FileStat fs = lstat(f);
                    if (fs != null) {
                        countLink(s, fs);
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) {
                // unreadable (a directory without permission): it is opened up when deleted
                s.deleteCount++;
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void countLink(Sync s, FileStat st) {
        if (st.type() == NodeType.FILE && st.nlink() > 1) {
            s.deletedLinks.merge(inode(st), 1, Integer::sum);
        }
    }

    private static List<Long> inode(FileStat st) {
        return List.of(st.dev(), st.ino());
    }

    private static FileStat lstat(Path p) throws IOException {
        try {
            return FileStat.of(p);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Decides, per hard-link group of the snapshot (other files alone), what happens to the
     * files. A full restore writes the group's first path and links the others to it. A sync
     * keeps a file the target already has with the content when its inode belongs to this group
     * alone (its links are this group's planned paths plus links being deleted; an inode with a
     * link elsewhere is never kept, its metadata would change there too), links the group's
     * other paths to it, and writes the group anew when no file qualifies.
     */
    private void decideFiles(List<Entry> entries, Sync sync) {
        List<List<Entry>> groups = new ArrayList<>();
        Map<List<Long>, List<Entry>> byInode = new HashMap<>();
        List<Entry> files = new ArrayList<>();
        for (Entry e : entries) {
            Node n = e.node();
            if (n.type() != NodeType.FILE) {
                continue;
            }
            files.add(e);
            if (n.nlink() > 1) {
                List<Long> key = List.of(n.device(), n.inode());
                List<Entry> g = byInode.get(key);
                if (g == null) {
                    g = new ArrayList<>();
                    byInode.put(key, g);
                    groups.add(g);
                }
                g.add(e);
            } else {
                groups.add(List.of(e));
            }
        }
        Set<Entry> matching = sync == null ? Set.of() : sameContent(files);
        Map<List<Long>, Integer> planned = new HashMap<>();
        for (Entry e : files) {
            if (e.existing != null) {
                planned.merge(inode(e.existing), 1, Integer::sum);
            }
        }
        Set<List<Long>> claimed = new HashSet<>();
        for (List<Entry> g : groups) {
            Entry keeper = null;
            for (Entry m : g) {
                if (!matching.contains(m)) {
                    continue;
                }
                List<Long> k = inode(m.existing);
                if (!claimed.contains(k) && m.existing.nlink() == planned.get(k) + sync.deletedLinks.getOrDefault(k, 0)) {
                    keeper = m;
                    break;
                }
            }
            if (keeper == null) {
                Entry first = g.get(0);
                first.action = Action.WRITE;
                for (Entry m : g.subList(1, g.size())) {
                    m.action = Action.LINK;
                    m.linkTo = first;
                }
                continue;
            }
            List<Long> k = inode(keeper.existing);
            claimed.add(k);
            try {
                keeper.metadata = metadataDiffers(keeper.path(), keeper.existing, keeper.node());
            } catch (IOException e) {
                throw new HavenException(ErrorCode.TARGET_UNUSABLE, "cannot read " + display(keeper.path()) + ": " + reason(e), e);
            }
            for (Entry m : g) {
                if (m.existing != null && inode(m.existing).equals(k)) {
                    m.action = Action.KEEP;
                } else {
                    m.action = Action.LINK;
                    m.linkTo = keeper;
                }
            }
        }
    }

    /**
     * The files whose target file already holds the snapshot's content: same size and, by
     * default, the same modification time to the nanosecond (as a restore sets it); verifying,
     * every chunk of the target file hashes to the snapshot's chunk id (read locally, in
     * parallel; the modification time is then only metadata).
     */
    private Set<Entry> sameContent(List<Entry> files) {
        Set<Entry> out = Collections.newSetFromMap(new ConcurrentHashMap<>());
        List<Entry> toHash = new ArrayList<>();
        for (Entry e : files) {
            FileStat st = e.existing;
            Node n = e.node();
            if (st == null || st.size() != n.size()) {
                continue;
            }
            if (options.verify()) {
                toHash.add(e);
            } else if (st.mtimeSeconds() == n.mtimeSeconds() && st.mtimeNanos() == n.mtimeNanos()) {
                out.add(e);
            }
        }
        parallel(toHash, e -> {
            if (hashesMatch(e)) {
                out.add(e);
            }
        });
        return out;
    }

    /** Whether the target file's chunks, cut where the snapshot's are, hash to the snapshot's chunk ids. */
    private boolean hashesMatch(Entry e) {
        Node n = e.node();
        Index index = repo.index();
        try (FileChannel ch = FileChannel.open(e.path(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            if (ch.size() != n.size()) {
                return false;
            }
            byte[] buf = new byte[0];
            long pos = 0;
            for (BlobId id : n.content()) {
                Index.Location loc = index.lookup(id);
                if (loc == null) {
                    return false;
                }
                int len = loc.rawLength();
                if (buf.length < len) {
                    buf = new byte[len];
                }
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, len);
                while (bb.hasRemaining()) {
                    if (ch.read(bb, pos + bb.position()) < 0) {
                        return false;
                    }
                }
                if (!repo.key().blobId(buf, 0, len).equals(id)) {
                    return false;
                }
                pos += len;
            }
            return pos == n.size();
        } catch (IOException ex) {
            // unreadable: written anew
            return false;
        }
    }

    /**
     * Whether metadata a restore sets differs: modification time, permission bits (not of
     * symlinks), owner and group (as root; by name with --owner-by-name), {@code user.*}
     * extended attributes (files and directories).
     */
    private boolean metadataDiffers(Path p, FileStat st, Node n) throws IOException {
        if (st.mtimeSeconds() != n.mtimeSeconds() || st.mtimeNanos() != n.mtimeNanos()) {
            return true;
        }
        if (n.type() != NodeType.SYMLINK && st.permissions() != (n.mode() & 07777)) {
            return true;
        }
        if (root && ownerDiffers(p, st, n)) {
            return true;
        }
        if (n.type() == NodeType.FILE || n.type() == NodeType.DIR) {
            try {
                return !new HashSet<>(Xattrs.read(p)).equals(new HashSet<>(restorableXattrs(n)));
            } catch (IOException e) {
                return true;
            }
        }
        return false;
    }

    private boolean ownerDiffers(Path p, FileStat st, Node n) throws IOException {
        Object owner = options.ownerByName() ? principal(n.user(), n.uid(), true) : null;
        Object group = options.ownerByName() ? principal(n.group(), n.gid(), false) : null;
        PosixFileAttributes a = owner != null || group != null
                ? Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS) : null;
        boolean ownerDiffers = owner != null ? !owner.equals(a.owner()) : st.uid() != n.uid();
        boolean groupDiffers = group != null ? !group.equals(a.group()) : st.gid() != n.gid();
        return ownerDiffers || groupDiffers;
    }

    private static List<Xattr> restorableXattrs(Node n) {
        return n.xattrs().stream().filter(x -> x.name().startsWith(USER_NS)).toList();
    }

    /** A dry run's list: deletions, then what is written or has its metadata set again. */
    private List<Change> changes(List<Entry> entries, Sync s) {
        List<Change> out = new ArrayList<>(s.changes);
        if (s.targetMetadata) {
            out.add(new Change('M', display(options.target()) + "/"));
        }
        for (Entry e : entries) {
            String path = display(e.path()) + (e.node().type() == NodeType.DIR ? "/" : "");
            if (e.node().type() == NodeType.SOCKET) {
                continue;
            }
            if (e.action != Action.KEEP) {
                out.add(new Change('+', path));
            } else if (e.metadata) {
                out.add(new Change('M', path));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ write

    private void write(List<Entry> entries, Sync sync) {
        List<Entry> dirs = new ArrayList<>();
        List<Entry> files = new ArrayList<>();
        List<Entry> others = new ArrayList<>();
        for (Entry e : entries) {
            switch (e.node().type()) {
                case DIR -> dirs.add(e);
                case FILE -> files.add(e);
                default -> others.add(e);
            }
        }
        if (sync != null) {
            if (targetNode != null) {
                try {
                    ownerAccess(options.target());
                } catch (IOException e) {
                    throw new HavenException(ErrorCode.IO, "cannot open up " + display(options.target()) + ": " + reason(e), e);
                }
            }
            delete(sync, options.target());
        }
        for (Entry d : dirs) {
            makeDir(d.path());
            if (sync != null) {
                delete(sync, d.path());
            }
        }
        // hard links: the written (or kept) file of a group first, the others are linked to it
        List<Entry> toWrite = new ArrayList<>(files.size());
        List<Entry> linkLater = new ArrayList<>();
        for (Entry f : files) {
            switch (f.action) {
                case WRITE -> toWrite.add(f);
                case LINK -> linkLater.add(f);
                case KEEP -> {
                }
            }
        }
        // read packs roughly in order: sort by (pack, offset) of each file's first chunk
        Index index = repo.index();
        Map<Entry, Index.Location> first = new java.util.IdentityHashMap<>(toWrite.size() * 2);
        for (Entry e : toWrite) {
            if (!e.node().content().isEmpty()) {
                first.put(e, index.lookup(e.node().content().get(0)));
            }
        }
        Comparator<Index.Location> byPlace = Comparator.nullsFirst(
                Comparator.comparing(Index.Location::pack).thenComparingInt(Index.Location::offset));
        toWrite.sort(Comparator.comparing(first::get, byPlace));
        reads = planReads(toWrite, index);
        parallel(toWrite, this::writeFile);
        for (Entry e : linkLater) {
            link(e, e.linkTo);
        }
        for (Entry f : files) {
            if (f.action == Action.KEEP && f.metadata) {
                updateMetadata(f);
            }
        }
        try {
            for (Entry o : others) {
                if (o.action != Action.KEEP) {
                    writeSpecial(o);
                } else if (o.metadata) {
                    updateMetadata(o);
                }
            }
        } finally {
            if (staging != null) {
                try {
                    Files.deleteIfExists(staging);
                } catch (IOException e) {
                    warnOnce("staging", "could not remove " + staging + ": " + reason(e));
                }
            }
        }
        if (targetNode != null) {
            dirs.add(0, new Entry(options.target(), targetNode, options.subpath()));
        }
        for (int i = dirs.size() - 1; i >= 0; i--) {
            Entry d = dirs.get(i);
            try {
                if (sync == null) {
                    setMetadata(d.path(), d.node());
                } else if (metadataDiffers(d.path(), FileStat.of(d.path()), d.node())) {
                    // also directories whose contents changed (their time moved) or that were opened up
                    setMetadataAgain(d.path(), d.node());
                }
            } catch (IOException e) {
                throw fail(d, e);
            }
        }
    }

    /** How long a failed restore waits for its other workers to stop (tests shorten it). */
    Duration workerGrace = Duration.ofSeconds(60);

    /**
     * Runs {@code work} on every item with the restore's threads; the first failure is thrown. A
     * worker that does not stop within {@link #workerGrace} after a failure is named in the
     * error itself, since a warning would not reach the user of a failed restore.
     */
    <T> void parallel(List<T> items, Consumer<T> work) {
        if (items.isEmpty()) {
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(options.threads(),
                Thread.ofPlatform().daemon().name("haven-restore-", 0).factory());
        RuntimeException failure = null;
        try {
            // taken as they finish, so that a failure is seen at once, not after the items before it
            CompletionService<Void> done = new ExecutorCompletionService<>(pool);
            for (T f : items) {
                done.submit(() -> {
                    work.accept(f);
                    return null;
                });
            }
            for (int i = 0; i < items.size(); i++) {
                done.take().get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = new HavenException(ErrorCode.IO, "restore interrupted");
        } catch (ExecutionException e) {
            failure = e.getCause() instanceof RuntimeException r ? r
                    : new HavenException(ErrorCode.IO, "restore failed: " + e.getCause(), e.getCause());
        } catch (RuntimeException e) {
            failure = e;
        }
        pool.shutdownNow();
        // the others stop at their next write (interrupted) and remove what they half wrote;
        // returning first, the command could exit while a half-written file is still there
        boolean stopped;
        try {
            stopped = pool.awaitTermination(workerGrace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = false;
        }
        if (!stopped) {
            long ms = workerGrace.toMillis();
            String stuck = "a restore worker did not stop within " + (ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms")
                    + "; a file it was writing may be incomplete";
            if (failure == null) {
                warnOnce("stuck", stuck);
            } else {
                ErrorCode code = failure instanceof HavenException h ? h.code() : ErrorCode.IO;
                failure = new HavenException(code, failure.getMessage() + " (also: " + stuck + ")", failure);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Grouped reads for a remote repository, or null (local disk, or too many reads to plan). */
    private PackReads reads;

    /** Plans grouped reads up to this many blob reads (about 50 bytes of heap each). */
    static final int MAX_PLANNED_READS = 2_000_000;

    private PackReads planReads(List<Entry> files, Index index) {
        if (repo.backend().local()) {
            return null;
        }
        List<Index.Location> all = new ArrayList<>();
        for (Entry f : files) {
            for (BlobId id : f.node().content()) {
                Index.Location loc = index.lookup(id);
                if (loc != null) {
                    all.add(loc);
                }
                if (all.size() > MAX_PLANNED_READS) {
                    return null;
                }
            }
        }
        return new PackReads(repo, all);
    }

    private void makeDir(Path p) {
        try {
            if (Files.isSymbolicLink(p) || (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                Files.delete(p);
            }
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(p);
            }
            // a non-root restorer needs to write into it; the real mode comes last. Root needs
            // nothing, so existing directories keep their mode if the restore stops half-way.
            ownerAccess(p);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot create directory " + display(p) + ": " + reason(e), e);
        }
    }

    /** Not root: gives the owner read, write and search permission on directory {@code p} (its mode comes last). */
    private void ownerAccess(Path p) throws IOException {
        if (root) {
            return;
        }
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        if ((mode & 0700) != 0700) {
            chmod(p, mode | 0700);
        }
    }

    /**
     * chmod without following a symlink. The JDK opens the file for that, which a directory
     * without read permission refuses to its owner; such a directory (checked not to be a
     * symlink) is changed by path.
     */
    private static void chmod(Path p, int mode) throws IOException {
        try {
            Files.setAttribute(p, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
        } catch (FileSystemException e) {
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw e;
            }
            Files.setAttribute(p, "unix:mode", mode);
        }
    }

    /** A sync: deletes the planned entries in directory {@code dir}. */
    private void delete(Sync sync, Path dir) {
        List<Path> list = sync.deletions.get(dir);
        if (list == null) {
            return;
        }
        for (Path p : list) {
            try {
                counters.deleted.addAndGet(deleteTree(p));
            } catch (NoSuchFileException gone) {
                // already gone
            } catch (IOException e) {
                throw new HavenException(ErrorCode.IO, "cannot delete " + display(p) + " from the target: " + reason(e), e);
            }
        }
    }

    /**
     * Deletes {@code p}, and everything in it when it is a directory, never following a symlink:
     * relative to open directories ({@code openat}, {@code unlinkat}), so a directory swapped for
     * a symlink meanwhile is not entered. Returns the entries removed.
     */
    private long deleteTree(Path p) throws IOException {
        try (DirectoryStream<Path> parent = Files.newDirectoryStream(p.getParent())) {
            if (parent instanceof SecureDirectoryStream<Path> sp) {
                return deleteIn(sp, p.getFileName(), p);
            }
        }
        // no openat on this platform: by path, each entry's type read without following
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(p);
            return 1;
        }
        ownerAccess(p);
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
            ds.forEach(children::add);
        }
        long n = 1;
        for (Path c : children) {
            n += deleteTree(c);
        }
        Files.delete(p);
        return n;
    }

    private long deleteIn(SecureDirectoryStream<Path> dir, Path name, Path full) throws IOException {
        BasicFileAttributes a = dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .readAttributes();
        if (!a.isDirectory()) {
            dir.deleteFile(name);
            return 1;
        }
        ownerAccess(full);
        long n = 1;
        try (SecureDirectoryStream<Path> sub = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
            List<Path> names = new ArrayList<>();
            for (Path c : sub) {
                names.add(c.getFileName());
            }
            for (Path c : names) {
                n += deleteIn(sub, c, full.resolve(c));
            }
        }
        dir.deleteDirectory(name);
        return n;
    }

    /** A sync: sets the metadata of an entry kept in place again, removing extended attributes the snapshot lacks. */
    private void updateMetadata(Entry e) {
        try {
            setMetadataAgain(e.path(), e.node());
        } catch (IOException ex) {
            throw fail(e, ex);
        }
    }

    private void setMetadataAgain(Path p, Node n) throws IOException {
        if (n.type() == NodeType.FILE || n.type() == NodeType.DIR) {
            Set<String> wanted = new HashSet<>();
            for (Xattr x : restorableXattrs(n)) {
                wanted.add(x.name());
            }
            List<String> extra = new ArrayList<>();
            for (Xattr x : Xattrs.read(p)) {
                if (!wanted.contains(x.name())) {
                    extra.add(x.name());
                }
            }
            if (!root && (!extra.isEmpty() || !wanted.isEmpty())) {
                // writing attributes needs write permission, which a read-only mode takes away
                int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
                if ((mode & 0200) == 0) {
                    chmod(p, mode | 0200);
                }
            }
            Xattrs.remove(p, extra);
        }
        setMetadata(p, n);
    }

    private void writeFile(Entry e) {
        Node n = e.node();
        Path p = e.path();
        boolean created = false; // a file of ours holds partial content
        boolean complete = false;
        try {
            try (FileChannel ch = openForWrite(p)) {
                created = true;
                long pos = 0;
                long written = 0;
                Index index = repo.index();
                for (BlobId id : n.content()) {
                    Index.Location loc = index.lookup(id);
                    if (loc == null) {
                        throw new HavenException(ErrorCode.CORRUPT, "chunk " + id.shortHex() + " of " + e.snapshotPath()
                                + " is not in the repository (run 'haven check')");
                    }
                    byte[] data = reads != null ? reads.load(id, loc) : repo.loadBlob(id, loc);
                    written = writeSparse(ch, data, pos, written);
                    pos += data.length;
                    counters.bytesDone.addAndGet(data.length);
                }
                if (pos != n.size()) {
                    throw new HavenException(ErrorCode.CORRUPT, e.snapshotPath() + ": chunks hold " + pos
                            + " bytes but the file had " + n.size());
                }
                if (written < pos && !Descriptors.setLength(ch, pos)) {
                    // the file ends in a hole, and its length cannot be set without writing:
                    // one byte at the end sets it (and takes one block)
                    ch.write(ByteBuffer.wrap(new byte[1]), pos - 1);
                }
            }
            complete = true; // a metadata failure leaves the content in place
            setMetadata(p, n);
            counters.filesDone.incrementAndGet();
        } catch (IOException ex) {
            throw fail(e, ex);
        } catch (HavenException ex) {
            if (ex.code() == ErrorCode.CORRUPT || ex.code() == ErrorCode.NOT_FOUND) { // name the file (a missing pack, say)
                throw new HavenException(ex.code(), "restore of " + e.snapshotPath() + " failed: " + ex.getMessage(), ex);
            }
            throw ex;
        } finally {
            if (created && !complete) {
                removePartial(p);
            }
        }
    }

    /**
     * Removes a file whose writing failed (a chunk that does not verify, a full disk), so that
     * no file that looks restored is left with the wrong content; best effort.
     */
    private static void removePartial(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException | RuntimeException ignored) {
            // the error being reported matters more; the file is named in it
        }
    }

    /**
     * Creates the file anew. Whatever is in the way (a file, perhaps hard-linked elsewhere, a
     * symlink, a special file, an empty directory) is removed first, never written through.
     */
    private FileChannel openForWrite(Path p) throws IOException {
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            replace(p);
        }
        return FileChannel.open(p, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Writes {@code data} at file offset {@code pos}, leaving out the parts that are zero over a
     * whole 4 KiB block of the file, or over the part of such a block that {@code data} covers:
     * the file is new, so what is not written reads as zeros, and a block no write touches stays
     * a hole. Blocks are counted from the start of the file, not of the chunk: chunk boundaries
     * fall anywhere, and a write that crossed into a zero block of the file would allocate it.
     *
     * @return the end of the last write (or {@code writtenEnd} when nothing was written)
     */
    static long writeSparse(FileChannel ch, byte[] data, long pos, long writtenEnd) throws IOException {
        int i = 0;
        while (i < data.length) {
            // skip zero blocks (or zero parts of blocks at the chunk's edges)
            int next;
            while (i < data.length && isZero(data, i, next = blockEnd(pos, i, data.length))) {
                i = next;
            }
            if (i >= data.length) {
                break;
            }
            int start = i;
            while (i < data.length && !isZero(data, i, next = blockEnd(pos, i, data.length))) {
                i = next;
            }
            ByteBuffer buf = ByteBuffer.wrap(data, start, i - start);
            long at = pos + start;
            while (buf.hasRemaining()) {
                at += ch.write(buf, at);
            }
            writtenEnd = pos + i;
        }
        return writtenEnd;
    }

    /** The end (in {@code data}) of the file block that holds {@code data[i]}, at most {@code length}. */
    private static int blockEnd(long pos, int i, int length) {
        long fileOffset = pos + i;
        long end = (fileOffset / BLOCK + 1) * BLOCK - pos;
        return (int) Math.min(end, length);
    }

    private static boolean isZero(byte[] data, int from, int to) {
        return Arrays.mismatch(data, from, to, ZEROS, 0, to - from) == -1;
    }

    private void replace(Path p) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.delete(p);
            } catch (DirectoryNotEmptyException e) {
                throw new HavenException(ErrorCode.TARGET_UNUSABLE, "cannot restore " + display(p)
                        + ": a non-empty directory is in the way");
            }
        } else {
            Files.deleteIfExists(p);
        }
    }

    private void link(Entry e, Entry first) {
        try {
            replaceIfPresent(e.path());
            Files.createLink(e.path(), first.path());
            counters.filesDone.incrementAndGet();
        } catch (IOException ex) {
            throw fail(e, ex);
        }
    }

    private void replaceIfPresent(Path p) throws IOException {
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            replace(p);
        }
    }

    private void writeSpecial(Entry e) {
        Node n = e.node();
        Path p = e.path();
        try {
            replaceIfPresent(p);
            switch (n.type()) {
                case SYMLINK -> Files.createSymbolicLink(p, FileNames.path(n.linkTarget()));
                case FIFO -> mknod(p, "p", n);
                case CHAR_DEVICE -> mknod(p, "c", n);
                case BLOCK_DEVICE -> mknod(p, "b", n);
                case SOCKET -> {
                    warnOnce("socket", "sockets are not restored (a program creates them when it listens), e.g. " + e.snapshotPath());
                    return;
                }
                case FILE, DIR -> throw new IllegalStateException();
            }
            setMetadata(p, n);
        } catch (IOException ex) {
            throw fail(e, ex);
        }
    }

    /** mkfifo/mknod through coreutils (the JDK has no call), on an ASCII name, then renamed. */
    private void mknod(Path p, String kind, Node n) throws IOException {
        if (!kind.equals("p") && !root) {
            warnOnce("devices", "device nodes need root to restore; skipped, e.g. " + display(p));
            return;
        }
        Path tmp = staging().resolve("mknod-" + Long.toHexString(System.nanoTime()));
        List<String> cmd = new ArrayList<>(List.of("mknod", tmp.toString(), kind));
        if (!kind.equals("p")) {
            long[] mm = majorMinor(n.rdev());
            cmd.add(Long.toString(mm[0]));
            cmd.add(Long.toString(mm[1]));
        }
        run(cmd);
        Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Major and minor of a Linux device number, as glibc's {@code major()} and {@code minor()}
     * take them apart (docs/repository-format.md, section 7).
     */
    static long[] majorMinor(long rdev) {
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & 0xfffff000L);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & 0xffffff00L);
        return new long[] {major, minor};
    }

    private void setMetadata(Path p, Node n) throws IOException {
        boolean symlink = n.type() == NodeType.SYMLINK;
        if (root) {
            Object owner = options.ownerByName() ? principal(n.user(), n.uid(), true) : null;
            Object group = options.ownerByName() ? principal(n.group(), n.gid(), false) : null;
            if (owner != null) {
                Files.setAttribute(p, "posix:owner", owner, LinkOption.NOFOLLOW_LINKS);
            } else {
                Files.setAttribute(p, "unix:uid", (int) n.uid(), LinkOption.NOFOLLOW_LINKS);
            }
            if (group != null) {
                Files.setAttribute(p, "posix:group", group, LinkOption.NOFOLLOW_LINKS);
            } else {
                Files.setAttribute(p, "unix:gid", (int) n.gid(), LinkOption.NOFOLLOW_LINKS);
            }
        } else {
            warnOnce("owner", "not running as root: files are owned by the restoring user, not their original owners");
        }
        // Special files are never opened (opening a FIFO blocks, a device may act): their mode and
        // times are set by path. Everything else is set without following a symlink.
        boolean special = n.type() != NodeType.FILE && n.type() != NodeType.DIR && !symlink;
        if (!symlink) {
            // xattrs first: writing them needs write permission, which a read-only mode takes away
            if (!n.xattrs().isEmpty() && !special) {
                List<String> skipped = Xattrs.write(p, n.xattrs());
                if (!skipped.isEmpty()) {
                    warnOnce("xattr", "extended attributes outside the user namespace are not restored, e.g. " + skipped.get(0));
                }
            }
            // after chown, which clears setuid/setgid
            if (special) {
                Files.setAttribute(p, "unix:mode", n.mode());
            } else {
                Files.setAttribute(p, "unix:mode", n.mode(), LinkOption.NOFOLLOW_LINKS);
            }
        }
        if (special) {
            touch(p, n.mtimeSeconds(), n.mtimeNanos());
        } else {
            FileTime mtime = FileTime.from(Instant.ofEpochSecond(n.mtimeSeconds(), n.mtimeNanos()));
            Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(mtime, mtime, null);
        }
    }

    /**
     * A directory with an ASCII name at the top of the target, on the same file system, where
     * special files are made and touched by coreutils (which take text paths) before being
     * renamed byte-exactly into place.
     */
    private synchronized Path staging() throws IOException {
        if (staging == null) {
            staging = Files.createDirectory(options.target().resolve(".haven-restore-" + Long.toHexString(System.nanoTime())));
        }
        return staging;
    }

    private Path staging;

    /** Sets the times of a special file by path (utimensat through touch), never opening it. */
    private void touch(Path p, long seconds, int nanos) throws IOException {
        Path tmp = staging().resolve("touch-" + Long.toHexString(System.nanoTime()));
        // touch takes a text path; rename to an ASCII name and back so any name works
        Files.move(p, tmp, StandardCopyOption.ATOMIC_MOVE);
        try {
            run(List.of("touch", "-h", "-m", "-a", "-d", String.format("@%d.%09d", seconds, nanos), tmp.toString()));
        } finally {
            Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static void run(List<String> cmd) throws IOException {
        try {
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (proc.waitFor() != 0) {
                throw new IOException(cmd.get(0) + " failed: " + out);
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private final Map<String, Optional<Object>> principals = new ConcurrentHashMap<>();

    /** The user or group of this name here, or null (then the numeric id is kept). */
    private Object principal(String name, long id, boolean user) {
        if (name.isEmpty()) {
            return null;
        }
        return principals.computeIfAbsent((user ? "u:" : "g:") + name, k -> {
            UserPrincipalLookupService svc = options.target().getFileSystem().getUserPrincipalLookupService();
            try {
                return Optional.of(user ? svc.lookupPrincipalByName(name) : svc.lookupPrincipalByGroupName(name));
            } catch (UserPrincipalNotFoundException e) {
                warnOnce("owner:" + k, (user ? "user " : "group ") + name + " does not exist here; kept id " + id);
                return Optional.empty();
            } catch (IOException e) {
                warnOnce("owner:" + k, "cannot look up " + name + ": " + reason(e) + "; kept id " + id);
                return Optional.empty();
            }
        }).orElse(null);
    }

    private void warnOnce(String key, String message) {
        if (warned.add(key)) {
            warnings.add(message);
        }
    }

    private HavenException fail(Entry e, IOException ex) {
        return new HavenException(ErrorCode.IO, "cannot restore " + e.snapshotPath() + " to " + display(e.path()) + ": "
                + reason(ex), ex);
    }

    private static String display(Path p) {
        return Node.display(FileNames.bytes(p));
    }

    private static String reason(IOException e) {
        return io.haven.core.IoReasons.of(e);
    }

    private static boolean isRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue() == 0;
        } catch (IOException | RuntimeException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
