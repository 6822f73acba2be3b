package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.crypto.ObjectHash;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A local, on-disk copy of a remote repository's metadata: index files, snapshots, keys and tree
 * packs. A backup reads every parent tree and a listing every snapshot; from S3 each would be a
 * request, from this cache it is a file read. Data packs are never cached (they are the bulk of
 * the repository).
 *
 * <p>Correctness does not depend on the cache. Every cached object is named by the SHA-256 of its
 * bytes (see docs/repository-format.md), so a cached copy whose hash does not match its name is
 * dropped and read again from the remote backend; objects are never rewritten, so a copy that
 * matches is current. Listings of a cached directory remove copies of objects the remote no longer
 * lists (deleted by prune), and {@link #retain} does the same for tree packs after the index is
 * read. The cache is a plain directory: deleting it at any time is safe. Several processes may
 * share it: files are written under a temporary name and renamed into place.
 *
 * <p>A failure of the cache itself (a full or read-only disk) never fails an operation: the
 * object is read from the remote backend and a warning is counted ({@link #failures()}).
 */
public final class CachingBackend implements Backend {
    /** The directories whose objects are cached. */
    static final List<String> CACHED = List.of("index", "snapshots", "keys", "tree");
    private static final String TMP = ".tmp-";

    private final Backend remote;
    private final Path dir;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    /** Cached files whose hash this process has checked (or written itself). */
    private final Set<String> verified = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Caches {@code remote}'s metadata under {@code dir} (created when needed). */
    public CachingBackend(Backend remote, Path dir) {
        this.remote = remote;
        this.dir = dir.toAbsolutePath().normalize();
    }

    /**
     * The cache directory of a repository: {@code root/<repository id>}. The id comes from the
     * repository's {@code config}, so caches of different repositories never mix.
     */
    public static CachingBackend forRepository(Backend remote, Path root, String repositoryId) {
        if (!repositoryId.matches("[0-9a-f]{8,128}")) {
            throw new HavenException(ErrorCode.CORRUPT, "the repository's id '" + repositoryId + "' is not hexadecimal");
        }
        return new CachingBackend(remote, root.resolve(repositoryId));
    }

    public Backend remote() {
        return remote;
    }

    public Path directory() {
        return dir;
    }

    /** Reads served from the cache. */
    public long hits() {
        return hits.get();
    }

    /** Reads of cacheable objects that went to the remote backend. */
    public long misses() {
        return misses.get();
    }

    /** Cache files that could not be written, read or removed (the operation went on without). */
    public long failures() {
        return failures.get();
    }

    static boolean cacheable(String name) {
        int slash = name.indexOf('/');
        return slash > 0 && CACHED.contains(name.substring(0, slash)) && !name.contains("..");
    }

    private Path file(String name) {
        return dir.resolve(name);
    }

    private static boolean matchesName(String name, byte[] data, int length) {
        String expected = name.substring(name.lastIndexOf('/') + 1);
        return expected.length() == 64 && ObjectHash.of(data, 0, length).hex().equals(expected);
    }

    @Override
    public boolean local() {
        return remote.local();
    }

    @Override
    public <T extends Backend> Optional<T> find(Class<T> type) {
        return type.isInstance(this) ? Optional.of(type.cast(this)) : remote.find(type);
    }

    @Override
    public String location() {
        return remote.location();
    }

    @Override
    public List<String> list(String directory) {
        List<String> names = remote.list(directory);
        String d = directory.endsWith("/") ? directory.substring(0, directory.length() - 1) : directory;
        if (d.isEmpty()) {
            for (String c : CACHED) {
                dropAllBut(c, names);
            }
        } else if (CACHED.contains(d)) {
            dropAllBut(d, names);
        }
        return names;
    }

    /** Removes cached tree packs that are not in {@code treePacks} (object names). */
    public void retain(String directory, Collection<String> names) {
        dropAllBut(directory, names);
    }

    private void dropAllBut(String directory, Collection<String> keep) {
        Path base = dir.resolve(directory);
        if (!Files.isDirectory(base)) {
            return;
        }
        Set<String> kept = keep instanceof Set<String> s ? s : new HashSet<>(keep);
        try (Stream<Path> files = Files.walk(base)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
                boolean stale = p.getFileName().toString().startsWith(TMP)
                        ? Files.getLastModifiedTime(p).toMillis() < System.currentTimeMillis() - 3_600_000
                        : !kept.contains(name);
                if (stale) {
                    verified.remove(name);
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            failures.incrementAndGet();
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        return remote.stat(name);
    }

    @Override
    public byte[] read(String name) {
        if (!cacheable(name)) {
            return remote.read(name);
        }
        byte[] cached = cached(name);
        if (cached != null) {
            hits.incrementAndGet();
            return cached;
        }
        misses.incrementAndGet();
        byte[] data = remote.read(name);
        if (matchesName(name, data, data.length)) {
            store(name, data, data.length);
        }
        return data;
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        if (!cacheable(name)) {
            return remote.read(name, offset, length);
        }
        if (verified.contains(name)) {
            byte[] part = cachedRange(name, offset, length);
            if (part != null) {
                hits.incrementAndGet();
                return part;
            }
        }
        byte[] whole = read(name);
        if (offset < 0 || length < 0 || offset + length > whole.length) {
            throw new HavenException(ErrorCode.CORRUPT, "cannot read " + length + " bytes at " + offset + " of " + name
                    + " at " + location() + ": the object has only " + whole.length + " bytes");
        }
        return Arrays.copyOfRange(whole, (int) offset, (int) offset + length);
    }

    /** A range of a verified cached file, or null when it cannot be read (then the caller reads it whole). */
    private byte[] cachedRange(String name, long offset, int length) {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file(name))) {
            if (offset < 0 || length < 0 || offset + length > ch.size()) {
                return null;
            }
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(length);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    return null;
                }
            }
            return buf.array();
        } catch (IOException e) {
            verified.remove(name);
            failures.incrementAndGet();
            return null;
        }
    }

    /** Whether {@code name} is served from the cache in this process. */
    public boolean isCached(String name) {
        return verified.contains(name);
    }

    /**
     * Drops the cached copy of {@code name}: the caller found it damaged after it was verified
     * (for example a blob failed authentication). The next read goes to the remote backend.
     */
    public void invalidate(String name) {
        verified.remove(name);
        failures.incrementAndGet();
        try {
            Files.deleteIfExists(file(name));
        } catch (IOException e) {
            // read again and found damaged again: the hash check drops it then
        }
    }

    /** The cached bytes when present and intact; a damaged copy is removed. */
    private byte[] cached(String name) {
        Path p = file(name);
        byte[] data;
        try {
            data = Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            failures.incrementAndGet();
            return null;
        }
        if (verified.contains(name) || matchesName(name, data, data.length)) {
            verified.add(name);
            return data;
        }
        failures.incrementAndGet();
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // the next read finds it damaged again and reads the remote copy again
        }
        return null;
    }

    private void store(String name, byte[] data, int length) {
        Path p = file(name);
        Path tmp = p.resolveSibling(TMP + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            Files.createDirectories(p.getParent());
            try (var out = Files.newOutputStream(tmp)) {
                out.write(data, 0, length);
            }
            try {
                Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING);
            }
            verified.add(name);
        } catch (IOException e) {
            failures.incrementAndGet();
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover temporary file is removed by the next listing after an hour
            }
        }
    }

    @Override
    public void write(String name, byte[] data, int length) {
        remote.write(name, data, length);
        if (cacheable(name) && matchesName(name, data, length)) {
            store(name, data, length);
        }
    }

    @Override
    public void delete(String name) {
        remote.delete(name);
        verified.remove(name);
        if (cacheable(name)) {
            try {
                Files.deleteIfExists(file(name));
            } catch (IOException e) {
                failures.incrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        remote.close();
    }
}
