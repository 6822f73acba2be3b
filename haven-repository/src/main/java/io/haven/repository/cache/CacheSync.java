package io.haven.repository.cache;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.WriterRegistration;
import io.haven.repository.backend.Backend;
import io.haven.repository.index.Index;
import io.haven.repository.index.PackRecord;
import io.haven.repository.maintenance.Reachable;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Uploads a cache's snapshots to its main repository, snapshot by snapshot, oldest first. For
 * each snapshot not in the main repository and not synced before:
 *
 * <ol>
 *   <li>every cache pack holding a blob of the snapshot that the main repository lacks (or holds
 *       only in packs a prune condemned) is uploaded whole, unless the main repository has the
 *       pack already (an earlier, interrupted sync);
 *   <li>an index file naming those packs is written to the main repository;
 *   <li>then the snapshot object itself.
 * </ol>
 *
 * So the main repository never holds a snapshot whose data it lacks, and a sync killed at any
 * point leaves at worst unindexed packs there, which the next sync indexes (or the main
 * repository's prune removes). The sync registers as a writer in the main repository, so a prune
 * running there waits for it instead of deleting its packs. A snapshot synced once is never
 * uploaded again, even if the main repository forgot it since.
 */
public final class CacheSync {
    /** What a sync did. */
    public record Result(int snapshotsSynced, int snapshotsAlreadyThere, long packsUploaded, long bytesUploaded,
            int indexFiles, long bytesEvicted, double seconds) {
        public double bytesPerSecond() {
            return seconds > 0 ? bytesUploaded / seconds : 0;
        }
    }

    private final Repository cache;
    private final CacheBackend cacheBackend;
    private final Repository main;
    private final RateLimiter limiter;
    private final String host;
    private final Consumer<String> progress;
    private long packsUploaded;
    private long bytesUploaded;
    private int indexFiles;

    /**
     * @param cache the cache repository, opened over its {@link CacheBackend}
     * @param mainBackend the main repository's backend
     * @param limiter caps the upload rate, or null
     */
    public CacheSync(Repository cache, Backend mainBackend, RateLimiter limiter, String host, Consumer<String> progress) {
        if (!(cache.backend() instanceof CacheBackend cb)) {
            throw new HavenException(ErrorCode.USAGE, "the repository at " + cache.backend().location() + " is not a cache");
        }
        this.cache = cache;
        this.cacheBackend = cb;
        this.main = cache.withBackend(mainBackend);
        this.limiter = limiter;
        this.host = host;
        this.progress = progress;
    }

    public Result run() {
        long started = System.nanoTime();
        SyncState state = cacheBackend.state();
        int synced = 0;
        int there = 0;
        checkSameRepository();
        try (WriterRegistration reg = main.register("sync", host)) {
            Index mainIndex = main.index();
            Set<String> condemned = new HashSet<>();
            for (Repository.CondemnedEntry c : main.condemnedSets()) {
                condemned.addAll(c.set().packs());
                condemned.addAll(c.set().orphans());
            }
            Set<String> mainSnapshots = new HashSet<>(main.backend().list("snapshots"));
            cache.reloadIndex();
            Index cacheIndex = cache.index();
            int[][] byPack = null;
            List<Repository.SnapshotEntry> todo = new ArrayList<>();
            for (Repository.SnapshotEntry s : cache.snapshots()) {
                String id = s.id().hex();
                if (mainSnapshots.contains("snapshots/" + id)) {
                    state.snapshot(id);
                    there++;
                } else if (!state.snapshotSynced(id)) {
                    todo.add(s);
                }
            }
            if (!cache.unreadableSnapshots().isEmpty()) {
                throw new HavenException(ErrorCode.CORRUPT, "cannot sync: a snapshot in the cache cannot be read ("
                        + cache.unreadableSnapshots().get(0) + "); run 'haven check' on the cache");
            }
            progress.accept(todo.size() + " snapshot(s) to upload, " + there + " already in the main repository");
            for (Repository.SnapshotEntry s : todo) {
                if (byPack == null) {
                    byPack = cacheIndex.entriesByPack();
                }
                syncOne(s, cacheIndex, byPack, mainIndex, condemned, state, reg);
                synced++;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "sync interrupted; run it again to continue");
        }
        long evicted = cacheBackend.evictOverLimit();
        return new Result(synced, there, packsUploaded, bytesUploaded, indexFiles, evicted, (System.nanoTime() - started) / 1e9);
    }

    /** The main repository must be the one the cache was made for (same id): never upload elsewhere. */
    private void checkSameRepository() {
        io.haven.repository.Config mc;
        try {
            mc = io.haven.repository.Json.read(main.backend().read("config"), io.haven.repository.Config.class, "repository config");
        } catch (HavenException e) {
            throw new HavenException(e.code() == ErrorCode.NOT_FOUND ? ErrorCode.REPOSITORY_NOT_FOUND : e.code(),
                    "the cache's main repository " + main.backend().location() + " cannot be read: " + e.getMessage(), e);
        }
        if (!mc.id().equals(cache.config().id())) {
            throw new HavenException(ErrorCode.USAGE, "the repository at " + main.backend().location() + " (id "
                    + mc.id().substring(0, 8) + ") is not the one this cache was made for (id " + cache.config().id().substring(0, 8)
                    + "); nothing was uploaded");
        }
    }

    private void syncOne(Repository.SnapshotEntry s, Index cacheIndex, int[][] byPack, Index mainIndex, Set<String> condemned,
            SyncState state, WriterRegistration reg) throws InterruptedException {
        String sid = s.id().shortHex();
        BitSet used = new BitSet(cacheIndex.entryCount());
        Reachable.mark(cache, cacheIndex, used, BlobId.parse(s.snapshot().tree()), (what, id) -> new HavenException(
                ErrorCode.CORRUPT, "cannot sync snapshot " + sid + ": it needs " + what + " " + id.shortHex()
                        + ", which the cache's index lacks; run 'haven check' on the cache"));
        BitSet packs = new BitSet(cacheIndex.packCount());
        BitSet all = new BitSet(cacheIndex.packCount());
        for (int e = used.nextSetBit(0); e >= 0; e = used.nextSetBit(e + 1)) {
            all.set(cacheIndex.entryPack(e));
            if (!mainIndex.containsUsable(cacheIndex.entry(e).id())) {
                packs.set(cacheIndex.entryPack(e));
            }
        }
        // packs the main repository already indexes under the same name are safe to evict here
        for (int p = all.nextSetBit(0); p >= 0; p = all.nextSetBit(p + 1)) {
            String name = cacheIndex.packName(p);
            int there = mainIndex.packNumber(cacheIndex.packId(p));
            if (!packs.get(p) && there >= 0 && !mainIndex.isCondemned(there) && !condemned.contains(name)) {
                state.pack(name);
            }
        }
        List<PackRecord> records = new ArrayList<>();
        int n = packs.cardinality();
        int done = 0;
        for (int p = packs.nextSetBit(0); p >= 0; p = packs.nextSetBit(p + 1)) {
            String name = cacheIndex.packName(p);
            if (condemned.contains(name)) {
                // a prune there is deleting this very pack (an orphan of an interrupted sync, or unused): do not rely on it
                throw new HavenException(ErrorCode.BUSY, "a prune of the main repository is removing pack " + name
                        + ", which snapshot " + sid + " needs; run 'haven cache sync' again when that prune has finished"
                        + " (it uploads the pack again)");
            }
            if (main.backend().stat(name).isEmpty()) {
                byte[] bytes = cacheBackend.localBackend().read(name);
                upload(name, bytes);
                packsUploaded++;
            }
            records.add(cacheIndex.packRecord(p, byPack[p]));
            done++;
            progress.accept("snapshot " + sid + ": " + done + " of " + n + " pack(s), "
                    + io.haven.core.DataSize.format(bytesUploaded) + " uploaded");
        }
        if (!records.isEmpty()) {
            reg.checkNotStalled();
            String indexName = main.saveIndexFile(records);
            indexFiles++;
            for (PackRecord r : records) {
                mainIndex.add(r);
                // indexed there now, so no prune of the main repository takes it for an orphan: the cache may evict it
                state.pack(r.objectName());
            }
            progress.accept("snapshot " + sid + ": index " + indexName.substring(6, 14) + " written");
        }
        reg.checkNotStalled();
        String name = "snapshots/" + s.id().hex();
        upload(name, cacheBackend.localBackend().read(name));
        cacheBackend.state().snapshot(s.id().hex());
        progress.accept("snapshot " + sid + " is in the main repository");
    }

    private void upload(String name, byte[] bytes) throws InterruptedException {
        if (limiter != null) {
            limiter.acquire(bytes.length);
        }
        main.backend().write(name, bytes);
        bytesUploaded += bytes.length;
    }
}
