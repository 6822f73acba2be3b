package io.haven.repository.check;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.crypto.ObjectHash;
import io.haven.repository.index.Index;
import io.haven.repository.index.PackRecord;
import io.haven.repository.maintenance.UnindexedPacks;
import io.haven.repository.pack.BlobOpener;
import io.haven.repository.pack.PackHeader;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Verifies a repository. Structure: every index file decodes and matches its name, every
 * indexed pack exists with a plausible size, every snapshot decodes, every tree it reaches
 * decodes and verifies, and every chunk a file names is indexed. With read-data: every pack is
 * read whole, its SHA-256 must match its name, its header must match the index, and every blob
 * is decrypted, authenticated and checked against its id.
 *
 * <p>Problems are collected, not thrown: one bad pack does not hide the next.
 */
public final class Checker {
    private final Repository repo;
    private final boolean readData;
    private final int threads;
    private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    private final List<String> warnings = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong packsRead = new AtomicLong();
    private final AtomicLong bytesRead = new AtomicLong();
    private volatile long packsTotal = -1;
    private volatile long bytesTotal = -1;
    /** Stored sizes of the indexed packs, as examined before reading. */
    private final Map<String, Long> packSizes = new ConcurrentHashMap<>();
    /** Packs that were listed but gone when read whole. */
    private final List<String> vanished = Collections.synchronizedList(new ArrayList<>());

    private final Subset subset;
    /** Trees and chunks that snapshots reference and the index lacks. */
    private final Set<BlobId> missingBlobs = ConcurrentHashMap.newKeySet();

    /** What check says about damaged data: the way out. */
    public static final String DAMAGE_ADVICE = "run 'haven repair index --read-data', then 'haven repair snapshots'";
    /** The same for a pack that no index names: the index does not rely on it, and prune removes it. */
    private static final String UNINDEXED_DAMAGE_ADVICE = "the pack is in no index: 'haven prune' removes it once no snapshot"
            + " misses data (run 'haven repair index --read-data' and 'haven repair snapshots' first if some do)";

    public Checker(Repository repo, boolean readData, int threads) {
        this(repo, readData ? Subset.ALL : null, threads);
    }

    /** {@code subset}: which packs to read whole, or null for structure only. */
    public Checker(Repository repo, Subset subset, int threads) {
        this.repo = repo;
        this.readData = subset != null;
        this.subset = subset;
        this.threads = threads;
    }

    /**
     * Which packs {@code --read-data-subset} reads. {@code K/M}: the packs whose id's first byte
     * is {@code K-1} modulo {@code M}, so that runs 1/M … M/M together read every pack once.
     * {@code N%}: a random N percent, different on every run.
     */
    public record Subset(int part, int parts, double share, java.util.random.RandomGenerator random) {
        public static final Subset ALL = new Subset(1, 1, 1.0, null);

        public static Subset parse(String spec, java.util.random.RandomGenerator random) {
            String s = spec.trim();
            try {
                if (s.endsWith("%")) {
                    double pct = Double.parseDouble(s.substring(0, s.length() - 1));
                    if (!(pct > 0 && pct <= 100)) {
                        throw new NumberFormatException();
                    }
                    return new Subset(1, 1, pct / 100, random);
                }
                int slash = s.indexOf('/');
                if (slash > 0) {
                    int k = Integer.parseInt(s.substring(0, slash));
                    int m = Integer.parseInt(s.substring(slash + 1));
                    if (m >= 1 && m <= 256 && k >= 1 && k <= m) {
                        return new Subset(k, m, 1.0, null);
                    }
                }
            } catch (NumberFormatException e) {
                // fall through to the message
            }
            throw new io.haven.core.HavenException(io.haven.core.ErrorCode.USAGE, "cannot read subset '" + spec
                    + "': use N% (e.g. 10%) or K/M with 1 <= K <= M <= 256 (e.g. 2/7)");
        }

        /** Whether the pack is in part {@code part} of {@code parts} (by its name's first byte). */
        boolean inPart(String packName) {
            String hex = packName.substring(packName.lastIndexOf('/') + 1);
            return parts <= 1 || Integer.parseInt(hex.substring(0, 2), 16) % parts == part - 1;
        }

