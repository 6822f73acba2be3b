package io.haven.repository.maintenance;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.WriterRegistration;
import io.haven.repository.index.Index;
import io.haven.repository.index.PackRecord;
import io.haven.repository.pack.PackHeader;
import io.haven.repository.snapshot.Snapshot;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code repair index} and {@code repair snapshots}. Both are maintenance writers: they refuse
 * to run beside a live prune or another repair, and never block backups.
 */
public final class Repairer {
    private final Repository repo;
    private final String host;
    private final int threads;
    private final Consumer<String> progress;

    public Repairer(Repository repo, String host, int threads, Consumer<String> progress) {
        this.repo = repo;
        this.host = host;
        this.threads = threads;
        this.progress = progress;
    }

    /**
     * A pack that {@code repair index --read-data} found damaged: the ids of the blobs that failed
     * authentication (left out of the index, each with the reason), how many good blobs were
     * copied into new packs, and whether the pack's own hash failed.
     */
    public record DamagedPack(String pack, List<String> damaged, int salvaged, boolean hashMismatch) {}

    /**
     * What {@link #rebuildIndex(boolean)} did. {@code unreadable}: packs whose header could not
     * be read (left out); {@code damaged}: with read-data, packs with blobs that failed
     * authentication; {@code packsRead}: packs read whole; {@code coldNotRead}: cold packs kept as
     * the old index had them, without reading them.
     */
    public record IndexResult(int packs, long blobs, int oldFiles, int newFiles, List<String> unreadable,
            List<DamagedPack> damaged, int packsRead, int coldNotRead) {
        /** Blobs left out of the index because they failed authentication. */
        public int damagedBlobs() {
            return damaged.stream().mapToInt(d -> d.damaged().size()).sum();
        }
    }

    /** {@link #rebuildIndex(boolean)} from the pack headers alone. */
    public IndexResult rebuildIndex() {
        return rebuildIndex(false);
    }

    /** What reading one pack gave: its record for the new index (null: left out), and damage found. */
    private record Scanned(PackRecord record, DamagedPack damage) {}

