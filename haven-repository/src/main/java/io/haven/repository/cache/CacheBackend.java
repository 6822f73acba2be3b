package io.haven.repository.cache;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A site cache: a repository on local disk that shares the main repository's key, in front of
 * it. Backups write here at LAN speed; {@link CacheSync} uploads to the main repository. Reads
 * come from the cache when it holds the object and from the main repository otherwise (after
 * eviction), so restores need not know which holds what. Listings are the cache's own.
 *
 * <p>When the cache is over its size limit, or a write finds the disk full, it evicts data packs
 * the main repository holds ({@link SyncState#packSafe}), least recently used first (a read
 * touches the file's time). It never evicts anything else: not data that is not uploaded yet,
 * and not trees, index files or snapshots.
 */
public final class CacheBackend implements Backend {
    private final Backend local;
    private final Path dir;
    private final Supplier<Backend> mainSupplier;
    private final SyncState state;
    private final long maxSize;
    private volatile Backend main;
    private final Set<String> touched = ConcurrentHashMap.newKeySet();
    /** Bytes the cache takes, as this process last counted them plus what it wrote since; -1 before the first count. */
    private final java.util.concurrent.atomic.AtomicLong usedEstimate = new java.util.concurrent.atomic.AtomicLong(-1);

    /**
     * @param local the cache's own objects, stored in {@code dir}
     * @param main opens the main repository's backend when a read first misses the cache
     * @param maxSize the size limit in bytes, or 0 for none
     */
    public CacheBackend(Backend local, Path dir, Supplier<Backend> main, SyncState state, long maxSize) {
        this.local = local;
        this.dir = dir;
        this.mainSupplier = main;
        this.state = state;
        this.maxSize = maxSize;
    }

    public Backend localBackend() {
        return local;
    }

    public Path directory() {
        return dir;
    }

    public SyncState state() {
        return state;
    }

    public long maxSize() {
        return maxSize;
    }

    /** The main repository's backend (opened on first call). */
    public Backend main() {
        Backend m = main;
        if (m == null) {
            synchronized (this) {
                m = main;
                if (m == null) {
                    m = mainSupplier.get();
                    main = m;
                }
            }
        }
        return m;
    }

    @Override
    public String location() {
        return local.location();
    }

    @Override
    public boolean local() {
        return true;
    }

    /**
     * The cache's own objects, plus (for data and tree packs) the evicted packs it knows the main
     * repository holds, so that check and the index see every pack the cache's snapshots use.
     */
    @Override
    public List<String> list(String directory) {
        List<String> names = local.list(directory);
        String d = directory.endsWith("/") ? directory.substring(0, directory.length() - 1) : directory;
        if (d.isEmpty() || d.equals("data") || d.equals("tree") || d.startsWith("data/") || d.startsWith("tree/")) {
            java.util.Set<String> all = new java.util.LinkedHashSet<>(names);
            for (String p : state.packs()) {
                if (d.isEmpty() || p.startsWith(d + "/")) {
                    all.add(p);
                }
            }
            return new ArrayList<>(all);
        }
        return names;
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        Optional<ObjectInfo> i = local.stat(name);
        return i.isPresent() ? i : main().stat(name);
    }

    @Override
    public byte[] read(String name) {
        try {
            byte[] b = local.read(name);
            touch(name);
            return b;
        } catch (HavenException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
            return main().read(name);
        }
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        try {
            byte[] b = local.read(name, offset, length);
            touch(name);
            return b;
        } catch (HavenException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
            return main().read(name, offset, length);
        }
    }

    /** Marks a data pack as used now, once per process, for least-recently-used eviction. */
    private void touch(String name) {
        if (name.startsWith("data/") && touched.add(name)) {
            try {
                Files.setLastModifiedTime(dir.resolve(name), FileTime.fromMillis(System.currentTimeMillis()));
            } catch (IOException | RuntimeException e) {
                // eviction order is a hint; a read-only cache still serves reads
            }
        }
    }

    @Override
    public void write(String name, byte[] data, int length) {
        try {
            local.write(name, data, length);
        } catch (HavenException e) {
            if (!diskFull(e)) {
                throw e;
            }
            long freed = evict(usedBytes() - Math.max(0, length * 2L));
            try {
                local.write(name, data, length);
            } catch (HavenException again) {
                if (!diskFull(again)) {
                    throw again;
                }
                throw new HavenException(ErrorCode.IO, "the cache at " + dir + " is full: it freed " + io.haven.core.DataSize.format(freed)
                        + " of data already in the main repository and still has no room for " + name
                        + ". Run 'haven cache sync' so that more of it is safe in the main repository, or give the cache more space."
                        + " Nothing was lost; the backup can be run again.", again);
            }
        }
        if (maxSize > 0 && name.startsWith("data/")) {
            // count the directory once, then keep the sum up to date: not a listing per pack written
            if (usedEstimate.get() < 0) {
                usedEstimate.set(usedBytes());   // includes what was just written
            } else {
                usedEstimate.addAndGet(length);
            }
            if (usedEstimate.get() > maxSize) {
                evictOverLimit();
            }
        }
    }

    private static boolean diskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("No space left") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void delete(String name) {
        local.delete(name);
    }

    /** Evicts until the cache is within its limit (nothing when it has none). Returns the bytes freed. */
    public long evictOverLimit() {
        return maxSize > 0 ? evict(maxSize) : 0;
    }

    /** Bytes the cache's objects take. */
    public long usedBytes() {
        long total = 0;
        for (String n : local.list("")) {
            total += local.stat(n).map(ObjectInfo::size).orElse(0L);
        }
        return total;
    }

    /**
     * Deletes data packs the main repository holds, least recently used first, until the cache
     * takes at most {@code target} bytes or nothing evictable is left. Returns the bytes freed.
     */
    public synchronized long evict(long target) {
        record Candidate(String name, long size, long used) {}
        long total = 0;
        List<Candidate> candidates = new ArrayList<>();
        for (String n : local.list("")) {
            Optional<ObjectInfo> i = local.stat(n);
            if (i.isEmpty()) {
                continue;
            }
            total += i.get().size();
            if (n.startsWith("data/") && state.packSafe(n)) {
                candidates.add(new Candidate(n, i.get().size(), i.get().modified().toEpochMilli()));
            }
        }
        candidates.sort(Comparator.comparingLong(Candidate::used).thenComparing(Candidate::name));
        long freed = 0;
        for (Candidate c : candidates) {
            if (total - freed <= target) {
                break;
            }
            local.delete(c.name());
            freed += c.size();
        }
        usedEstimate.set(total - freed);
        return freed;
    }

    @Override
    public void close() {
        try {
            local.close();
        } finally {
            Backend m = main;
            if (m != null) {
                m.close();
            }
        }
    }
}