        /**
         * The packs to read among {@code candidates}: all of them, or for N% that share of them
         * (rounded, at least one), chosen at random, so that a small share of a small repository
         * still reads something.
         */
        List<String> pick(List<String> candidates) {
            if (share >= 1.0 || candidates.isEmpty()) {
                return candidates;
            }
            List<String> sorted = new ArrayList<>(candidates);
            java.util.Collections.sort(sorted);
            java.util.Collections.shuffle(sorted, random);
            int k = (int) Math.max(1, Math.round(share * sorted.size()));
            return sorted.subList(0, Math.min(k, sorted.size()));
        }
    }

    /** What check found. The repository is fine when {@code errors} is empty. */
    public record Result(List<String> errors, List<String> warnings, long snapshots, long trees, long packs,
            long blobs, long bytesRead) {}

    public long packsRead() {
        return packsRead.get();
    }

    public long bytesRead() {
        return bytesRead.get();
    }

    public long packsTotal() {
        return packsTotal;
    }

    /** Bytes of the packs {@code --read-data} reads, once known; -1 before. */
    public long bytesTotal() {
        return bytesTotal;
    }

    public Result run() {
        // snapshots are listed before the index files are read: a backup writes its index files
        // before its snapshot, so a backup that ends meanwhile cannot look like missing data
        List<String> snapshotNames = repo.backend().list("snapshots");
        IndexRead read = readIndex();
        errors.addAll(read.damaged());
        Index index = read.index();
        int[][] byPack = index.entriesByPack();
        Map<String, Integer> indexed = new HashMap<>();
        for (int p = 0; p < byPack.length; p++) {
            indexed.put(index.packName(p), p);
        }
        Set<String> stored = new HashSet<>(repo.backend().list("data"));
        stored.addAll(repo.backend().list("tree"));
        for (String name : stored.stream().filter(n -> !Repository.isPackName(n)).sorted().toList()) {
            warnings.add("object " + name + " is not a pack (Haven did not write it; another repository nested in this"
                    + " one's location?): check, repair and prune leave it alone");
            stored.remove(name);
        }
        List<String> missing = new ArrayList<>();
        for (int p = 0; p < byPack.length; p++) {
            String name = index.packName(p);
            if (!stored.contains(name)) {
                missing.add(name);
                continue;
            }
            var size = repo.backend().stat(name).map(io.haven.repository.backend.Backend.ObjectInfo::size);
            if (size.isEmpty()) {
                missing.add(name);
                continue;
            }
            long min = 4;
            for (int e : byPack[p]) {
                Index.Entry x = index.entry(e);
                min = Math.max(min, (long) x.offset() + x.length() + 4);
            }
            packSizes.put(name, size.get());
            if (size.get() < min) {
                errors.add("pack " + name + " is truncated (" + size.get() + " bytes, index needs at least " + min + ")");
            }
        }
        List<String> unindexed = stored.stream().filter(n -> !indexed.containsKey(n)).sorted().toList();
        Set<String> indexedNow = missing.isEmpty() && unindexed.isEmpty() ? Set.of() : packsIndexedNow();
        for (String name : stillIndexed(missing, indexedNow)) {
            errors.add("pack " + name + " is in the index but missing from the repository");
        }
        // else a prune or backup indexed it after the index was read
        List<String> stillUnindexed = unindexed.stream().filter(n -> indexedNow == null || !indexedNow.contains(n)).toList();
        try {
            for (Repository.CondemnedEntry c : repo.condemnedSets()) {
                warnings.add(c.set().packs().size() + " pack(s) are condemned by a prune (set " + c.id().substring(0, 8)
                        + ") and wait for writers that started before it; the next 'haven prune' deletes them");
            }
        } catch (HavenException e) {
            errors.add("a condemned set cannot be read: " + e.getMessage());
        }
        staleWriterMarkers();
        // snapshots and trees
        long snapshots = 0;
        Set<BlobId> seenTrees = new HashSet<>();
        for (String name : snapshotNames) {
            Repository.SnapshotEntry s;
            try {
                s = repo.resolveName(name);
            } catch (HavenException e) {
                if (e.code() == io.haven.core.ErrorCode.NOT_FOUND) {
                    continue; // forgotten since it was listed
                }
                errors.add("snapshot " + name + ": " + e.getMessage());
                continue;
            }
            snapshots++;
            walk(index, name, s.id().shortHex(), "", BlobId.parse(s.snapshot().tree()), seenTrees);
        }
        reportUnindexed(stillUnindexed);
        if (readData) {
            readPacks(index, stored, indexed, byPack);
            for (String name : stillIndexed(vanished, vanished.isEmpty() ? Set.of() : packsIndexedNow())) {
                errors.add("pack " + name + " is in the index but missing from the repository");
            }
        }
        int pruned = missing.size() + vanished.size();
        if (pruned > 0) {
            warnings.add(pruned + " pack(s) were deleted by a prune while check ran and are no longer in the index;"
                    + " not an error");
        }
        return new Result(List.copyOf(errors), List.copyOf(warnings), snapshots, seenTrees.size(), indexed.size(),
                index.blobCount(), bytesRead.get());
    }