    /**
     * Reads the header of every pack and writes index files for all of them, then deletes the
     * index files that existed before. New index files come first, so a kill leaves duplicates,
     * never a gap; index files that backups write meanwhile are kept.
     *
     * <p>With {@code readData}, every pack is read whole and every blob authenticated and checked
     * against its id. A pack with a damaged blob (or that does not match its hash) has its good
     * blobs copied into new packs, and stays in the index as a pack without blobs: no snapshot
     * can come to depend on it again, a backup stores the damaged blobs anew, {@code repair
     * snapshots} treats them as lost, and prune deletes the pack (it holds nothing used).
     * Without {@code readData}, a pack that an index file already names with fewer blobs than
     * its header lists (left so by an earlier read-data repair) keeps that narrower record.
     */
    public IndexResult rebuildIndex(boolean readData) {
        WriterRegistration reg = repo.register("repair", host);
        Pruner.refuseConcurrentMaintenance(repo, reg);
        List<String> oldFiles = repo.backend().list("index");
        Index previous = readIndexFilesThatCanBeRead(oldFiles);
        int[][] previousByPack = previous.entriesByPack();
        List<String> packs = new ArrayList<>(repo.backend().list("data"));
        packs.addAll(repo.backend().list("tree"));
        packs.removeIf(n -> !Repository.isPackName(n));
        Collections.sort(packs);
        progress.accept((readData ? "reading and authenticating " : "reading the headers of ") + packs.size() + " pack(s)");
        List<String> unreadable = Collections.synchronizedList(new ArrayList<>());
        Map<String, PackRecord> records = new HashMap<>();
        List<DamagedPack> damaged = new ArrayList<>();
        // cold packs cannot be read without a thaw: keep what the current index says about them
        Map<String, PackRecord> coldRecords = new HashMap<>();
        if (repo.backend() instanceof io.haven.repository.tier.TieredBackend tiered) {
            for (String name : packs) {
                if (tiered.needsThaw(name)) {
                    coldRecords.put(name, previousRecord(previous, previousByPack, name));
                }
            }
        }
        Salvage salvage = readData ? new Salvage() : null;
        java.util.concurrent.atomic.AtomicInteger packsRead = new java.util.concurrent.atomic.AtomicInteger();
        List<Scanned> scanned = ParallelReads.each(packs, threads, "haven-repair-", name -> {
            if (coldRecords.containsKey(name)) {
                PackRecord r = coldRecords.get(name);
                if (r == null) {
                    unreadable.add(name + ": in the cold tier and in no index file; thaw a snapshot that uses it and repair again");
                }
                return new Scanned(r, null);
            }
            try {
                var info = repo.backend().stat(name);
                if (info.isEmpty()) {
                    return null;
                }
                BlobId id = BlobId.parse(name.substring(name.lastIndexOf('/') + 1));
                if (readData) {
                    Scanned s = readWhole(id, name, salvage);
                    packsRead.incrementAndGet();
                    return s;
                }
                PackRecord r = PackHeader.readTail(repo.key(), id, repo.backend(), name, info.get().size());
                if (!r.objectName().equals(name)) {
                    throw new HavenException(ErrorCode.CORRUPT, "pack " + name + " holds blobs of another type");
                }
                PackRecord before = previousRecord(previous, previousByPack, name);
                if (before != null && before.blobs().size() < r.blobs().size()
                        && new java.util.HashSet<>(r.blobs()).containsAll(before.blobs())) {
                    r = before; // an earlier 'repair index --read-data' left its damaged blobs out
                }
                return new Scanned(r, null);
            } catch (HavenException e) {
                if (e.code() != ErrorCode.CORRUPT && e.code() != ErrorCode.NOT_FOUND) {
                    throw e;
                }
                unreadable.add(name + ": " + e.getMessage());
                return null;
            }
        });
        for (int i = 0; i < scanned.size(); i++) {
            Scanned s = scanned.get(i);
            if (s != null && s.record() != null) {
                records.put(packs.get(i), s.record());
            }
            if (s != null && s.damage() != null) {
                damaged.add(s.damage());
            }
        }
        if (salvage != null) {
            salvage.flush();
        }
        List<PackRecord> all = new ArrayList<>();
        if (salvage != null) {
            all.addAll(salvage.records);  // stored above, before any index file names them
        }
        for (String name : packs) {
            PackRecord r = records.get(name);
            if (r != null) {
                all.add(r);
            }
        }
        List<PackRecord> batch = new ArrayList<>();
        int blobsInBatch = 0;
        long blobs = 0;
        int newFiles = 0;
        List<String> written = new ArrayList<>();
        for (PackRecord r : all) {
            batch.add(r);
            blobsInBatch += r.blobs().size();
            blobs += r.blobs().size();
            if (blobsInBatch >= 30_000) {
                written.add(repo.saveIndexFile(batch));
                newFiles++;
                batch.clear();
                blobsInBatch = 0;
            }
        }
        if (!batch.isEmpty()) {
            written.add(repo.saveIndexFile(batch));
            newFiles++;
        }
        int removed = 0;
        for (String old : oldFiles) {
            if (!written.contains(old)) {
                repo.backend().delete(old);
                removed++;
            }
        }
        repo.reloadIndex();
        damaged.sort(java.util.Comparator.comparing(DamagedPack::pack));
        List<String> unreadableSorted = new ArrayList<>(unreadable);
        Collections.sort(unreadableSorted);
        return new IndexResult(all.size(), blobs, removed, newFiles, List.copyOf(unreadableSorted), List.copyOf(damaged),
                packsRead.get(), readData ? coldRecords.size() : 0);
    }

    /** The index files that can be read, as one index; damaged or vanished ones are skipped (they are rebuilt). */
    private Index readIndexFilesThatCanBeRead(List<String> names) {
        Index idx = new Index();
        for (String name : names) {
            try {
                repo.readIndexFile(name).forEach(idx::add);
            } catch (HavenException e) {
                if (e.code() != ErrorCode.CORRUPT && e.code() != ErrorCode.NOT_FOUND) {
                    throw e;
                }
            }
        }
        return idx;
    }

    private static PackRecord previousRecord(Index previous, int[][] byPack, String name) {
        int p = previous.packNumber(BlobId.parse(name.substring(name.lastIndexOf('/') + 1)));
        return p < 0 ? null : previous.packRecord(p, byPack[p]);
    }

