package io.haven.repository.restorer;

import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.fs.FileNames;
import io.haven.repository.fs.PathPatterns;
import io.haven.repository.fs.Xattrs;
import io.haven.repository.index.Index;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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
 */
public final class Restorer {
    private static final int BLOCK = 4096;
    private static final byte[] ZEROS = new byte[BLOCK];

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

    /** What a restore did (or, for a dry run, would do). */
    public record Result(long files, long dirs, long symlinks, long others, long bytes, long hardlinks,
            List<String> warnings, double durationSeconds) {}

    /** One planned entry: where it goes, what it is, and its path in the snapshot. */
    private record Entry(Path path, Node node, String snapshotPath) {}

    /** The directory node restored as the target itself (SNAPSHOT:PATH of a directory), or null. */
    private Node targetNode;

    public Result run(Repository.SnapshotEntry snapshot) {
        long started = System.nanoTime();
        List<Entry> entries = plan(snapshot);
        long files = 0;
        long bytes = 0;
        long dirs = 0;
        long links = 0;
        long others = 0;
        long needed = 0;
        Set<List<Long>> linkGroups = new java.util.HashSet<>();
        for (Entry e : entries) {
            switch (e.node().type()) {
                case FILE -> {
                    files++;
                    bytes += e.node().size();
                    Node n = e.node();
                    // hard links share their blocks: count a group once
                    if (n.nlink() <= 1 || linkGroups.add(List.of(n.device(), n.inode()))) {
                        needed += allocated(n);
                    }
                }
                case DIR -> dirs++;
                case SYMLINK -> links++;
                default -> others++;
            }
        }
        counters.totalFiles = files;
        counters.totalBytes = bytes;
        checkTarget(needed);
        if (options.dryRun()) {
            return new Result(files, dirs, links, others, bytes, 0, List.copyOf(warnings), seconds(started));
        }
        long hardlinks = write(entries);
        return new Result(files, dirs, links, others, bytes, hardlinks, List.copyOf(warnings), seconds(started));
    }

    /**
     * The data blobs this restore will read (its path, includes and excludes applied), without
     * writing anything: what must be readable, for example thawed from a cold tier, first.
     */
    public java.util.Set<BlobId> dataNeeded(Repository.SnapshotEntry snapshot) {
        java.util.Set<BlobId> out = new java.util.HashSet<>();
        for (Entry e : plan(snapshot)) {
            if (e.node().type() == NodeType.FILE) {
                out.addAll(e.node().content());
            }
        }
        targetNode = null;
        return out;
    }

    private static double seconds(long started) {
        return Math.round((System.nanoTime() - started) / 1e6) / 1000.0;
    }

    // ------------------------------------------------------------------ plan

