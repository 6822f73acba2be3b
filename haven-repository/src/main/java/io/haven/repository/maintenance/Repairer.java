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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    /** What {@link #rebuildIndex()} did. {@code unreadable}: packs whose header could not be read (left alone). */
    public record IndexResult(int packs, long blobs, int oldFiles, int newFiles, List<String> unreadable) {}

    /**
     * Reads the header of every pack and writes index files for all of them, then deletes the
     * index files that existed before. New index files come first, so a kill leaves duplicates,
     * never a gap; index files that backups write meanwhile are kept.
     */
    public IndexResult rebuildIndex() {
        WriterRegistration reg = repo.register("repair", host);
        Pruner.refuseConcurrentMaintenance(repo, reg);
        List<String> oldFiles = repo.backend().list("index");
        List<String> packs = new ArrayList<>(repo.backend().list("data"));
        packs.addAll(repo.backend().list("tree"));
        Collections.sort(packs);
        progress.accept("reading the headers of " + packs.size() + " pack(s)");
        List<String> unreadable = Collections.synchronizedList(new ArrayList<>());
        Map<String, PackRecord> records = new HashMap<>();
        // cold packs cannot be read without a thaw: keep what the current index says about them
        Map<String, PackRecord> coldRecords = new HashMap<>();
        if (repo.backend() instanceof io.haven.repository.tier.TieredBackend tiered) {
            io.haven.repository.index.Index old = null;
            int[][] byPack = null;
            for (String name : packs) {
                if (tiered.needsThaw(name)) {
                    if (old == null) {
                        repo.reloadIndex();
                        old = repo.index();
                        byPack = old.entriesByPack();
                    }
                    int p = old.packNumber(BlobId.parse(name.substring(name.lastIndexOf('/') + 1)));
                    if (p >= 0) {
                        coldRecords.put(name, old.packRecord(p, byPack[p]));
                    } else {
                        coldRecords.put(name, null);
                    }
                }
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), Thread.ofPlatform().daemon().name("haven-repair-", 0).factory());
        try {
            List<Future<PackRecord>> fs = new ArrayList<>();
            for (String name : packs) {
                fs.add(pool.submit(() -> {
                    if (coldRecords.containsKey(name)) {
                        PackRecord r = coldRecords.get(name);
                        if (r == null) {
                            unreadable.add(name + ": in the cold tier and in no index file; thaw a snapshot that uses it and repair again");
                        }
                        return r;
                    }
                    try {
                        var info = repo.backend().stat(name);
                        if (info.isEmpty()) {
                            return null;
                        }
                        BlobId id = BlobId.parse(name.substring(name.lastIndexOf('/') + 1));
                        PackRecord r = PackHeader.readTail(repo.key(), id, repo.backend(), name, info.get().size());
                        if (!r.objectName().equals(name)) {
                            throw new HavenException(ErrorCode.CORRUPT, "pack " + name + " holds blobs of another type");
                        }
                        return r;
                    } catch (HavenException e) {
                        if (e.code() != ErrorCode.CORRUPT && e.code() != ErrorCode.NOT_FOUND) {
                            throw e;
                        }
                        unreadable.add(name + ": " + e.getMessage());
                        return null;
                    }
                }));
            }
            for (int i = 0; i < fs.size(); i++) {
                PackRecord r = fs.get(i).get();
                if (r != null) {
                    records.put(packs.get(i), r);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted while reading pack headers");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof HavenException he) {
                throw he;
            }
            throw new HavenException(ErrorCode.IO, "reading pack headers failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        List<PackRecord> batch = new ArrayList<>();
        int blobsInBatch = 0;
        long blobs = 0;
        int newFiles = 0;
        List<String> written = new ArrayList<>();
        for (String name : packs) {
            PackRecord r = records.get(name);
            if (r == null) {
                continue;
            }
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
        return new IndexResult(records.size(), blobs, removed, newFiles, List.copyOf(unreadable));
    }

    /** One repaired snapshot: the old id, the new one (null in a dry run), and what was dropped. */
    public record RepairedSnapshot(String oldId, String newId, List<String> removed) {}

    /**
     * Writes, for every snapshot that references missing trees or chunks, a new snapshot without
     * the damaged entries (files with a missing chunk and directories whose listing is missing
     * are left out; each is named in the result), tagged {@code repaired}. With {@code forget}
     * the damaged originals are removed afterwards; otherwise they stay, and prune keeps
     * refusing until they are forgotten.
     */
    public List<RepairedSnapshot> repairSnapshots(boolean dryRun, boolean forget) {
        WriterRegistration reg = repo.register("repair", host);
        Pruner.refuseConcurrentMaintenance(repo, reg);
        repo.reloadIndex();
        Index index = repo.index();
        List<RepairedSnapshot> out = new ArrayList<>();
        try (RepositoryWriter writer = dryRun ? null : repo.newWriter()) {
            for (Repository.SnapshotEntry s : repo.snapshots()) {
                List<String> removed = new ArrayList<>();
                BlobId root = BlobId.parse(s.snapshot().tree());
                BlobId newRoot = repairTree(index, writer, root, "", removed);
                if (removed.isEmpty()) {
                    continue;
                }
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
                        tags, o.excludes(), s.id().hex(), o.programVersion(), o.summary());
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

    /** Returns the id of the repaired tree (the same id when nothing changed), or null when the tree itself is missing. */
    private BlobId repairTree(Index index, RepositoryWriter writer, BlobId treeId, String path, List<String> removed) {
        Tree tree;
        try {
            if (index.find(treeId) < 0) {
                removed.add((path.isEmpty() ? "/" : path) + " (its directory listing is missing)");
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
                BlobId sub = repairTree(index, writer, n.subtree(), p, removed);
                if (sub == null) {
                    changed = true;
                    continue;
                }
                if (!sub.equals(n.subtree())) {
                    changed = true;
                    n = n.withSubtree(sub);
                }
            } else if (n.type() == NodeType.FILE) {
                BlobId gone = n.content().stream().filter(id -> index.find(id) < 0).findFirst().orElse(null);
                if (gone != null) {
                    removed.add(p + " (chunk " + gone.shortHex() + " is missing)");
                    changed = true;
                    continue;
                }
            }
            nodes.add(n);
        }
        if (!changed) {
            return treeId;
        }
        return writer == null ? treeId : writer.saveTree(new Tree(nodes).encode());
    }
}