    /**
     * Reads a pack whole and authenticates every blob. A healthy pack gives its header's record.
     * A damaged one has its good blobs copied out and gives a record without blobs.
     *
     * @throws HavenException CORRUPT when the header cannot be read (the pack is left out)
     */
    private Scanned readWhole(BlobId id, String name, Salvage salvage) {
        byte[] data = repo.backend().read(name);
        boolean hashOk = io.haven.repository.crypto.ObjectHash.of(data).equals(id);
        PackRecord header = PackHeader.read(repo.key(), id, data, "pack " + name);
        if (!header.objectName().equals(name)) {
            throw new HavenException(ErrorCode.CORRUPT, "pack " + name + " holds blobs of another type");
        }
        List<PackRecord.Entry> good = new ArrayList<>();
        List<byte[]> goodPayloads = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        io.haven.repository.pack.BlobOpener opener = new io.haven.repository.pack.BlobOpener(repo.key(), 1);
        for (PackRecord.Entry e : header.blobs()) {
            String what = "blob " + e.id().shortHex();
            try {
                byte[] payload = opener.open(e.id(), id, e.offset(), e.length(), e.rawLength(), e.member(), data, e.offset(), what);
                good.add(e);
                goodPayloads.add(e.grouped() ? payload : null);
            } catch (HavenException ex) {
                if (ex.code() != ErrorCode.CORRUPT) {
                    throw ex;
                }
                bad.add(ex.getMessage());
            }
        }
        if (bad.isEmpty() && hashOk) {
            return new Scanned(header, null);
        }
        int copied = 0;
        for (int i = 0; i < good.size(); i++) {
            PackRecord.Entry e = good.get(i);
            // a member's group may be damaged elsewhere: the member is sealed again on its own
            if (e.grouped() ? salvage.addPayload(e.id(), goodPayloads.get(i))
                    : salvage.add(header.type(), e.id(), data, e.offset(), e.length(), e.rawLength())) {
                copied++;
            }
        }
        progress.accept("pack " + name + ": " + bad.size() + " damaged blob(s) left out, " + good.size() + " good one(s) copied");
        return new Scanned(new PackRecord(id, header.type(), List.of()), new DamagedPack(name, List.copyOf(bad), good.size(), !hashOk));
    }

    /** New packs for the good blobs of damaged packs, stored as they fill; thread safe. */
    private final class Salvage {
        final List<PackRecord> records = Collections.synchronizedList(new ArrayList<>());
        private final java.util.Set<BlobId> added = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final io.haven.repository.pack.Packer data;
        private final io.haven.repository.pack.Packer trees;

        Salvage() {
            int packSize = repo.config().packSize();
            data = new io.haven.repository.pack.Packer(io.haven.repository.BlobType.DATA, repo.key(), packSize, this::store);
            trees = new io.haven.repository.pack.Packer(io.haven.repository.BlobType.TREE, repo.key(), Math.min(packSize, 4 << 20),
                    this::store);
        }

        /** Adds an authenticated sealed blob unless it was added already; returns whether it was added. */
        boolean add(io.haven.repository.BlobType type, BlobId id, byte[] buf, int offset, int length, int rawLength) {
            if (!added.add(id)) {
                return false;
            }
            (type == io.haven.repository.BlobType.DATA ? data : trees).add(id, buf, offset, length, rawLength);
            return true;
        }

        /** Seals an authenticated data blob's payload on its own and adds it unless it was added already. */
        boolean addPayload(BlobId id, byte[] payload) {
            if (!added.add(id)) {
                return false;
            }
            data.add(id, repo.key().seal(payload, 0, payload.length, true), payload.length);
            return true;
        }

        private void store(PackRecord record, byte[] pack, int length) {
            repo.backend().write(record.objectName(), pack, length);
            records.add(record);
        }

        void flush() {
            data.flush();
            trees.flush();
        }
    }

    /** One repaired snapshot: the old id, the new one (null in a dry run), and what was dropped. */
    public record RepairedSnapshot(String oldId, String newId, List<String> removed) {}

    /** Files, their bytes and directories of a repaired tree, for the repaired snapshot's summary. */
    private static final class Totals {
        long files;
        long bytes;
        long dirs;
    }