    private List<Entry> plan(Repository.SnapshotEntry snapshot) {
        BlobId rootTree = BlobId.parse(snapshot.snapshot().tree());
        String sub = options.subpath();
        List<byte[]> parts = new ArrayList<>();
        for (String s : sub.split("/")) {
            if (!s.isEmpty()) {
                parts.add(s.getBytes(StandardCharsets.UTF_8));
            }
        }
        Tree tree = repo.loadTree(rootTree);
        Node node = null;
        StringBuilder at = new StringBuilder();
        for (byte[] part : parts) {
            at.append('/').append(Node.display(part));
            node = tree == null ? null : tree.find(part);
            if (node == null) {
                throw new HavenException(ErrorCode.NOT_FOUND, "path " + at + " is not in snapshot " + snapshot.id().shortHex());
            }
            tree = node.type() == NodeType.DIR ? repo.loadTree(node.subtree()) : null;
        }
        PathPatterns includes = new PathPatterns(options.includes());
        PathPatterns excludes = new PathPatterns(options.excludes());
        List<Entry> out = new ArrayList<>();
        String base = parts.isEmpty() ? "" : at.toString();
        if (node != null && node.type() != NodeType.DIR) {
            // a single entry: restore it by its name into the target
            out.add(new Entry(FileNames.resolve(options.target(), node.name()), node, base));
            return out;
        }
        if (node != null) {
            targetNode = node;
        }
        walk(tree, options.target(), base, FileNames.bytes(Path.of(base.isEmpty() ? "/" : base)), includes, excludes, false, out);
        return out;
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
            boolean filtered = !excludes.isEmpty() || (!included && !includes.isEmpty());
            Path matchPath = filtered ? FileNames.path(snapBytes) : null;
            Path matchName = filtered ? FileNames.path(n.name()) : null;
            if (!excludes.isEmpty() && excludes.matches(matchPath, matchName)) {
                continue;
            }
            boolean selected = included || includes.isEmpty() || includes.matches(matchPath, matchName);
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
     * Bytes a file will take on disk: chunks that compressed more than 1000-fold (long runs of
     * one byte, in practice zeros) are counted as holes.
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
            if (needed > free) {
                throw new HavenException(ErrorCode.TARGET_UNUSABLE, "not enough room in " + t + ": the restore needs "
                        + DataSize.format(needed) + ", " + DataSize.format(free) + " is free");
            }
            if (!options.dryRun()) {
                Files.createDirectories(t);
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.TARGET_UNUSABLE, "restore target " + t + " is not usable: " + reason(e), e);
        }
    }

    // ------------------------------------------------------------------ write

    private long write(List<Entry> entries) {
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
        for (Entry d : dirs) {
            makeDir(d.path());
        }
        // hard links: the first entry of a group gets the content, the others link to it
        Map<List<Long>, Path> firstOfGroup = new HashMap<>();
        List<Entry[]> linkLater = new ArrayList<>();
        List<Entry> toWrite = new ArrayList<>(files.size());
        Map<Path, Entry> byPath = new HashMap<>();
        for (Entry f : files) {
            Node n = f.node();
            if (n.nlink() > 1) {
                List<Long> key = List.of(n.device(), n.inode());
                Path first = firstOfGroup.putIfAbsent(key, f.path());
                if (first != null) {
                    linkLater.add(new Entry[] {f, byPath.get(first)});
                    continue;
                }
            }
            byPath.put(f.path(), f);
            toWrite.add(f);
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
        ExecutorService pool = Executors.newFixedThreadPool(options.threads(),
                Thread.ofPlatform().daemon().name("haven-restore-", 0).factory());
        try {
            List<Future<?>> futures = new ArrayList<>(toWrite.size());
            for (Entry f : toWrite) {
                futures.add(pool.submit(() -> {
                    writeFile(f);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "restore interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new HavenException(ErrorCode.IO, "restore failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        for (Entry[] pair : linkLater) {
            link(pair[0], pair[1]);
        }
        try {
            for (Entry o : others) {
                writeSpecial(o);
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
                setMetadata(d.path(), d.node());
            } catch (IOException e) {
                throw fail(d, e);
            }
        }
        return linkLater.size();
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
            if (!root) {
                int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
                if ((mode & 0700) != 0700) {
                    Files.setAttribute(p, "unix:mode", mode | 0700, LinkOption.NOFOLLOW_LINKS);
                }
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot create directory " + display(p) + ": " + reason(e), e);
        }
    }

    private void writeFile(Entry e) {
        Node n = e.node();
        Path p = e.path();
        try {
            try (FileChannel ch = openForWrite(p)) {
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
                if (written < pos) {
                    // the file ends in a hole: one byte at the end sets the length
                    ch.write(ByteBuffer.wrap(new byte[1]), pos - 1);
                }
            }
            setMetadata(p, n);
            counters.filesDone.incrementAndGet();
        } catch (IOException ex) {
            throw fail(e, ex);
        } catch (HavenException ex) {
            if (ex.code() == ErrorCode.CORRUPT) {
                throw new HavenException(ErrorCode.CORRUPT, "restore of " + e.snapshotPath() + " failed: " + ex.getMessage(), ex);
            }
            throw ex;
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

    /** Writes the non-zero 4 KiB blocks of {@code data} at {@code pos}; returns the end of the last write. */
    private static long writeSparse(FileChannel ch, byte[] data, long pos, long writtenEnd) throws IOException {
        int i = 0;
        while (i < data.length) {
            // skip zero blocks
            while (i < data.length && isZero(data, i)) {
                i += BLOCK;
            }
            if (i >= data.length) {
                break;
            }
            int start = i;
            while (i < data.length && !isZero(data, i)) {
                i += BLOCK;
            }
            int end = Math.min(i, data.length);
            ByteBuffer buf = ByteBuffer.wrap(data, start, end - start);
            long at = pos + start;
            while (buf.hasRemaining()) {
                at += ch.write(buf, at);
            }
            writtenEnd = pos + end;
        }
        return writtenEnd;
    }

    private static boolean isZero(byte[] data, int off) {
        int len = Math.min(BLOCK, data.length - off);
        return Arrays.mismatch(data, off, off + len, ZEROS, 0, len) == -1;
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
            long rdev = n.rdev();
            long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
            long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
            cmd.add(Long.toString(major));
            cmd.add(Long.toString(minor));
        }
        run(cmd);
        Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
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
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static boolean isRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue() == 0;
        } catch (IOException | RuntimeException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
