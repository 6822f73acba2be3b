package io.haven.repository.maintenance;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.WriterRegistration;
import io.haven.repository.index.Index;
import io.haven.repository.index.PackRecord;
import io.haven.repository.pack.BlobOpener;
import io.haven.repository.pack.PackHeader;
import io.haven.repository.tier.TieredBackend;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Removes data no snapshot needs, safely while backups run (docs/maintenance.md).
 *
 * <p>Design: deletion is two-phased and never trusts a lock. Phase one finds packs whose blobs
 * no snapshot reaches, copies the still-needed blobs out of mostly-unused packs ("repacking"),
 * and stores the doomed packs as a <em>condemned set</em>. Nothing is deleted yet: writers that
 * load their index after the set exists see it, will not rely on its packs, and say so in their
 * writer marker. Phase two, for a set, waits until every live writer has said so (dead writers
 * stop refreshing their marker and stop counting after the stale interval), reads every snapshot
 * again, copies out any blob in the set that a snapshot saved meanwhile needs, rewrites the index
 * files that name the packs, and only then deletes the packs and the set. A prune killed at any
 * moment leaves a valid repository; the next prune continues.
 *
 * <p>Two prunes at once would rewrite the same index files, so a prune refuses to start while
 * another maintenance writer is live (visible in its message: host, pid, start, last heartbeat).
 */
public final class Pruner {
    /** How a prune runs. {@code repackThreshold}: repack a pack when at least this share of its bytes is unused. */
    public record Options(double repackThreshold, boolean dryRun, Duration waitFor, int threads, String host) {
        public Options {
            if (repackThreshold < 0 || repackThreshold > 1) {
                throw new HavenException(ErrorCode.USAGE, "the repack threshold is a share between 0% and 100%");
            }
        }
    }

    /** A writer that a condemned set waits for. */
    public record Blocker(String host, long pid, String kind, String started, long secondsSinceHeartbeat) {
        @Override
        public String toString() {
            return kind + " on " + host + " (pid " + pid + ", started " + started + ", heartbeat " + secondsSinceHeartbeat + " s ago)";
        }
    }

    /** What a prune did (or, dry, would do). */
    public record Result(int snapshots, long blobsUsed, long packsTotal, long bytesTotal, long packsUnused, long packsRepacked,
            long bytesUnused, long bytesRepackWritten, long packsDeleted, long bytesDeleted, long orphansDeleted,
            long blobsRescued, List<String> pendingSets, List<Blocker> waitingFor, long coldPacksKept,
            long staleWriterMarkersRemoved) {}

    private final Repository repo;
    private final Options options;
    private final Consumer<String> progress;
    private long packsTotal;
    private long bytesTotal;
    private long packsUnused;
    private long packsRepacked;
    private long bytesUnused;
    private long bytesRepackWritten;
    private long packsDeleted;
    private long bytesDeleted;
    private long orphansDeleted;
    private long blobsRescued;
    private long staleWriterMarkersRemoved;
    /** Cold packs prune left alone: partly used ones (never read cold) and unused ones within the class's minimum storage. */
    private long coldPacksKept;
    private long blobsUsed;
    private int snapshotCount;
    private final List<String> pending = new ArrayList<>();
    private final List<Blocker> blockers = new ArrayList<>();

    public Pruner(Repository repo, Options options, Consumer<String> progress) {
        this.repo = repo;
        this.options = options;
        this.progress = progress;
    }

    /**
     * Runs a prune: finishes earlier condemned sets that can finish, plans a new one, and
     * finishes it when no live writer holds it back (waiting up to {@code waitFor}).
     *
     * @throws HavenException BUSY when another prune runs; CORRUPT when a snapshot references
     *     missing data (run {@code repair snapshots}) or a snapshot cannot be read
     */
    public Result run() {
        WriterRegistration reg = repo.register("prune", options.host());
        refuseConcurrentMaintenance(reg);
        if (!options.dryRun()) {
            removeStaleWriterMarkers(reg);
            complete(reg, Duration.ZERO);
        }
        plan();
        if (!options.dryRun()) {
            pending.clear();
            blockers.clear();
            complete(reg, options.waitFor());
        }
        return new Result(snapshotCount, blobsUsed, packsTotal, bytesTotal, packsUnused, packsRepacked, bytesUnused,
                bytesRepackWritten, packsDeleted, bytesDeleted, orphansDeleted, blobsRescued, List.copyOf(pending),
                List.copyOf(blockers), coldPacksKept, staleWriterMarkersRemoved);
    }