    /**
     * Writes, for every snapshot that references missing trees or chunks, a new snapshot without
     * the damaged entries (files with a missing chunk and directories whose listing is missing
     * are left out; each is named in the result), tagged {@code repaired}, whose summary counts
     * what the repaired tree holds. With {@code forget} the damaged originals are removed
     * afterwards; otherwise they stay, and prune keeps refusing until they are forgotten.
     *
     * @throws HavenException CORRUPT, writing nothing, when a pack that no index names holds a
     *     missing blob ({@code repair index} recovers it); BUSY when such a pack may be a running
     *     backup's, which indexes it when it ends
     */
    public List<RepairedSnapshot> repairSnapshots(boolean dryRun, boolean forget) {
        WriterRegistration reg = repo.register("repair", host);
        Pruner.refuseConcurrentMaintenance(repo, reg);
        repo.reloadIndex();
        Index index = repo.index();
        List<RepairedSnapshot> out = new ArrayList<>();
        // first what is missing, writing nothing
        java.util.Set<BlobId> missing = new java.util.HashSet<>();
        Map<String, List<String>> damaged = new java.util.LinkedHashMap<>();
        List<Repository.SnapshotEntry> snaps = repo.snapshots();
        for (Repository.SnapshotEntry s : snaps) {
            List<String> removed = new ArrayList<>();
            repairTree(index, null, BlobId.parse(s.snapshot().tree()), "", removed, missing, new Totals());
            if (!removed.isEmpty()) {
                damaged.put(s.id().hex(), removed);
            }
        }
        if (!missing.isEmpty()) {
            refuseWhileUnindexedPacksHoldMissingData(reg, index, missing);
        }
        try (RepositoryWriter writer = dryRun || damaged.isEmpty() ? null : repo.newWriter()) {
            for (Repository.SnapshotEntry s : snaps) {
                if (!damaged.containsKey(s.id().hex())) {
                    continue;
                }
                List<String> removed = new ArrayList<>();
                Totals totals = new Totals();
                BlobId root = BlobId.parse(s.snapshot().tree());
                BlobId newRoot = repairTree(index, writer, root, "", removed, missing, totals);
                progress.accept("snapshot " + s.id().shortHex() + ": " + removed.size() + " damaged entr"
                        + (removed.size() == 1 ? "y" : "ies"));
                if (dryRun) {
                    out.add(new RepairedSnapshot(s.id().hex(), null, removed));
                    continue;
                }
                if (newRoot == null) {
                    newRoot = writer.saveTree(new Tree(List.of()).encode());
                }
                writer.flush();
                Snapshot o = s.snapshot();
                List<String> tags = new ArrayList<>(o.tags());
                if (!tags.contains("repaired")) {
                    tags.add("repaired");
                }
                Snapshot repaired = new Snapshot(1, o.time(), newRoot.hex(), o.paths(), o.host(), o.username(), o.uid(), o.gid(),
                        tags, o.excludes(), s.id().hex(), o.programVersion(), repairedSummary(o.summary(), totals));
                BlobId id = repo.saveSnapshot(repaired);
                if (forget) {
                    repo.backend().delete("snapshots/" + s.id().hex());
                }
                out.add(new RepairedSnapshot(s.id().hex(), id.hex(), removed));
            }
        }
        if (!repo.unreadableSnapshots().isEmpty()) {
            for (String bad : repo.unreadableSnapshots()) {
                out.add(new RepairedSnapshot(bad.substring(0, bad.indexOf(':')), null,
                        List.of("the snapshot itself cannot be read; remove it with 'haven forget ID'")));
            }
        }
        return out;
    }

    /**
     * The original's summary with the totals of the repaired tree: {@code total_files},
     * {@code total_bytes} and {@code dirs} count what a restore of the repaired snapshot gives.
     * What the original backup run did (files new, changed, bytes added, its duration, the
     * paths it missed) stays as it was.
     */
    private static Snapshot.Summary repairedSummary(Snapshot.Summary o, Totals t) {
        if (o == null) {
            return new Snapshot.Summary(0, 0, 0, t.dirs, 0, 0, t.files, t.bytes, 0, List.of());
        }
        return new Snapshot.Summary(o.filesNew(), o.filesChanged(), o.filesUnmodified(), t.dirs, o.bytesProcessed(), o.bytesAdded(),
                t.files, t.bytes, o.durationSeconds(), o.missed());
    }

