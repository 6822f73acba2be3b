package io.haven.repository.archiver;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.chunker.ChunkStream;
import io.haven.repository.chunker.Chunker;
import io.haven.repository.fs.FileNames;
import io.haven.repository.fs.FileStat;
import io.haven.repository.fs.Owners;
import io.haven.repository.fs.PathPatterns;
import io.haven.repository.fs.Xattrs;
import io.haven.repository.snapshot.Snapshot;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import io.haven.repository.tree.Xattr;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountedCompleter;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Takes a snapshot of paths (the backup).
 *
 * <p>Design: one fork/join pool of {@code threads} workers does everything. A directory is a
 * task: its worker lists and stats the entries, and handles each in place: a regular file whose
 * size, mtime, ctime and inode match the parent snapshot reuses its chunk list without being
 * opened; another small file is read, chunked, hashed, compressed, encrypted and packed right
 * there; a subdirectory, and a file of {@link #FORK_BYTES} or more, become tasks of their own
 * that idle workers steal. A directory's tree is encoded and stored by whichever worker finishes
 * its last entry ({@link CountedCompleter}), so no thread ever waits for another and no file is
 * handed between threads: on a tree of many small files the hand-offs (a futex wake-up per
 * file) cost more than reading the files. Files in flight are bounded by the workers. The
 * snapshot is saved last, after {@link RepositoryWriter#flush()} made every pack and index
 * durable: a backup killed at any moment leaves no snapshot that references missing data.
 *
 * <p>Not reusable: one instance runs one backup.
 */
public final class Archiver {
    /** Files at least this large are read by a task of their own, so one directory's big files use every worker. */
    static final long FORK_BYTES = 4L << 20;

    private final Repository repo;
    private final BackupOptions options;
    private final PathPatterns excludes;
    private final Chunker chunker;
    private final Owners owners = new Owners();
    private final BackupCounters counters = new BackupCounters();
    private final List<Snapshot.Missed> missed = Collections.synchronizedList(new ArrayList<>());
    private final ThreadLocal<ChunkStream> streams;
    private RepositoryWriter writer;
    private ForkJoinPool pool;

    public Archiver(Repository repo, BackupOptions options) {
        this.repo = repo;
        this.options = options;
        this.excludes = new PathPatterns(options.excludes());
        this.chunker = repo.chunker();
        this.streams = ThreadLocal.withInitial(() -> new ChunkStream(chunker, 1 << 20));
    }

    public BackupCounters counters() {
        return counters;
    }

    /** The outcome: the snapshot written and what the backup did. */
    public record Result(BlobId snapshotId, Snapshot snapshot) {}

    /**
     * Runs the backup.
     *
     * @param parent the snapshot to compare with for change detection, or null (full read)
     * @throws HavenException when nothing could be backed up or the repository cannot be written
     */
    public Result run(Repository.SnapshotEntry parent) {
        long started = System.nanoTime();
        Instant time = options.time() != null ? options.time() : repo.clock().instant();
        for (Path p : options.paths()) {
            try {
                Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                throw new HavenException(ErrorCode.NOT_FOUND, "cannot back up " + display(p) + ": it does not exist");
            } catch (IOException e) {
                // an unreadable directory on the way: say so, not that the path does not exist
                throw new HavenException(ErrorCode.IO, "cannot back up " + display(p) + ": " + reason(e), e);
            }
        }
        Thread estimator = null;
        if (options.estimate()) {
            estimator = Thread.ofPlatform().daemon().name("haven-estimate").start(this::estimate);
        }
        writer = repo.newWriter();
        pool = newPool(options.threads());
        try {
            Tree parentRoot = null;
            if (parent != null) {
                // with --force too: every file is read again, and compared with it afterwards
                parentRoot = loadParentTree(BlobId.parse(parent.snapshot().tree()));
            }
            BlobId root = archiveRoots(parentRoot);
            writer.flush();
            // every pack is in an index file now: the local copy of the index may be updated
            repo.saveIndexCache();
            double seconds = (System.nanoTime() - started) / 1e9;
            Snapshot.Summary summary = new Snapshot.Summary(counters.filesNew.get(), counters.filesChanged.get(),
                    counters.filesUnmodified.get(), counters.dirs.get(), counters.bytesRead.get(),
                    writer.bytesStored(), counters.totalFiles.get(), counters.totalBytes.get(),
                    Math.round(seconds * 1000) / 1000.0, sortedMissed());
            Snapshot snap = new Snapshot(1, time.toString(), root.hex(),
                    options.paths().stream().map(Path::toString).toList(), options.host(), options.username(),
                    options.uid(), options.gid(), options.tags(), options.excludes(),
                    parent == null ? null : parent.id().hex(), options.programVersion(), summary);
            BlobId id = repo.saveSnapshot(snap);
            return new Result(id, snap);
        } finally {
            pool.shutdownNow();
            writer.close();
            if (estimator != null) {
                estimator.interrupt();
            }
        }
    }

    private Tree loadParentTree(BlobId id) {
        try {
            return repo.readTree(id);
        } catch (HavenException e) {
            // A damaged parent only costs speed: everything is read again.
            return null;
        }
    }

    // ------------------------------------------------------------------ roots

    /** A directory on the way from / to a backed-up path. */
    private static final class Parent {
        final Path path;
        final Map<String, Parent> dirs = new TreeMap<>();
        final Map<String, Path> leaves = new TreeMap<>();

        Parent(Path path) {
            this.path = path;
        }
    }

    private BlobId archiveRoots(Tree parentRoot) {
        List<Path> paths = new ArrayList<>(options.paths());
        Path fsRoot = paths.get(0).getRoot();
        if (paths.contains(fsRoot)) {
            CompletableFuture<Node> root = new CompletableFuture<>();
            pool.execute(new RootTask(root, fsRoot, "/".getBytes(java.nio.charset.StandardCharsets.US_ASCII), stat(fsRoot),
                    parentRoot));
            return join(root).subtree();
        }
        // drop paths inside other paths
        paths.removeIf(p -> paths.stream().anyMatch(q -> !q.equals(p) && p.startsWith(q)));
        Parent top = new Parent(fsRoot);
        for (Path p : paths) {
            Parent cur = top;
            for (int i = 0; i < p.getNameCount() - 1; i++) {
                Path sub = fsRoot.resolve(p.subpath(0, i + 1));
                // keyed by the name's bytes (shown): the text of two names that are not UTF-8 may be the same
                cur = cur.dirs.computeIfAbsent(display(p.getName(i)), k -> new Parent(sub));
            }
            cur.leaves.put(display(p.getFileName()), p);
        }
        return join(joinParent(top, parentRoot));
    }

    private static ForkJoinPool newPool(int threads) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return new ForkJoinPool(threads, fj -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(fj);
            // not getPoolIndex(): a worker gets its index when it starts, after this names it
            t.setName("haven-backup-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    private CompletableFuture<BlobId> joinParent(Parent dir, Tree parentTree) {
        List<CompletableFuture<Node>> children = new ArrayList<>();
        for (Map.Entry<String, Parent> e : dir.dirs.entrySet()) {
            Parent child = e.getValue();
            byte[] name = FileNames.bytes(child.path.getFileName());
            Node prev = parentTree == null ? null : parentTree.find(name);
            Tree prevTree = prev != null && prev.type() == NodeType.DIR ? loadParentTree(prev.subtree()) : null;
            // a directory on the way may be a symlink (/home -> var/home): record what it leads to
            FileStat st = statFollowing(child.path);
            children.add(joinParent(child, prevTree).thenApply(id -> node(child.path, name, st, NodeType.DIR,
                    List.of(), id, null, readXattrsQuietly(child.path))));
        }
        for (Path leaf : dir.leaves.values()) {
            byte[] name = FileNames.bytes(leaf.getFileName());
            Node prev = parentTree == null ? null : parentTree.find(name);
            CompletableFuture<Node> f = new CompletableFuture<>();
            pool.execute(new RootTask(f, leaf, name, prev));
            children.add(f);
        }
        return CompletableFuture.allOf(children.toArray(CompletableFuture[]::new)).thenApply(v -> writer.saveTree(
                new Tree(children.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).toList()).encode()));
    }

    private FileStat statFollowing(Path p) {
        try {
            return FileStat.ofFollowing(p);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot read " + p + ": " + reason(e), e);
        }
    }

    private FileStat stat(Path p) {
        try {
            return FileStat.of(p);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot read " + p + ": " + reason(e), e);
        }
    }

    // ------------------------------------------------------------------ walk

    /**
     * Handles one entry of a directory on the calling worker, putting its node (or nothing,
     * when it is missed or of an unknown kind) in {@code nodes[slot]}. A subdirectory and a
     * large changed file become tasks of their own that complete into {@code parent}.
     */
    private void visit(CountedCompleter<?> parent, Node[] nodes, int slot, Path path, byte[] name, Node prev,
            SecureDirectoryStream<Path> at) {
        FileStat st;
        try {
            st = at != null ? FileStat.of(at, path) : FileStat.of(path);
        } catch (IOException e) {
            miss(path, e);
            return;
        }
        NodeType type = st.type();
        if (type == null) {
            missed.add(new Snapshot.Missed(display(path), "unknown file type (mode " + Integer.toOctalString(st.mode()) + ")"));
            return;
        }
        switch (type) {
            case DIR -> {
                parent.addToPendingCount(1);
                new DirTask(parent, nodes, slot, path, name, st, prev, null).fork();
            }
            case FILE -> {
                counters.totalFiles.incrementAndGet();
                counters.totalBytes.addAndGet(st.size());
                if (prev != null && !options.force() && unchanged(prev, st)) {
                    counters.filesUnmodified.incrementAndGet();
                    counters.filesDone.incrementAndGet();
                    counters.bytesDone.addAndGet(st.size());
                    nodes[slot] = node(path, name, st, NodeType.FILE, prev.content(), null, null, prev.xattrs());
                } else if (st.size() >= FORK_BYTES) {
                    parent.addToPendingCount(1);
                    new FileTask(parent, nodes, slot, path, name, st, prev).fork();
                } else {
                    nodes[slot] = readNode(path, name, st, prev, at);
                }
            }
            case SYMLINK -> {
                try {
                    byte[] target = FileNames.bytes(Files.readSymbolicLink(path));
                    nodes[slot] = node(path, name, st, type, List.of(), null, target, List.of());
                } catch (IOException e) {
                    miss(path, e);
                }
            }
            case FIFO, CHAR_DEVICE, BLOCK_DEVICE, SOCKET -> nodes[slot] = node(path, name, st, type, List.of(), null, null, List.of());
        }
    }

    /**
     * A path given on the command line, or the file system root: one entry, completing a
     * future with its node (null when it is missed) or with the error of any task below it.
     */
    private final class RootTask extends CountedCompleter<Void> {
        private final CompletableFuture<Node> result;
        private final Path path;
        private final byte[] name;
        private final Node prev;
        private final FileStat fsRootStat;
        private final Tree fsRootPrevTree;
        private final Node[] node = new Node[1];

        /** A path below the root, examined like any directory entry. */
        RootTask(CompletableFuture<Node> result, Path path, byte[] name, Node prev) {
            this(result, path, name, prev, null, null);
        }

        /** The file system root: a directory whose parent-snapshot tree is the snapshot's root tree. */
        RootTask(CompletableFuture<Node> result, Path fsRoot, byte[] name, FileStat st, Tree prevTree) {
            this(result, fsRoot, name, null, st, prevTree);
        }

        private RootTask(CompletableFuture<Node> result, Path path, byte[] name, Node prev, FileStat fsRootStat,
                Tree fsRootPrevTree) {
            this.result = result;
            this.path = path;
            this.name = name;
            this.prev = prev;
            this.fsRootStat = fsRootStat;
            this.fsRootPrevTree = fsRootPrevTree;
        }

        @Override
        public void compute() {
            if (fsRootStat != null) {
                addToPendingCount(1);
                new DirTask(this, node, 0, path, name, fsRootStat, null, fsRootPrevTree).fork();
            } else {
                visit(this, node, 0, path, name, prev, null);
            }
            tryComplete();
        }

        @Override
        public void onCompletion(CountedCompleter<?> caller) {
            result.complete(node[0]);
        }

        @Override
        public boolean onExceptionalCompletion(Throwable ex, CountedCompleter<?> caller) {
            result.completeExceptionally(ex);
            return true;
        }
    }

    /**
     * A directory: lists, stats and handles its entries, then (when the last of its subtasks
     * is done, on that task's worker) stores its tree and puts its node in the parent's slot.
     */
    private final class DirTask extends CountedCompleter<Void> {
        private final Node[] into;
        private final int slot;
        private final Path dir;
        private final byte[] name;
        private final FileStat st;
        private final Node prev;
        private Tree prevTree;
        private Node[] nodes = new Node[0];
        private List<Xattr> xattrs = List.of();
        private boolean listingFailed;
        private boolean vanished;

        /** {@code prevTree}: the parent snapshot's listing when known, else loaded from {@code prev}. */
        DirTask(CountedCompleter<?> parent, Node[] into, int slot, Path dir, byte[] name, FileStat st, Node prev,
                Tree prevTree) {
            super(parent);
            this.into = into;
            this.slot = slot;
            this.dir = dir;
            this.name = name;
            this.st = st;
            this.prev = prev;
            this.prevTree = prevTree;
        }

        @Override
        public void compute() {
            counters.dirs.incrementAndGet();
            if (prevTree == null && prev != null && prev.type() == NodeType.DIR) {
                prevTree = loadParentTree(prev.subtree());
            }
            DirectoryStream<Path> ds = null;
            try {
                ds = Files.newDirectoryStream(dir);
            } catch (IOException e) {
                miss(dir, e);
                // one that vanished is left out; one that cannot be read is kept without its contents
                vanished = e instanceof NoSuchFileException;
            }
            try {
                // entries are examined and small files opened relative to the open directory
                // (fstatat, openat): the kernel resolves one name, not the whole path again
                visitAll(ds == null ? List.of() : list(ds), ds instanceof SecureDirectoryStream<Path> s ? s : null);
            } finally {
                if (ds != null) {
                    try {
                        ds.close();
                    } catch (IOException e) {
                        // a listing that was read to the end cannot lose anything on close
                    }
                }
            }
            // a directory that could not be listed is in 'missed' already: one entry says it
            xattrs = ds == null || listingFailed ? readXattrsOrNone(dir) : readXattrsQuietly(dir);
            tryComplete();
        }

        private List<Path> list(DirectoryStream<Path> ds) {
            List<Path> entries = new ArrayList<>();
            try {
                for (Path p : ds) {
                    entries.add(p);
                }
            } catch (java.nio.file.DirectoryIteratorException e) {
                miss(dir, e.getCause());
                listingFailed = true;
            }
            return entries;
        }

        private void visitAll(List<Path> entries, SecureDirectoryStream<Path> at) {
            byte[][] names = new byte[entries.size()][];
            Integer[] order = new Integer[entries.size()];
            for (int i = 0; i < order.length; i++) {
                names[i] = FileNames.bytes(entries.get(i).getFileName());
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, b) -> Tree.NAME_ORDER.compare(names[a], names[b]));
            nodes = new Node[order.length];
            for (int k = 0; k < order.length; k++) {
                Path p = entries.get(order[k]);
                if (!excludes.isEmpty() && excludes.matches(p, p.getFileName())) {
                    continue;
                }
                byte[] n = names[order[k]];
                visit(this, nodes, k, p, n, prevTree == null ? null : prevTree.find(n), at);
            }
        }

        @Override
        public void onCompletion(CountedCompleter<?> caller) {
            if (vanished) {
                counters.dirs.decrementAndGet();
                return;
            }
            List<Node> list = new ArrayList<>(nodes.length);
            for (Node n : nodes) {
                if (n != null) {
                    list.add(n);
                }
            }
            BlobId id = unchangedTree(list);
            if (id == null) {
                id = writer.saveTree(new Tree(list).encode());
            }
            prevTree = null;
            into[slot] = node(dir, name, st, NodeType.DIR, List.of(), id, null, xattrs);
        }

        /**
         * The parent snapshot's tree id when every entry equals its entry there (same names, all
         * encoded fields equal: the tree would encode to the same bytes), so an unchanged
         * directory costs no encoding, hashing or index lookup of its tree; else null.
         */
        private BlobId unchangedTree(List<Node> list) {
            if (prevTree == null || prev == null || prev.subtree() == null || prevTree.nodes().size() != list.size()) {
                return null;
            }
            List<Node> old = prevTree.nodes();
            for (int i = 0; i < list.size(); i++) {
                if (!list.get(i).equals(old.get(i))) {
                    return null;
                }
            }
            return writer.has(prev.subtree()) ? prev.subtree() : null;
        }
    }

    /** A large changed file, read by whichever worker takes the task. */
    private final class FileTask extends CountedCompleter<Void> {
        private final Node[] into;
        private final int slot;
        private final Path path;
        private final byte[] name;
        private final FileStat st;
        private final Node prev;

        FileTask(CountedCompleter<?> parent, Node[] into, int slot, Path path, byte[] name, FileStat st, Node prev) {
            super(parent);
            this.into = into;
            this.slot = slot;
            this.path = path;
            this.name = name;
            this.st = st;
            this.prev = prev;
        }

        @Override
        public void compute() {
            into[slot] = readNode(path, name, st, prev, null);
            tryComplete();
        }
    }

    /**
     * Reads a new, changed or (with --force) any file, opened in {@code at} when given, else by
     * its path; null (and the file listed as missed) when it cannot be read. {@code prev} is its
     * entry in the parent snapshot, or null.
     */
    private Node readNode(Path path, byte[] name, FileStat st, Node prev, SecureDirectoryStream<Path> at) {
        try {
            FileRead read = readFile(path, st.size(), at);
            if (prev == null) {
                counters.filesNew.incrementAndGet();
            } else if (sameMetadata(prev, st) && read.content().equals(prev.content())) {
                // read again although its metadata is as in the parent (--force, or the parent's chunks
                // cannot be reused: cold, evicted from a site cache, condemned), and found as it was
                counters.filesUnmodified.incrementAndGet();
            } else {
                counters.filesChanged.incrementAndGet();
            }
            // a file that shrank while it was read is stored as read: size = bytes in its chunks
            // (one that grew is read up to its lstat size, see readFile)
            FileStat asRead = read.bytes() == st.size() ? st : st.withSize(read.bytes());
            counters.totalBytes.addAndGet(read.bytes() - st.size());
            return node(path, name, asRead, NodeType.FILE, read.content(), null, null, read.xattrs());
        } catch (IOException e) {
            miss(path, e);
            // not in the snapshot: not in its totals either
            counters.totalFiles.decrementAndGet();
            counters.totalBytes.addAndGet(-st.size());
            return null;
        } finally {
            counters.filesDone.incrementAndGet();
        }
    }

    /** Size, mtime, ctime and inode as in the parent snapshot: the file is taken as unchanged. */
    private static boolean sameMetadata(Node prev, FileStat st) {
        return prev.type() == NodeType.FILE && prev.size() == st.size() && prev.mtimeSeconds() == st.mtimeSeconds()
                && prev.mtimeNanos() == st.mtimeNanos() && prev.ctimeSeconds() == st.ctimeSeconds()
                && prev.ctimeNanos() == st.ctimeNanos() && prev.inode() == st.ino();
    }

    private boolean unchanged(Node prev, FileStat st) {
        if (!sameMetadata(prev, st)) {
            return false;
        }
        for (BlobId id : prev.content()) {
            if (!writer.has(id)) {
                return false;
            }
        }
        return true;
    }

    /** What reading a file gave: its chunk ids, the bytes read, its extended attributes. */
    private record FileRead(List<BlobId> content, long bytes, List<Xattr> xattrs) {}

    /**
     * Reads, chunks and stores a file's content, and reads its extended attributes while it is
     * open. A file is read up to the size {@code lstat} gave (an empty one to its end): growth
     * after that is the next backup's, as its mtime will say.
     */
    private FileRead readFile(Path path, long expectedSize, SecureDirectoryStream<Path> at) throws IOException {
        List<BlobId> ids = new ArrayList<>((int) Math.min(1024, expectedSize / chunker.minSize() + 1));
        try (FileChannel ch = open(path, at)) {
            long bytes = streams.get().cut(ch, expectedSize > 0 ? expectedSize : -1, (buf, off, len) -> {
                BlobId id = repo.key().blobId(buf, off, len);
                counters.bytesAdded.addAndGet(writer.save(BlobType.DATA, id, buf, off, len));
                ids.add(id);
            }, n -> {
                counters.bytesRead.addAndGet(n);
                counters.bytesDone.addAndGet(n);
            });
            return new FileRead(ids, bytes, Xattrs.read(path, ch));
        }
    }

    /** Opens a file to read, never following a symlink that replaced it after it was examined. */
    private static FileChannel open(Path path, SecureDirectoryStream<Path> at) throws IOException {
        if (at != null) {
            var ch = at.newByteChannel(path.getFileName(), READ_NOFOLLOW);
            if (ch instanceof FileChannel fc) {
                return fc;
            }
            ch.close();
        }
        return FileChannel.open(path, READ_NOFOLLOW);
    }

    private static final java.util.Set<java.nio.file.OpenOption> READ_NOFOLLOW =
            java.util.Set.of(StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS);

    private Node node(Path path, byte[] name, FileStat st, NodeType type, List<BlobId> content, BlobId subtree,
            byte[] link, List<Xattr> xattrs) {
        return new Node(type, name, st.permissions(), st.uid(), st.gid(), owners.user(st.uid(), path),
                owners.group(st.gid(), path), st.mtimeSeconds(), st.mtimeNanos(), st.ctimeSeconds(), st.ctimeNanos(),
                st.ino(), st.dev(), st.nlink(), type == NodeType.FILE ? st.size() : 0, content, subtree, link,
                type == NodeType.CHAR_DEVICE || type == NodeType.BLOCK_DEVICE ? st.rdev() : 0, xattrs);
    }

    private List<Xattr> readXattrsQuietly(Path p) {
        try {
            return Xattrs.read(p);
        } catch (IOException e) {
            missed.add(new Snapshot.Missed(display(p), "extended attributes: " + reason(e)));
            return List.of();
        }
    }

    /** What was missed, by path (the workers add in no fixed order). */
    private List<Snapshot.Missed> sortedMissed() {
        synchronized (missed) {
            return missed.stream().sorted(java.util.Comparator.comparing(Snapshot.Missed::path)).toList();
        }
    }

    private static List<Xattr> readXattrsOrNone(Path p) {
        try {
            return Xattrs.read(p);
        } catch (IOException e) {
            return List.of();
        }
    }

    private void miss(Path p, IOException e) {
        missed.add(new Snapshot.Missed(display(p), reason(e)));
    }

    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "vanished during the backup";
        }
        return io.haven.core.IoReasons.of(e);
    }

    private static String display(Path p) {
        return Node.display(FileNames.bytes(p));
    }

    // ------------------------------------------------------------------ estimate

    private void estimate() {
        long files = 0;
        long bytes = 0;
        try {
            for (Path root : options.paths()) {
                try (var walk = Files.walk(root)) {
                    var it = walk.iterator();
                    while (it.hasNext()) {
                        if (Thread.currentThread().isInterrupted()) {
                            return;
                        }
                        Path p = it.next();
                        var a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class,
                                java.nio.file.LinkOption.NOFOLLOW_LINKS);
                        if (a.isRegularFile()) {
                            files++;
                            bytes += a.size();
                        }
                    }
                }
            }
            counters.estimatedFiles.set(files);
            counters.estimatedBytes.set(bytes);
        } catch (IOException | RuntimeException e) {
            // an estimate is a courtesy: without it progress shows no ETA
        }
    }
}