    /**
     * Deletes the writer markers that are stale beyond doubt ({@link Repository#markerRemovalAge}
     * on the backend's clock): left by processes that were killed. They count for nothing in any
     * decision already (a marker older than the stale interval is dead), so removing them changes
     * none; it only spares every writer and prune reading them. The marker's time is read again
     * right before the deletion, so one that its writer rewrote meanwhile stays (and that writer,
     * had its marker been so old, relies on nothing any more: {@link WriterRegistration#checkNotStalled()}).
     */
    private void removeStaleWriterMarkers(WriterRegistration reg) {
        Instant now = reg.backendNow();
        for (Repository.WriterEntry w : repo.writers()) {
            if (w.name().equals(reg.name()) || !w.staleBeyondDoubt(now, reg.staleAfter())) {
                continue;
            }
            var info = repo.backend().stat(w.name());
            if (info.isEmpty() || !info.get().modified().equals(w.modified())) {
                continue;
            }
            repo.backend().delete(w.name());
            staleWriterMarkersRemoved++;
            progress.accept("removed the marker of a " + w.marker().kind() + " on " + w.marker().host() + " (pid "
                    + w.marker().pid() + ", started " + w.marker().started() + ") last refreshed "
                    + w.age(now).toMinutes() + " min ago: its process was killed");
        }
    }

    /** Fails when another live writer of a maintenance kind is registered. */
    public static void refuseConcurrentMaintenance(Repository repo, WriterRegistration reg) {
        Instant now = reg.backendNow();
        for (Repository.WriterEntry w : repo.writers()) {
            if (w.name().equals(reg.name()) || !w.marker().isMaintenance() || !w.liveAt(now, reg.staleAfter())) {
                continue;
            }
            long ago = Math.max(0, Duration.between(w.modified(), now).toSeconds());
            throw new HavenException(ErrorCode.BUSY, "another " + w.marker().kind() + " is running on this repository: host "
                    + w.marker().host() + ", pid " + w.marker().pid() + ", started " + w.marker().started() + ", last heartbeat "
                    + ago + " s ago. If that process is dead, its marker " + w.name() + " stops counting "
                    + reg.staleAfter().toSeconds() + " s after its last heartbeat.");
        }
    }