    /**
     * Refuses when a pack that no index file names holds a blob the snapshots miss: the data is
     * not lost, {@code repair index} brings it back, and repairing the snapshots (then pruning)
     * would delete it for good.
     */
    private void refuseWhileUnindexedPacksHoldMissingData(WriterRegistration reg, Index index, java.util.Set<BlobId> missing) {
        List<String> unindexed = UnindexedPacks.list(repo, index);
        if (unindexed.isEmpty()) {
            return;
        }
        UnindexedPacks.Scan scan = UnindexedPacks.scan(repo, unindexed, missing, threads);
        for (String u : scan.unreadable()) {
            progress.accept("pack " + u + " (not in any index; its data cannot be recovered)");
        }
        if (scan.holding().isEmpty()) {
            return;
        }
        String what = scan.holding().size() + " pack(s) that no index names (" + scan.holding().get(0)
                + (scan.holding().size() > 1 ? ", …" : "") + ") hold " + scan.blobsFound() + " of the " + missing.size()
                + " blob(s) the snapshots miss, so that data is not lost";
        java.time.Instant now = reg.backendNow();
        List<String> live = new ArrayList<>();
        for (Repository.WriterEntry w : repo.writers()) {
            if (!w.name().equals(reg.name()) && !w.marker().isMaintenance() && w.liveAt(now, reg.staleAfter())) {
                live.add(w.marker().kind() + " on " + w.marker().host() + " (pid " + w.marker().pid() + ", started "
                        + w.marker().started() + ")");
            }
        }
        if (!live.isEmpty()) {
            throw new HavenException(ErrorCode.BUSY, "not repairing snapshots: " + what + ". They may be packs of a "
                    + String.join(", ", live) + ", which indexes them when it ends: wait for it to finish and run this again. "
                    + "If they are still unindexed then, run 'haven repair index' first.");
        }
        throw new HavenException(ErrorCode.CORRUPT, "not repairing snapshots: " + what
                + ". Run 'haven repair index' first (it indexes them), then 'haven check', and 'haven repair snapshots' only for"
                + " what is still missing.");
    }

    /**
     * Returns the id of the repaired tree (the same id when nothing changed), or null when the
     * tree itself is missing. Adds the ids of missing blobs to {@code missing}, and what the
     * repaired tree holds to {@code totals}.
     */
    private BlobId repairTree(Index index, RepositoryWriter writer, BlobId treeId, String path, List<String> removed,
            java.util.Set<BlobId> missing, Totals totals) {
        Tree tree;
        try {
            if (index.find(treeId) < 0) {
                removed.add((path.isEmpty() ? "/" : path) + " (its directory listing is missing)");
                missing.add(treeId);
                return null;
            }
            tree = repo.loadTree(treeId);
        } catch (HavenException e) {
            if (e.code() != ErrorCode.CORRUPT && e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
            removed.add((path.isEmpty() ? "/" : path) + " (its directory listing is damaged: " + e.getMessage() + ")");
            return null;
        }
        List<Node> nodes = new ArrayList<>();
        boolean changed = false;
        for (Node n : tree.nodes()) {
            String p = path + "/" + n.displayName();
            if (n.type() == NodeType.DIR) {
                BlobId sub = repairTree(index, writer, n.subtree(), p, removed, missing, totals);
                if (sub == null) {
                    changed = true;
                    continue;
                }
                totals.dirs++;
                if (!sub.equals(n.subtree())) {
                    changed = true;
                    n = n.withSubtree(sub);
                }
            } else if (n.type() == NodeType.FILE) {
                BlobId gone = n.content().stream().filter(id -> index.find(id) < 0).findFirst().orElse(null);
                if (gone != null) {
                    removed.add(p + " (chunk " + gone.shortHex() + " is missing)");
                    n.content().stream().filter(id -> index.find(id) < 0).forEach(missing::add);
                    changed = true;
                    continue;
                }
                totals.files++;
                totals.bytes += n.size();
            }
            nodes.add(n);
        }
        if (!changed) {
            return treeId;
        }
        return writer == null ? treeId : writer.saveTree(new Tree(nodes).encode());
    }
}
