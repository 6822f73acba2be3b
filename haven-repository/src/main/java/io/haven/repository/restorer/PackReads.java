package io.haven.repository.restorer;

import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.index.Index;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Reads the blobs a restore needs from a remote repository in few, large requests. Knowing every
 * blob the restore will read, it groups the needed blobs of each pack into windows (neighbours
 * less than {@link #MAX_GAP} apart, up to {@link #MAX_WINDOW} bytes) and fetches a window with one
 * ranged read the first time one of its blobs is asked for. A window stays in memory until all
 * the blob reads planned in it are done, or until the windows held pass {@link #MAX_HELD} bytes (the
 * oldest goes first; a later read of it fetches it again).
 *
 * <p>On local disk one read per blob is as fast (the page cache does the grouping), so the
 * restorer uses this only for remote backends. Every blob is still authenticated by
 * {@link Repository#openBlob}.
 */
final class PackReads {
    static final int MAX_GAP = 256 << 10;
    static final int MAX_WINDOW = 8 << 20;
    static final long MAX_HELD = 64L << 20;

    /** One planned window of a pack: its byte range and how many blob reads it will serve. */
    private static final class Window {
        final BlobId pack;
        final String packName;
        final long start;
        final int length;
        int usesLeft;

        Window(BlobId pack, String packName, long start, int length) {
            this.pack = pack;
            this.packName = packName;
            this.start = start;
            this.length = length;
        }
    }

    private final Repository repo;
    /** Per pack: windows sorted by start. */
    private final Map<BlobId, Window[]> windows = new HashMap<>();
    /** Fetched (or being fetched) windows, oldest first. */
    private final LinkedHashMap<Window, CompletableFuture<byte[]>> held = new LinkedHashMap<>();
    private long heldBytes;
    private long requests;

    /**
     * Plans the windows for {@code reads}: every blob read the restore will make, in any order,
     * repeated as often as it will be read.
     */
    PackReads(Repository repo, List<Index.Location> reads) {
        this.repo = repo;
        Map<BlobId, List<Index.Location>> byPack = new HashMap<>();
        for (Index.Location l : reads) {
            byPack.computeIfAbsent(l.pack(), k -> new ArrayList<>()).add(l);
        }
        for (Map.Entry<BlobId, List<Index.Location>> e : byPack.entrySet()) {
            List<Index.Location> ls = e.getValue();
            ls.sort((a, b) -> Integer.compare(a.offset(), b.offset()));
            List<Window> ws = new ArrayList<>();
            String packName = ls.get(0).packName();
            int i = 0;
            while (i < ls.size()) {
                long start = ls.get(i).offset();
                long end = start + ls.get(i).length();
                int uses = 1;
                int j = i + 1;
                while (j < ls.size()) {
                    Index.Location n = ls.get(j);
                    long nEnd = Math.max(end, (long) n.offset() + n.length());
                    if (n.offset() - end > MAX_GAP || nEnd - start > MAX_WINDOW) {
                        break;
                    }
                    end = nEnd;
                    uses++;
                    j++;
                }
                Window w = new Window(e.getKey(), packName, start, (int) (end - start));
                w.usesLeft = uses;
                ws.add(w);
                i = j;
            }
            windows.put(e.getKey(), ws.toArray(Window[]::new));
        }
    }

    /** Ranged reads made so far (for tests and the measurement in docs/performance.md). */
    synchronized long requests() {
        return requests;
    }

    /**
     * The payload of blob {@code id} at {@code loc}, authenticated. When its pack is gone (a prune
     * that ran meanwhile moved the blob), from where the index files now put it.
     */
    byte[] load(BlobId id, Index.Location loc) {
        Window w = find(loc);
        if (w == null) {
            return repo.loadBlob(id, loc);
        }
        try {
            return load(id, loc, w);
        } catch (io.haven.core.HavenException e) {
            if (e.code() != io.haven.core.ErrorCode.NOT_FOUND) {
                throw e;
            }
            return repo.loadMovedBlob(id, loc, e);
        }
    }

    private byte[] load(BlobId id, Index.Location loc, Window w) {
        CompletableFuture<byte[]> mine = null;
        CompletableFuture<byte[]> f;
        synchronized (this) {
            f = held.get(w);
            if (f == null) {
                f = mine = new CompletableFuture<>();
                held.put(w, f);
                heldBytes += w.length;
                requests++;
                evictOverLimit(w);
            }
        }
        if (mine != null) {
            try {
                mine.complete(repo.backend().read(w.packName, w.start, w.length));
            } catch (Throwable e) {
                // also an Error (out of memory for a window): the threads waiting on it must not hang
                synchronized (this) {
                    if (held.remove(w, mine)) {
                        heldBytes -= w.length;
                    }
                }
                mine.completeExceptionally(e);
                throw e;
            }
        }
        byte[] bytes;
        try {
            bytes = f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.haven.core.HavenException(io.haven.core.ErrorCode.IO, "restore interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
        synchronized (this) {
            if (--w.usesLeft <= 0 && held.remove(w, f)) {
                heldBytes -= w.length;
            }
        }
        return repo.openBlob(id, loc, bytes, (int) (loc.offset() - w.start));
    }

    private void evictOverLimit(Window keep) {
        var it = held.entrySet().iterator();
        while (heldBytes > MAX_HELD && it.hasNext()) {
            var e = it.next();
            if (e.getKey() != keep && e.getValue().isDone()) {
                heldBytes -= e.getKey().length;
                it.remove();
            }
        }
    }

    private Window find(Index.Location loc) {
        Window[] ws = windows.get(loc.pack());
        if (ws == null) {
            return null;
        }
        int lo = 0;
        int hi = ws.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Window w = ws[mid];
            if (loc.offset() < w.start) {
                hi = mid - 1;
            } else if (loc.offset() >= w.start + w.length) {
                lo = mid + 1;
            } else {
                return loc.offset() + (long) loc.length() <= w.start + w.length ? w : null;
            }
        }
        return null;
    }
}