    /**
     * Warns about writer markers that prune would remove: older than max(4 × stale-after, 1 hour),
     * left by killed processes. Check writes nothing, so the age is taken with this machine's
     * clock against the marker's last-modified time on the backend; the hour's floor keeps a
     * clock that is a few minutes off from showing a running backup.
     */
    private void staleWriterMarkers() {
        try {
            java.time.Instant now = repo.clock().instant();
            for (Repository.WriterEntry w : repo.writers()) {
                if (w.staleBeyondDoubt(now, repo.staleAfter())) {
                    warnings.add("writer marker " + w.name() + " (" + w.marker().kind() + " on host " + w.marker().host()
                            + ", pid " + w.marker().pid() + ", started " + w.marker().started() + ") was last refreshed "
                            + ageText(w.age(now)) + " ago: its process was killed or died; harmless, 'haven prune' removes it");
                }
            }
        } catch (HavenException e) {
            warnings.add("the writer markers cannot be read: " + e.getMessage());
        }
    }

    private static String ageText(java.time.Duration d) {
        long s = d.toSeconds();
        if (s >= 2 * 86400) {
            return s / 86400 + " days";
        }
        if (s >= 2 * 3600) {
            return s / 3600 + " hours";
        }
        return s / 60 + " minutes";
    }

    /**
     * Warns about packs that no index names. Usually an interrupted backup left them and they
     * are harmless; but when snapshots miss data, their headers are read: packs that hold
     * missing blobs are not harmless at all (lost index files), and the way out is
     * {@code repair index}, not {@code repair snapshots} or {@code prune}.
     */
    private void reportUnindexed(List<String> unindexed) {
        if (unindexed.isEmpty()) {
            return;
        }
        // a running backup's packs are not indexed until its index file is written
        boolean writing = !repo.backend().list("writers").isEmpty();
        String harmless = writing
                ? "(yet: a backup is running or was interrupted; harmless)"
                : repo.backend().find(io.haven.repository.cache.CacheBackend.class).isPresent()
                        ? "(left by an interrupted backup; harmless, a 'haven cache sync' that needs the room removes it)"
                        : "(left by an interrupted backup; harmless, 'haven prune' removes it)";
        if (missingBlobs.isEmpty()) {
            for (String name : unindexed) {
                warnings.add("pack " + name + " is not in any index " + harmless);
            }
            return;
        }
        UnindexedPacks.Scan scan = UnindexedPacks.scan(repo, unindexed, missingBlobs, threads);
        for (String u : scan.unreadable()) {
            warnings.add("pack " + u + " (not in any index; its header cannot be read, so neither check nor 'haven repair index'"
                    + " can tell what it holds)");
        }
        if (scan.holding().isEmpty()) {
            // none holds a missing blob (nor, then, what lies below a missing tree)
            for (String name : scan.unrelated()) {
                warnings.add("pack " + name + " is not in any index " + harmless);
            }
            return;
        }
        // the others may hold what lies below a missing tree that one of these holds
        for (String name : scan.holding()) {
            warnings.add("pack " + name + " is not in any index, and holds data that snapshots miss");
        }
        for (String name : scan.unrelated()) {
            warnings.add("pack " + name + " is not in any index, and may hold data that snapshots miss");
        }
        errors.add((scan.holding().size() + scan.unrelated().size()) + " unindexed pack(s) may hold the missing data ("
                + scan.blobsFound() + " of the " + missingBlobs.size() + " missing blob(s) are in them): run 'haven repair index'"
                + " first" + (writing ? " (or, if a backup is running, wait for it: it indexes its packs when it ends)" : "")
                + ", then 'haven check' again; 'haven repair snapshots' and 'haven prune' would lose that data");
    }

    /** Every index file read into one index, and a message for each file that could not be read. */
    private record IndexRead(Index index, List<String> damaged) {}

