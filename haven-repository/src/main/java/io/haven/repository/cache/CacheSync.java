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
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
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
 *
 * <p>Then, if evicting what is safe leaves the cache over its limit, the sync <em>makes room</em>
 * ({@code makeRoom}): it uploads cache packs whose every blob the main repository already holds
 * under other pack names, and indexes them there, so that they are safe there by name and can be
 * evicted. Such packs come from a cache smaller than its data: a backup stores again the blobs of
 * evicted packs (new snapshots must not rely on a pack the main repository may drop), and the
 * sync of that snapshot finds nothing to upload. Without this they could never be evicted, since
 * the cache's reads fall back to the main repository by pack name; the cache would stay full for
 * good.
 */
public final class CacheSync {
    /**
     * What a sync did.
     *
     * @param packsUploaded every pack uploaded, including {@code packsUploadedForRoom}
     * @param packsUploadedForRoom packs whose blobs the main repository held under other names, uploaded only so that
     *     the cache could evict them ({@code makeRoom})
     * @param bytesEvicted bytes freed in the cache, including the unindexed packs removed
     * @param unindexedPacksRemoved packs no index file named, left by failed backups, removed to make room
     */
    public record Result(int snapshotsSynced, int snapshotsAlreadyThere, long packsUploaded, long bytesUploaded,
            int indexFiles, long bytesEvicted, double seconds, long packsUploadedForRoom, long unindexedPacksRemoved) {
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
    private long packsUploadedForRoom;
    private long unindexedPacksRemoved;
    private long bytesEvicted;
    /** Packs uploaded to make room are indexed in the main repository in groups of this many, each group then evicted. */
    static final int ROOM_GROUP = 32;

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
            makeRoom(cacheIndex, mainIndex, condemned, state, reg);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "sync interrupted; run it again to continue");
        }
        bytesEvicted += cacheBackend.evictOverLimit();
        return new Result(synced, there, packsUploaded, bytesUploaded, indexFiles, bytesEvicted, (System.nanoTime() - started) / 1e9,
                packsUploadedForRoom, unindexedPacksRemoved);
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
        try {
            // an upload that returned after the limit may have landed after a prune there took this sync for dead
            reg.checkNotStalled();
        } catch (HavenException e) {
            try {
                main.backend().delete(name);
            } catch (RuntimeException x) {
                e.addSuppressed(x);
            }
            throw e;
        }
        cacheBackend.state().snapshot(s.id().hex());
        progress.accept("snapshot " + sid + " is in the main repository");
    }

    /**
     * When the cache is still over its limit after evicting every pack that is safe, uploads
     * cache data packs that the main repository holds only under other names, least recently
     * used first, until evicting them would bring the cache within its limit; indexes them
     * there, records them safe and evicts them. A candidate is a data pack the cache holds and
     * indexes, not yet safe, whose every blob the main repository holds usable (in a pack no
     * prune condemned). So no data the main repository lacks is uploaded here (that is a
     * snapshot's sync, which writes the snapshot last), a backup still running is not relied
     * upon (its packs are not indexed until it flushes), and nothing is uploaded when the cache
     * has room: a cache that deduplicates against another host's uploads costs no bandwidth.
     *
     * <p>The safety rules are those of a snapshot's packs: a pack the main repository has by
     * name but a prune there condemned (an orphan of a killed sync) is not relied upon (it is
     * skipped: it stays in the cache until the prune has deleted it and a later sync uploads it
     * again); a pack is recorded safe only after an index file naming it is written there; a
     * sync killed in between leaves an unindexed pack, which the next sync indexes.
     */
    private void makeRoom(Index cacheIndex, Index mainIndex, Set<String> condemned, SyncState state, WriterRegistration reg)
            throws InterruptedException {
        long limit = cacheBackend.maxSize();
        if (limit <= 0) {
            return;
        }
        bytesEvicted += cacheBackend.evictOverLimit();
        if (cacheBackend.usedBytes() <= limit) {
            return;
        }
        bytesEvicted += removeUnindexedPacks(cacheIndex, state);
        long excess = cacheBackend.usedBytes() - limit;
        if (excess <= 0) {
            return;
        }
        record Candidate(String name, int pack, long size, long used) {}
        Backend local = cacheBackend.localBackend();
        List<Candidate> candidates = new ArrayList<>();
        for (String name : local.list("data")) {
            if (state.packSafe(name)) {
                continue;
            }
            BlobId id;
            try {
                id = BlobId.parse(name.substring(name.lastIndexOf('/') + 1));
            } catch (RuntimeException e) {
                continue;   // not a pack
            }
            int p = cacheIndex.packNumber(id);
            if (p < 0) {
                continue;   // not indexed (yet): a backup still running, or left by one that failed
            }
            Optional<Backend.ObjectInfo> info = local.stat(name);
            if (info.isPresent()) {
                candidates.add(new Candidate(name, p, info.get().size(), info.get().modified().toEpochMilli()));
            }
        }
        if (candidates.isEmpty()) {
            return;
        }
        candidates.sort(Comparator.comparingLong(Candidate::used).thenComparing(Candidate::name));
        int[][] byPack = cacheIndex.entriesByPack();
        List<PackRecord> records = new ArrayList<>();
        int skippedCondemned = 0;
        for (Candidate c : candidates) {
            if (excess <= 0) {
                break;
            }
            if (!allHeldUsable(cacheIndex, byPack[c.pack()], mainIndex)) {
                continue;   // data the main repository lacks: not synced, never evicted
            }
            if (condemned.contains(c.name())) {
                skippedCondemned++;   // a prune there is deleting this very object: do not rely on it
                continue;
            }
            int there = mainIndex.packNumber(cacheIndex.packId(c.pack()));
            if (there >= 0) {
                if (!mainIndex.isCondemned(there)) {
                    state.pack(c.name());   // indexed there already (a sync killed before it said so)
                    excess -= c.size();
                }
                continue;
            }
            if (main.backend().stat(c.name()).isEmpty()) {
                upload(c.name(), local.read(c.name()));
                packsUploaded++;
                packsUploadedForRoom++;
            }
            records.add(cacheIndex.packRecord(c.pack(), byPack[c.pack()]));
            excess -= c.size();
            progress.accept("making room: " + records.size() + " pack(s) the main repository holds under other names uploaded, "
                    + io.haven.core.DataSize.format(bytesUploaded) + " uploaded in all");
            if (records.size() == ROOM_GROUP) {
                indexForRoom(records, mainIndex, state, reg);
                records.clear();
            }
        }
        indexForRoom(records, mainIndex, state, reg);
        if (skippedCondemned > 0) {
            progress.accept(skippedCondemned + " pack(s) stay in the cache: a prune of the main repository is removing their copies"
                    + " there; a sync after that prune uploads them again");
        }
    }

    /**
     * Deletes the cache's packs that no index file names: left by backups that failed (a full
     * disk, a kill) before they indexed them. No snapshot can need them, and nothing else removes
     * them (prune refuses to run on a cache), so without this a backup that failed on a full
     * disk would leave the cache full. Only while no backup writes to the cache: the packs are
     * listed first, then the writer markers are read (a backup registers before it writes a
     * pack), then the index files. So a backup that wrote a listed pack is either still live
     * (nothing is deleted) or over, and then it indexed its packs or never will. A backup stalled
     * for longer than the stale interval is taken for dead, as a prune takes it; it then refuses
     * to save its snapshot. Returns the bytes freed.
     */
    private long removeUnindexedPacks(Index cacheIndex, SyncState state) {
        Backend local = cacheBackend.localBackend();
        List<String> listed = new ArrayList<>();
        for (String dir : List.of("data", "tree")) {
            for (String name : local.list(dir)) {
                if (!state.packSafe(name) && !indexes(cacheIndex, name)) {
                    listed.add(name);
                }
            }
        }
        if (listed.isEmpty()) {
            return 0;
        }
        java.time.Instant now = cache.clock().instant();
        for (Repository.WriterEntry w : cache.writers()) {
            if (w.liveAt(now, cache.staleAfter())) {
                progress.accept(listed.size() + " unindexed pack(s) stay in the cache while a " + w.marker().kind() + " on "
                        + w.marker().host() + " writes to it; the next sync removes those it leaves");
                return 0;
            }
        }
        Index fresh = cache.loadIndexFiles(local.list("index"), Set.of());
        long freed = 0;
        int removed = 0;
        for (String name : listed) {
            if (indexes(fresh, name)) {
                continue;
            }
            Optional<Backend.ObjectInfo> info = local.stat(name);
            if (info.isPresent()) {
                local.delete(name);
                freed += info.get().size();
                removed++;
            }
        }
        unindexedPacksRemoved += removed;
        if (removed > 0) {
            progress.accept("removed " + removed + " unindexed pack(s), " + io.haven.core.DataSize.format(freed)
                    + ", that failed backups left in the cache");
        }
        return freed;
    }

    private static boolean indexes(Index idx, String name) {
        try {
            return idx.packNumber(BlobId.parse(name.substring(name.lastIndexOf('/') + 1))) >= 0;
        } catch (RuntimeException e) {
            return true;   // not a pack name: leave it alone
        }
    }

    private static boolean allHeldUsable(Index cacheIndex, int[] entries, Index mainIndex) {
        for (int e : entries) {
            if (!mainIndex.containsUsable(cacheIndex.entry(e).id())) {
                return false;
            }
        }
        return entries.length > 0;
    }

    /** Writes an index file naming {@code records} in the main repository, records the packs safe and evicts. */
    private void indexForRoom(List<PackRecord> records, Index mainIndex, SyncState state, WriterRegistration reg) {
        if (records.isEmpty()) {
            return;
        }
        reg.checkNotStalled();
        main.saveIndexFile(records);
        indexFiles++;
        for (PackRecord r : records) {
            mainIndex.add(r);
            state.pack(r.objectName());
        }
        bytesEvicted += cacheBackend.evictOverLimit();
    }

    private void upload(String name, byte[] bytes) throws InterruptedException {
        if (limiter != null) {
            limiter.acquire(bytes.length);
        }
        main.backend().write(name, bytes);
        bytesUploaded += bytes.length;
    }
}