    /** Like {@link #refuseConcurrentMaintenance(Repository, WriterRegistration)}, retrying until {@code waitFor} has passed. */
    private void refuseConcurrentMaintenance(WriterRegistration reg) {
        long deadline = System.nanoTime() + options.waitFor().toNanos();
        while (true) {
            try {
                refuseConcurrentMaintenance(repo, reg);
                return;
            } catch (HavenException e) {
                if (e.code() != ErrorCode.BUSY || System.nanoTime() >= deadline) {
                    throw e;
                }
                progress.accept("waiting: " + e.getMessage());
                try {
                    Thread.sleep(Math.max(200, Math.min(5000, reg.staleAfter().toMillis() / 6)));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    // ------------------------------------------------------------------ reachability

    /** The index and the entries of it that the snapshots reach. */
    private record Reach(Index index, BitSet used) {}

    /**
     * Lists the snapshots, then loads the index, and marks the preferred entry of every blob the
     * snapshots reach. In this order, because a backup writes its packs, then the index files
     * naming them, then its snapshot: every snapshot listed first has all its blobs in the index
     * loaded after. The other order let a backup that finished in between (a small backup takes
     * a fraction of a second) leave a snapshot whose new blobs the older index lacked, and prune
     * stopped with "needs tree …, which is not in the repository" (ConcurrentIT saw it).
     * Snapshots saved after the listing are phase two's business.
     *
     * @throws HavenException CORRUPT when a snapshot cannot be read or reaches a missing blob
     */
    private Reach reach() {
        List<Repository.SnapshotEntry> snaps = repo.snapshots();
        if (!repo.unreadableSnapshots().isEmpty()) {
            throw new HavenException(ErrorCode.CORRUPT, "cannot prune: " + repo.unreadableSnapshots().size()
                    + " snapshot(s) cannot be read, so what they need is unknown (" + repo.unreadableSnapshots().get(0)
                    + "). Run 'haven check'; remove a damaged snapshot with 'haven forget ID' if it cannot be repaired.");
        }
        repo.reloadIndex();
        Index index = repo.index();
        snapshotCount = snaps.size();
        BitSet used = new BitSet(index.entryCount());
        for (Repository.SnapshotEntry s : snaps) {
            String snap = s.id().shortHex();
            Reachable.mark(repo, index, used, BlobId.parse(s.snapshot().tree()), (what, id) -> missing(index, snap, what, id));
        }
        blobsUsed = used.cardinality();
        return new Reach(index, used);
    }

    private boolean withinMinimumStorage(TieredBackend tiered, String pack) {
        Duration min = tiered.cold().minimumStorage();
        if (min.isZero()) {
            return false;
        }
        return tiered.cold().info(pack).map(i -> i.modified().plus(min).isAfter(repo.clock().instant())).orElse(false);
    }

    /**
     * Prune refuses, deleting nothing, when a snapshot needs a blob the index lacks: what it
     * needs is unknown. In particular it deletes no unindexed pack then, since such packs may
     * hold the missing data (lost index files), which {@code repair index} recovers.
     */
    private HavenException missing(Index index, String snap, String what, BlobId id) {
        List<String> unindexed = UnindexedPacks.list(repo, index);
        String base = "cannot prune: snapshot " + snap + " needs " + what + " " + id.shortHex() + ", which is not in the index.";
        if (!unindexed.isEmpty()) {
            return new HavenException(ErrorCode.CORRUPT, base + " " + unindexed.size() + " unindexed pack(s) may hold the missing"
                    + " data, so prune deletes nothing: run 'haven repair index' first, then 'haven check'; 'haven repair snapshots'"
                    + " only for what is still missing.");
        }
        return new HavenException(ErrorCode.CORRUPT, base + " Run 'haven repair index' (if the index is damaged) or 'haven repair snapshots'.");
    }

    // ------------------------------------------------------------------ phase one

    private void plan() {
        progress.accept("finding data no snapshot needs");
        Reach reach = reach();
        Index index = reach.index();
        BitSet used = reach.used();
        int[][] byPack = index.entriesByPack();
        List<Integer> unused = new ArrayList<>();
        List<Integer> repack = new ArrayList<>();
        long[] usedByPack = new long[byPack.length];
        TieredBackend tiered = repo.backend() instanceof TieredBackend t ? t : null;
        for (int p = 0; p < byPack.length; p++) {
            if (index.isCondemned(p)) {
                continue;
            }
            long total = 0;
            long usedBytes = 0;
            long[] stored = storedBytes(index, byPack[p]);
            for (int i = 0; i < byPack[p].length; i++) {
                total += stored[i];
                if (used.get(byPack[p][i])) {
                    usedBytes += stored[i];
                }
            }
            usedByPack[p] = usedBytes;
            packsTotal++;
            bytesTotal += total;
            if (usedBytes < total && tiered != null && tiered.isCold(index.packName(p))
                    && (usedBytes > 0 || withinMinimumStorage(tiered, index.packName(p)))) {
                // a cold pack cannot be read to repack it, and deleting it early is billed anyway
                coldPacksKept++;
                continue;
            }
            if (usedBytes == 0) {
                unused.add(p);
                packsUnused++;
                bytesUnused += total;
            } else if (usedBytes < total && (double) (total - usedBytes) / total >= options.repackThreshold()) {
                repack.add(p);
                packsRepacked++;
                bytesUnused += total - usedBytes;
            }
        }
        Set<String> indexed = new HashSet<>();
        for (int p = 0; p < byPack.length; p++) {
            indexed.add(index.packName(p));
        }
        List<String> orphans = new ArrayList<>();
        for (String dir : List.of("data", "tree")) {
            for (String name : repo.backend().list(dir)) {
                if (!indexed.contains(name) && Repository.isPackName(name)) { // never what Haven did not write
                    orphans.add(name);
                }
            }
        }
        if (options.dryRun()) {
            for (int p : repack) {
                bytesRepackWritten += usedByPack[p];
            }
            return;
        }
        if (unused.isEmpty() && repack.isEmpty() && orphans.isEmpty()) {
            progress.accept("nothing to remove");
            return;
        }
        if (!repack.isEmpty()) {
            progress.accept("repacking " + repack.size() + " partly used pack(s)");
            index.condemn(repack);
            try (RepositoryWriter writer = repo.newWriter()) {
                for (int p : repack) {
                    copyOut(index, writer, p, byPack[p], used);
                }
                writer.flush();
                bytesRepackWritten += writer.bytesStored();
            }
        }
        List<String> packs = new ArrayList<>();
        for (int p : unused) {
            packs.add(index.packName(p));
        }
        for (int p : repack) {
            packs.add(index.packName(p));
        }
        String id = repo.saveCondemnedSet(new CondemnedSet(1, repo.clock().instant().toString(), options.host(), packs, orphans));
        progress.accept("condemned " + packs.size() + " pack(s) and " + orphans.size() + " unindexed pack(s) as set " + id.substring(0, 8));
    }

    /**
     * The bytes each of a pack's entries takes in it: a blob stored alone its sealed length; the
     * members of a group share the group's sealed length in proportion to their payloads.
     */
    private static long[] storedBytes(Index index, int[] entries) {
        long[] out = new long[entries.length];
        java.util.Map<Integer, Long> groupPayload = new java.util.HashMap<>();
        Index.Entry[] xs = new Index.Entry[entries.length];
        for (int i = 0; i < entries.length; i++) {
            xs[i] = index.entry(entries[i]);
            if (xs[i].grouped()) {
                groupPayload.merge(xs[i].offset(), (long) xs[i].rawLength(), Long::sum);
            }
        }
        for (int i = 0; i < entries.length; i++) {
            Index.Entry x = xs[i];
            long payload = x.grouped() ? groupPayload.get(x.offset()) : 0;
            out[i] = !x.grouped() ? x.length() : payload == 0 ? 0 : x.length() * (long) x.rawLength() / payload;
        }
        return out;
    }

    /** Copies the used blobs of pack {@code p} into the writer, authenticating each. */
    private void copyOut(Index index, RepositoryWriter writer, int p, int[] entries, BitSet used) {
        String name = index.packName(p);
        byte[] pack = repo.backend().read(name);
        // a pack that does not match its hash (damaged) is still repacked: every blob copied out
        // is authenticated on its own, and damage in a blob that is not needed does not matter
        BlobType type = index.packType(p);
        BlobOpener opener = new BlobOpener(repo.key(), 1);
        for (int e : entries) {
            if (!used.get(e)) {
                continue;
            }
            Index.Entry x = index.entry(e);
            if ((long) x.offset() + x.length() > pack.length) {
                throw new HavenException(ErrorCode.CORRUPT, "cannot repack " + name + ": the index points outside it");
            }
            copy(writer, type, index.packId(p), x, pack, x.offset(), name, opener);
        }
    }

    /**
     * Authenticates a blob about to be copied, whose sealed bytes (or its group's) start at
     * {@code at} in {@code buf}, and adds it to the writer: a blob stored alone as it is sealed,
     * a member of a group by its payload (the writer groups it again with the other small blobs
     * it copies; the rest of the old group is not needed).
     */
    private void copy(RepositoryWriter writer, BlobType type, BlobId packId, Index.Entry x, byte[] buf, int at, String name,
            BlobOpener opener) {
        byte[] payload = authenticate(x, packId, buf, at, name, opener);
        if (x.grouped()) {
            writer.save(type, x.id(), payload, 0, payload.length);
        } else {
            writer.saveSealed(type, x.id(), java.util.Arrays.copyOfRange(buf, at, at + x.length()), x.rawLength());
        }
    }

    /**
     * Decrypts a blob about to be copied and checks its id, so that prune never copies damage
     * into a new pack; returns its payload.
     *
     * @throws HavenException CORRUPT; prune stops before deleting anything
     */
    private byte[] authenticate(Index.Entry x, BlobId packId, byte[] buf, int at, String pack, BlobOpener opener) {
        String what = "blob " + x.id().shortHex() + " in " + pack;
        String advice = "; prune stops without deleting anything. Run 'haven repair index --read-data' (it leaves damaged blobs"
                + " out of the index), then 'haven repair snapshots'.";
        try {
            return opener.open(x.id(), packId, x.offset(), x.length(), x.rawLength(), x.member(), buf, at, what);
        } catch (HavenException e) {
            if (e.code() != ErrorCode.CORRUPT) {
                throw e;
            }
            throw new HavenException(ErrorCode.CORRUPT, e.getMessage() + advice, e);
        }
    }

    // ------------------------------------------------------------------ phase two

    private void complete(WriterRegistration reg, Duration waitFor) {
        long deadline = System.nanoTime() + waitFor.toNanos();
        while (true) {
            List<Repository.CondemnedEntry> sets = repo.condemnedSets();
            if (sets.isEmpty()) {
                return;
            }
            Instant now = reg.backendNow();
            List<Repository.WriterEntry> writers = repo.writers();
            List<Repository.CondemnedEntry> ready = new ArrayList<>();
            List<Blocker> waiting = new ArrayList<>();
            List<String> waitingSets = new ArrayList<>();
            for (Repository.CondemnedEntry c : sets) {
                List<Blocker> b = new ArrayList<>();
                for (Repository.WriterEntry w : writers) {
                    if (w.name().equals(reg.name()) || !w.liveAt(now, reg.staleAfter())
                            || w.marker().condemnedSeen().contains(c.id())) {
                        continue;
                    }
                    b.add(new Blocker(w.marker().host(), w.marker().pid(), w.marker().kind(), w.marker().started(),
                            Math.max(0, Duration.between(w.modified(), now).toSeconds())));
                }
                if (b.isEmpty()) {
                    ready.add(c);
                } else {
                    waitingSets.add(c.id());
                    for (Blocker x : b) {
                        if (!waiting.contains(x)) {
                            waiting.add(x);
                        }
                    }
                }
            }
            if (!ready.isEmpty()) {
                // the decision relies on this prune's marker (no second prune runs beside it): a prune that stalled stops
                reg.checkNotStalled();
                execute(ready);
                continue;
            }
            if (System.nanoTime() >= deadline) {
                pending.addAll(waitingSets);
                blockers.addAll(waiting);
                return;
            }
            progress.accept("waiting for " + waiting.size() + " writer(s) that started before the deletion was planned: "
                    + waiting.get(0));
            try {
                Thread.sleep(Math.max(200, Math.min(5000, reg.staleAfter().toMillis() / 6)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HavenException(ErrorCode.IO, "interrupted while waiting for writers");
            }
        }
    }

    /** Phase two for sets no live writer holds back. */
    private void execute(List<Repository.CondemnedEntry> sets) {
        Set<String> doomed = new HashSet<>();
        Set<String> orphans = new HashSet<>();
        for (Repository.CondemnedEntry c : sets) {
            doomed.addAll(c.set().packs());
            orphans.addAll(c.set().orphans());
        }
        progress.accept("deleting " + doomed.size() + " condemned pack(s)");
        Reach reach = reach();
        Index index = reach.index();
        BitSet used = reach.used();
        // rescue: blobs a snapshot needs whose only copies are doomed
        BitSet doomedPacks = new BitSet(index.packCount());
        for (int p = 0; p < index.packCount(); p++) {
            if (doomed.contains(index.packName(p))) {
                doomedPacks.set(p);
            }
        }
        List<Integer> rescue = new ArrayList<>();
        for (int e = used.nextSetBit(0); e >= 0; e = used.nextSetBit(e + 1)) {
            if (doomedPacks.get(index.entryPack(e))) {
                rescue.add(e);
            }
        }
        if (!rescue.isEmpty()) {
            progress.accept("keeping " + rescue.size() + " blob(s) that snapshots saved meanwhile still need");
            try (RepositoryWriter writer = repo.newWriter()) {
                BlobOpener opener = new BlobOpener(repo.key(), 1);
                for (int e : rescue) {
                    Index.Entry x = index.entry(e);
                    Index.Location loc = index.location(e);
                    byte[] sealed = repo.backend().read(loc.packName(), loc.offset(), loc.length());
                    copy(writer, loc.type(), loc.pack(), x, sealed, 0, loc.packName(), opener);
                    blobsRescued++;
                }
                writer.flush();
            }
        }
        rewriteIndexFiles(doomed);
        Set<String> indexedNow = new HashSet<>();
        for (int p = 0; p < index.packCount(); p++) {
            indexedNow.add(index.packName(p));
        }
        List<String> delete = new ArrayList<>(doomed);
        for (String o : orphans) {
            if (!indexedNow.contains(o)) {
                delete.add(o);
            }
        }
        WriterRegistration reg = repo.registration();
        if (reg != null) {
            reg.checkNotStalled();
        }
        deleteAll(delete, doomed);
        for (Repository.CondemnedEntry c : sets) {
            repo.backend().delete(c.name());
        }
        repo.reloadIndex();
    }

    /** Rewrites every index file that names a doomed pack, without those packs; new files first. */
    private void rewriteIndexFiles(Set<String> doomed) {
        List<PackRecord> batch = new ArrayList<>();
        List<String> replaced = new ArrayList<>();
        int blobs = 0;
        for (String name : repo.backend().list("index")) {
            List<PackRecord> records;
            try {
                records = repo.readIndexFile(name);
            } catch (HavenException e) {
                if (e.code() == ErrorCode.NOT_FOUND) {
                    continue;
                }
                throw e;
            }
            boolean affected = records.stream().anyMatch(r -> doomed.contains(r.objectName()));
            if (!affected) {
                continue;
            }
            for (PackRecord r : records) {
                if (!doomed.contains(r.objectName())) {
                    batch.add(r);
                    blobs += r.blobs().size();
                }
            }
            replaced.add(name);
            if (blobs >= 30_000) {
                repo.saveIndexFile(batch);
                replaced.forEach(repo.backend()::delete);
                batch.clear();
                replaced.clear();
                blobs = 0;
            }
        }
        if (!batch.isEmpty()) {
            repo.saveIndexFile(batch);
        }
        replaced.forEach(repo.backend()::delete);
    }

    private void deleteAll(List<String> names, Set<String> doomed) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, options.threads()),
                Thread.ofPlatform().daemon().name("haven-delete-", 0).factory());
        try {
            List<Future<Long>> fs = new ArrayList<>();
            for (String name : names) {
                fs.add(pool.submit(() -> {
                    var info = repo.backend().stat(name);
                    if (info.isEmpty()) {
                        return -1L;
                    }
                    repo.backend().delete(name);
                    return info.get().size();
                }));
            }
            for (int i = 0; i < fs.size(); i++) {
                long size = fs.get(i).get();
                if (size >= 0) {
                    bytesDeleted += size;
                    if (doomed.contains(names.get(i))) {
                        packsDeleted++;
                    } else {
                        orphansDeleted++;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted while deleting packs");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof HavenException he) {
                throw he;
            }
            throw new HavenException(ErrorCode.IO, "deleting a pack failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }
}