    /**
     * Reads every index file into one index. When a listed file is gone by the time it is read
     * (a prune rewrote it: it writes the replacement first), starts over with a new listing, so
     * that the replacement is not missed.
     */
    private IndexRead readIndex() {
        for (int attempt = 1; ; attempt++) {
            Index index = new Index();
            List<String> damaged = new ArrayList<>();
            boolean vanishedFile = false;
            for (String name : repo.backend().list("index")) {
                try {
                    repo.readIndexFile(name).forEach(index::add);
                } catch (HavenException e) {
                    if (e.code() == ErrorCode.NOT_FOUND && attempt < Repository.INDEX_LOAD_ATTEMPTS) {
                        vanishedFile = true;
                        break;
                    }
                    damaged.add("index file " + name + ": " + e.getMessage());
                }
            }
            if (!vanishedFile) {
                return new IndexRead(index, damaged);
            }
        }
    }

    /**
     * The packs that the index files, listed and read again now, name; null when one of them
     * could not be read: then nothing can be concluded, and every pack found missing is an error.
     */
    private Set<String> packsIndexedNow() {
        IndexRead now = readIndex();
        if (!now.damaged().isEmpty()) {
            return null;
        }
        Set<String> named = new HashSet<>();
        for (int p = 0; p < now.index().packCount(); p++) {
            named.add(now.index().packName(p));
        }
        return named;
    }

    /**
     * Of the packs found missing ({@code gone}), those that the index files, listed again after
     * that ({@code indexedNow}), still name: really missing; they are removed from {@code gone}.
     * The others were deleted by a prune that ran meanwhile, which rewrites every index file
     * that names a pack before it deletes the pack (or were unindexed packs a prune removed).
     */
    private static List<String> stillIndexed(List<String> gone, Set<String> indexedNow) {
        List<String> out = gone.stream().filter(n -> indexedNow == null || indexedNow.contains(n)).sorted().toList();
        gone.removeAll(out);
        return out;
    }

    private void walk(Index index, String snapName, String snap, String path, BlobId treeId, Set<BlobId> seen) {
        if (!seen.add(treeId)) {
            return;
        }
        Tree tree;
        try {
            if (index.lookup(treeId) == null) {
                missingBlobs.add(treeId);
                errors.add("snapshot " + snap + ": tree of " + (path.isEmpty() ? "/" : path) + " (" + treeId.shortHex() + ") is missing");
                return;
            }
            // a tree whose pack a prune deleted meanwhile is read where it went (Repository.loadMovedBlob)
            tree = Tree.decode(repo.loadBlob(treeId, index.lookup(treeId)), "tree " + treeId.shortHex());
        } catch (HavenException e) {
            if (e.code() == ErrorCode.NOT_FOUND && repo.backend().stat(snapName).isEmpty()) {
                return; // the snapshot was forgotten, and its data pruned, while check ran
            }
            errors.add("snapshot " + snap + ": tree of " + (path.isEmpty() ? "/" : path) + ": " + e.getMessage());
            return;
        }
        for (Node n : tree.nodes()) {
            String p = path + "/" + n.displayName();
            if (n.type() == NodeType.DIR) {
                walk(index, snapName, snap, p, n.subtree(), seen);
            } else if (n.type() == NodeType.FILE) {
                long size = 0;
                boolean complete = true;
                for (BlobId id : n.content()) {
                    Index.Location loc = index.lookup(id);
                    if (loc == null) {
                        missingBlobs.add(id);
                        errors.add("snapshot " + snap + ": " + p + " references chunk " + id.shortHex() + ", which is missing");
                        complete = false;
                        break;
                    }
                    size += loc.rawLength();
                }
                if (complete && size != n.size()) {
                    errors.add("snapshot " + snap + ": " + p + " has size " + n.size() + " but its chunks hold " + size + " bytes");
                }
            }
        }
    }

    private void readPacks(Index index, Set<String> stored, Map<String, Integer> indexed, int[][] byPack) {
        List<String> names = new ArrayList<>();
        var tiered = repo.backend() instanceof io.haven.repository.tier.TieredBackend t ? t : null;
        int cold = 0;
        List<String> inPart = new ArrayList<>();
        for (String n : stored) {
            if (subset.inPart(n)) {
                inPart.add(n);
            }
        }
        for (String n : subset.pick(inPart)) {
            if (tiered != null && tiered.needsThaw(n)) {
                cold++;   // reading it would need a thaw: its presence and size were checked above
                continue;
            }
            names.add(n);
        }
        if (cold > 0) {
            warnings.add(cold + " pack(s) are in the cold tier (" + tiered.cold().describe()
                    + ") and were not read; thaw a snapshot that uses them to read them");
        }
        Collections.sort(names);
        long total = 0;
        for (String n : names) {
            Long size = packSizes.get(n);
            total += size != null ? size : repo.backend().stat(n).map(io.haven.repository.backend.Backend.ObjectInfo::size).orElse(0L);
        }
        bytesTotal = total;
        packsTotal = names.size();
        ExecutorService pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().daemon().name("haven-check-", 0).factory());
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (String name : names) {
                Integer packNo = indexed.get(name);
                fs.add(pool.submit(() -> readPack(name, packNo == null ? null : index.packRecord(packNo, byPack[packNo]))));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            errors.add("check interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            errors.add("check failed: " + e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private void readPack(String name, PackRecord fromIndex) {
        String advice = fromIndex == null ? UNINDEXED_DAMAGE_ADVICE : DAMAGE_ADVICE;
        try {
            byte[] data = repo.backend().read(name);
            bytesRead.addAndGet(data.length);
            String hex = name.substring(name.lastIndexOf('/') + 1);
            boolean hashOk = ObjectHash.of(data).hex().equals(hex);
            PackRecord header;
            try {
                header = PackHeader.read(repo.key(), BlobId.parse(hex), data, "pack " + name);
            } catch (HavenException e) {
                if (e.code() != ErrorCode.CORRUPT) {
                    throw e;
                }
                errors.add("pack " + name + ": " + e.getMessage() + "; " + advice);
                return;
            }
            // blobs the index names in this pack: damage elsewhere in it was left out by 'repair index --read-data'
            Set<PackRecord.Entry> named = fromIndex == null ? null : new HashSet<>(fromIndex.blobs());
            List<String> damagedNamed = new ArrayList<>();
            int damagedLeftOut = 0;
            Map<BlobId, PackRecord.Entry> byId = new HashMap<>();
            // the members of a group follow each other in the header: the group is opened once
            BlobOpener opener = new BlobOpener(repo.key(), 1);
            BlobId packId = BlobId.parse(hex);
            for (PackRecord.Entry e : header.blobs()) {
                byId.put(e.id(), e);
                String problem = null;
                try {
                    opener.open(e.id(), packId, e.offset(), e.length(), e.rawLength(), e.member(), data, e.offset(),
                            "blob " + e.id().shortHex() + " in pack " + name);
                } catch (HavenException ex) {
                    if (ex.code() != ErrorCode.CORRUPT) {
                        throw ex;
                    }
                    problem = ex.getMessage();
                }
                if (problem == null) {
                    continue;
                }
                if (named == null || named.contains(e)) {
                    damagedNamed.add(problem);
                } else {
                    damagedLeftOut++;
                }
            }
            for (String p : damagedNamed) {
                errors.add(p + "; " + advice);
            }
            if (!hashOk && damagedNamed.isEmpty() && damagedLeftOut > 0) {
                warnings.add("pack " + name + " holds " + damagedLeftOut + " damaged blob(s) that no index names (left out by"
                        + " 'haven repair index --read-data'); 'haven prune' removes the pack");
            } else if (!hashOk) {
                errors.add("pack " + name + " does not match its hash: it was modified or damaged; " + advice);
            } else if (damagedLeftOut > 0) {
                errors.add("pack " + name + " holds " + damagedLeftOut + " damaged blob(s) although it matches its hash");
            }
            if (fromIndex != null) {
                for (PackRecord.Entry e : fromIndex.blobs()) {
                    PackRecord.Entry h = byId.get(e.id());
                    if (h == null || h.offset() != e.offset() || h.length() != e.length() || h.member() != e.member()) {
                        errors.add("pack " + name + " does not hold blob " + e.id().shortHex() + " where the index says");
                    }
                }
            }
        } catch (HavenException e) {
            if (e.code() == ErrorCode.NOT_FOUND) {
                vanished.add(name); // an error only if the index files still name it (stillIndexed)
            } else {
                errors.add("pack " + name + ": " + e.getMessage());
            }
        } finally {
            packsRead.incrementAndGet();
        }
    }
}
