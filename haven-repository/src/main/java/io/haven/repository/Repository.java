package io.haven.repository;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.chunker.Chunker;
import io.haven.repository.crypto.KeyFile;
import io.haven.repository.crypto.MasterKey;
import io.haven.repository.crypto.ObjectHash;
import io.haven.repository.index.Index;
import io.haven.repository.index.IndexCache;
import io.haven.repository.index.IndexCodec;
import io.haven.repository.index.PackRecord;
import io.haven.repository.snapshot.Snapshot;
import io.haven.repository.tree.Tree;
import java.security.SecureRandom;
import io.haven.repository.maintenance.CondemnedSet;
import io.haven.repository.maintenance.WriterMarker;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * An open repository: the one entry object of the engine. Opening checks the password against
 * the key files; the index is loaded on first use. Reads verify every blob's id.
 *
 * <p>Thread safe. Writing goes through {@link #newWriter()}.
 */
public final class Repository implements AutoCloseable {
    private final Backend backend;
    private final Config config;
    private final MasterKey key;
    /** Opens blobs for every reader of this process; keeps the last groups of small files opened. */
    private final io.haven.repository.pack.BlobOpener opener;
    private final String keyName;
    private final InstantSource clock;
    private final SecureRandom random;
    private volatile Index index;
    /** Where the loaded index is copied for the next command (see {@link IndexCache}), or null. */
    private volatile java.nio.file.Path indexCacheFile;
    /** The index files the loaded index is the union of, and those this process wrote since. */
    private volatile Set<String> indexFilesLoaded = Set.of();
    private final Set<String> indexFilesWritten = ConcurrentHashMap.newKeySet();
    /** False when condemned sets were pending at load: such an index is not copied. */
    private volatile boolean indexCacheable;
    private final java.util.concurrent.atomic.AtomicInteger openWriters = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Chunker chunker;
    private final ConcurrentHashMap<BlobId, Tree> treeCache = new ConcurrentHashMap<>();

    private Repository(Backend backend, Config config, MasterKey key, String keyName, InstantSource clock, SecureRandom random) {
        this.backend = backend;
        this.config = config;
        this.key = key;
        this.opener = new io.haven.repository.pack.BlobOpener(key, 16);
        this.keyName = keyName;
        this.clock = clock;
        this.random = random;
        if (config.compression() != null && "zstd".equals(config.compression().algorithm())) {
            key.compressionLevel(config.compression().level());
        }
    }

    /** Who creates keys and snapshots, recorded in key files. */
    public record Actor(String host, String username) {}

    /**
     * Creates a repository. The CLI refuses any non-empty directory first; this refuses a
     * location that already holds a config or keys.
     *
     * @throws HavenException REPOSITORY_EXISTS when the location holds a repository
     */
    public static Repository init(Backend backend, char[] password, int kdfMemoryKib, Actor actor, InstantSource clock,
            SecureRandom random) {
        return init(backend, password, kdfMemoryKib, DEFAULT_COMPRESSION_LEVEL, actor, clock, random);
    }

    /** The zstd level new repositories use; see docs/performance.md for why. */
    public static final int DEFAULT_COMPRESSION_LEVEL = 2;

    /** Creates a repository whose writers compress at {@code compressionLevel}. */
    public static Repository init(Backend backend, char[] password, int kdfMemoryKib, int compressionLevel, Actor actor,
            InstantSource clock, SecureRandom random) {
        return init(backend, password, kdfMemoryKib, compressionLevel, Config.VERSION, actor, clock, random);
    }

    /**
     * Creates a repository of format {@code formatVersion}: 1 stays readable by Haven versions
     * that know no groups of small blobs (docs/repository-format.md §2).
     */
    public static Repository init(Backend backend, char[] password, int kdfMemoryKib, int compressionLevel, int formatVersion,
            Actor actor, InstantSource clock, SecureRandom random) {
        Config.requireWritable(formatVersion);
        if (backend.stat("config").isPresent() || !backend.list("keys").isEmpty()) {
            throw new HavenException(ErrorCode.REPOSITORY_EXISTS, "a repository already exists at " + backend.location());
        }
        byte[] idBytes = new byte[16];
        random.nextBytes(idBytes);
        Config config = new Config(Config.FORMAT, formatVersion, HexFormat.of().formatHex(idBytes),
                clock.instant().toString(), Config.ChunkerParams.defaults(), 16 << 20, new Config.Compression("zstd", compressionLevel));
        MasterKey key = MasterKey.generate(random);
        KeyFile kf = KeyFile.create(key, password, kdfMemoryKib, clock.instant().toString(), actor.host(),
                actor.username(), random);
        String keyName = writeKey(backend, kf);
        backend.write("config", Json.write(config));
        return new Repository(backend, config, key, keyName, clock, random);
    }

    /**
     * Opens a repository with a password.
     *
     * @throws HavenException REPOSITORY_NOT_FOUND when there is no repository, WRONG_PASSWORD when
     *     no key opens with the password
     */
    public static Repository open(Backend backend, char[] password, InstantSource clock, SecureRandom random) {
        if (backend.stat("config").isEmpty()) {
            throw notFound(backend);
        }
        Config config = Json.read(backend.read("config"), Config.class, "repository config").validate();
        List<String> keys = backend.list("keys");
        if (keys.isEmpty()) {
            throw new HavenException(ErrorCode.CORRUPT, "the repository at " + backend.location() + " has no keys");
        }
        List<String> damaged = new ArrayList<>();
        for (String name : keys) {
            byte[] bytes = backend.read(name);
            if (!ObjectHash.of(bytes).hex().equals(name.substring(name.lastIndexOf('/') + 1))) {
                damaged.add(name); // a key file is named by the hash of its content
            }
            KeyFile kf;
            try {
                kf = Json.read(bytes, KeyFile.class, "key " + name);
            } catch (HavenException e) {
                if (!damaged.contains(name)) {
                    damaged.add(name);
                }
                continue;
            }
            byte[] material = kf.unwrap(password);
            if (material != null) {
                return new Repository(backend, config, new MasterKey(material), name, clock, random);
            }
        }
        if (!damaged.isEmpty()) {
            throw new HavenException(ErrorCode.WRONG_PASSWORD, "no key of the repository at " + backend.location()
                    + " opens with this password, and " + damaged.size() + " of its " + keys.size() + " key file(s) are damaged"
                    + " (content does not match the name: " + String.join(", ", damaged) + "): the password is wrong, or its"
                    + " key file is damaged; another password still opens the repository (then 'haven key add' a new one)");
        }
        throw new HavenException(ErrorCode.WRONG_PASSWORD, "wrong password: no key of the repository at "
                + backend.location() + " opens with it");
    }

    private static final java.util.regex.Pattern PACK_NAME =
            java.util.regex.Pattern.compile("(data|tree)/([0-9a-f]{2})/\\2[0-9a-f]{62}");

    /**
     * Whether {@code name} is a pack's name ({@code data/ab/ab…} or {@code tree/ab/ab…}, 64 hex
     * digits). Anything else under {@code data/} or {@code tree/} was not written by Haven (another
     * repository nested in this one's prefix, a stray upload): check reports it, and repair and
     * prune leave it alone instead of taking it for a pack.
     */
    public static boolean isPackName(String name) {
        return PACK_NAME.matcher(name).matches();
    }

    /** The error for a location without a repository config, naming what an interrupted init leaves. */
    public static HavenException notFound(Backend backend) {
        return new HavenException(ErrorCode.REPOSITORY_NOT_FOUND, backend.list("keys").isEmpty()
                ? "no repository at " + backend.location() + " (create one with 'haven init')"
                : "no repository at " + backend.location() + ": it holds keys but no config, as an interrupted"
                        + " 'haven init' leaves it (no data is written before the config); remove it and run 'haven init' again");
    }

    private static String writeKey(Backend backend, KeyFile kf) {
        byte[] bytes = Json.write(kf);
        String name = "keys/" + ObjectHash.of(bytes).hex();
        backend.write(name, bytes);
        return name;
    }

    public Backend backend() {
        return backend;
    }

    public Config config() {
        return config;
    }

    public MasterKey key() {
        return key;
    }

    public InstantSource clock() {
        return clock;
    }

    public SecureRandom random() {
        return random;
    }

    // ---------------------------------------------------------------- writers and condemned sets

    private volatile Duration staleAfter = DEFAULT_STALE_AFTER;
    private volatile WriterRegistration registration;

    /** How long a writer marker may go without a refresh before others take its writer for dead. */
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(5);

    /** Sets the stale-after interval (tests and impatient operators shorten it). Call before writing. */
    public void staleAfter(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new HavenException(ErrorCode.USAGE, "the stale-after interval must be positive");
        }
        staleAfter = d;
    }

    public Duration staleAfter() {
        return staleAfter;
    }

    private volatile java.util.function.LongSupplier monotonicNanos = System::nanoTime;

    /**
     * The monotonic clock (nanoseconds, as {@link System#nanoTime()}) by which this process's
     * writer registration measures how long it went without announcing itself. Tests set a fake
     * one; call before {@link #register}.
     */
    public void monotonicNanos(java.util.function.LongSupplier nanos) {
        monotonicNanos = java.util.Objects.requireNonNull(nanos);
    }

    public java.util.function.LongSupplier monotonicNanos() {
        return monotonicNanos;
    }

    /**
     * Announces this process as a writer of {@code kind} (see {@link WriterRegistration}); later
     * calls return the same registration. An index loaded before is dropped, so the next
     * {@link #index()} call happens after the announcement (what makes prune safe).
     */
    public synchronized WriterRegistration register(String kind, String host) {
        WriterRegistration r = registration;
        if (r == null) {
            r = WriterRegistration.register(this, kind, host, staleAfter);
            registration = r;
            index = null;
        }
        return r;
    }

    /** This process's registration, or null. */
    public WriterRegistration registration() {
        return registration;
    }

    /** A stored condemned set and its id. */
    public record CondemnedEntry(String id, CondemnedSet set) {
        public String name() {
            return "condemned/" + id;
        }
    }

    /** Every pending condemned set. Unreadable ones fail: deletion decisions must see all. */
    public List<CondemnedEntry> condemnedSets() {
        List<CondemnedEntry> out = new ArrayList<>();
        for (String name : backend.list("condemned")) {
            byte[] sealed;
            try {
                sealed = backend.read(name);
            } catch (HavenException e) {
                if (e.code() == ErrorCode.NOT_FOUND) {
                    continue; // completed meanwhile
                }
                throw e;
            }
            verifyName(name, sealed);
            String id = name.substring(name.lastIndexOf('/') + 1);
            out.add(new CondemnedEntry(id, Json.read(key.open(sealed, name), CondemnedSet.class, name)));
        }
        return out;
    }

    /** Stores a condemned set; returns its id. */
    public String saveCondemnedSet(CondemnedSet set) {
        byte[] sealed = key.seal(Json.write(set));
        String id = ObjectHash.of(sealed).hex();
        backend.write("condemned/" + id, sealed);
        return id;
    }

    // ---------------------------------------------------------------- tier policy

    /** The current tier policy ({@code tier/<hash>} with the newest set_at), or empty. */
    public java.util.Optional<io.haven.repository.tier.TierPolicy> tierPolicy() {
        io.haven.repository.tier.TierPolicy best = null;
        for (String name : backend.list("tier")) {
            byte[] sealed = backend.read(name);
            verifyName(name, sealed);
            var p = Json.read(key.open(sealed, name), io.haven.repository.tier.TierPolicy.class, "tier policy " + name);
            if (best == null || p.setAt().compareTo(best.setAt()) > 0) {
                best = p;
            }
        }
        return java.util.Optional.ofNullable(best);
    }

    /** Stores {@code policy} as the current one and removes the older ones; returns its object name. */
    public String saveTierPolicy(io.haven.repository.tier.TierPolicy policy) {
        List<String> old = backend.list("tier");
        byte[] sealed = key.seal(Json.write(policy.validate()));
        String name = "tier/" + ObjectHash.of(sealed).hex();
        backend.write(name, sealed);
        for (String o : old) {
            if (!o.equals(name)) {
                backend.delete(o);
            }
        }
        return name;
    }

    /**
     * This repository, opened with the same key, over another backend (the same objects seen
     * through a decorator, such as the cold tier's {@code TieredBackend}).
     */
    public Repository withBackend(Backend other) {
        Repository r = new Repository(other, config, key, keyName, clock, random);
        r.staleAfter = staleAfter;
        r.monotonicNanos = monotonicNanos;
        return r;
    }

    /** The age at which a writer marker is stale beyond doubt: max(4 × {@code staleAfter}, 1 hour). */
    public static final Duration MARKER_REMOVAL_MINIMUM = Duration.ofHours(1);

    /**
     * How old a writer marker must be before prune removes it (and check warns about it):
     * max(4 × {@code staleAfter}, 1 hour). A live writer rewrites its marker every
     * {@code staleAfter / 6}, and a writer whose marker is this old has gone past its own limit
     * (80 % of {@code staleAfter} from the start of its last good marker write) and saves nothing
     * any more; see docs/maintenance.md.
     */
    public static Duration markerRemovalAge(Duration staleAfter) {
        Duration four = staleAfter.multipliedBy(4);
        return four.compareTo(MARKER_REMOVAL_MINIMUM) > 0 ? four : MARKER_REMOVAL_MINIMUM;
    }

    /** A writer marker as found, with its last-modified time on the backend's clock. */
    public record WriterEntry(String name, WriterMarker marker, Instant modified) {
        /** Whether the writer refreshed its marker within {@code staleAfter} before {@code backendNow}. */
        public boolean liveAt(Instant backendNow, Duration staleAfter) {
            return modified.plus(staleAfter).isAfter(backendNow);
        }

        /** Whether the marker is older than {@link #markerRemovalAge(Duration)} at {@code now}. */
        public boolean staleBeyondDoubt(Instant now, Duration staleAfter) {
            return !modified.plus(markerRemovalAge(staleAfter)).isAfter(now);
        }

        /** How long ago the marker was last written, at {@code now} (never negative). */
        public Duration age(Instant now) {
            Duration d = Duration.between(modified, now);
            return d.isNegative() ? Duration.ZERO : d;
        }
    }

    /** Every writer marker (live or stale). Markers that vanish or cannot be read are skipped. */
    public List<WriterEntry> writers() {
        List<WriterEntry> out = new ArrayList<>();
        for (String name : backend.list("writers")) {
            try {
                var info = backend.stat(name);
                if (info.isEmpty()) {
                    continue;
                }
                WriterMarker m = Json.read(key.open(backend.read(name), name), WriterMarker.class, name);
                out.add(new WriterEntry(name, m, info.get().modified()));
            } catch (HavenException e) {
                if (e.code() != ErrorCode.NOT_FOUND && e.code() != ErrorCode.CORRUPT) {
                    throw e;
                }
            }
        }
        return out;
    }

    /** The object name of the key file that opened this repository. */
    public String keyName() {
        return keyName;
    }

    public Chunker chunker() {
        Chunker c = chunker;
        if (c == null) {
            c = new Chunker(config.chunker(), Chunker.gearTable(key::mac));
            chunker = c;
        }
        return c;
    }

    // ---------------------------------------------------------------- keys

    /** A key file and its name. */
    public record KeyEntry(String name, KeyFile file) {
        public String id() {
            return name.substring(name.lastIndexOf('/') + 1);
        }
    }

    public List<KeyEntry> keys() {
        List<KeyEntry> out = new ArrayList<>();
        for (String name : backend.list("keys")) {
            out.add(new KeyEntry(name, Json.read(backend.read(name), KeyFile.class, "key " + name)));
        }
        out.sort(Comparator.comparing((KeyEntry k) -> k.file().created()).thenComparing(KeyEntry::name));
        return out;
    }

    /** Adds a password; returns the new key's object name. */
    public String addKey(char[] password, int kdfMemoryKib, Actor actor) {
        KeyFile kf = KeyFile.create(key, password, kdfMemoryKib, clock.instant().toString(), actor.host(),
                actor.username(), random);
        return writeKey(backend, kf);
    }

    /**
     * Removes a key by id prefix. Refuses the key in use and the last key.
     */
    public String removeKey(String idPrefix) {
        List<KeyEntry> keys = keys();
        List<KeyEntry> match = keys.stream().filter(k -> k.id().startsWith(idPrefix.toLowerCase(Locale.ROOT))).toList();
        if (match.isEmpty()) {
            throw new HavenException(ErrorCode.NOT_FOUND, "no key with id " + idPrefix);
        }
        if (match.size() > 1) {
            throw new HavenException(ErrorCode.USAGE, "key id " + idPrefix + " is ambiguous; give more digits");
        }
        KeyEntry k = match.get(0);
        if (k.name().equals(keyName)) {
            throw new HavenException(ErrorCode.USAGE, "key " + k.id().substring(0, 8)
                    + " is the one in use; open the repository with another password to remove it, or use 'haven key passwd'");
        }
        if (keys.size() == 1) {
            throw new HavenException(ErrorCode.USAGE, "refusing to remove the last key: the repository would be lost");
        }
        backend.delete(k.name());
        return k.name();
    }

    /** Removes the key in use after another one was added (for {@code key passwd}). */
    public void removeCurrentKey(String replacement) {
        if (replacement.equals(keyName) || backend.stat(replacement).isEmpty()) {
            throw new HavenException(ErrorCode.INTERNAL, "replacement key " + replacement + " is not stored");
        }
        backend.delete(keyName);
    }

    // ---------------------------------------------------------------- index and blobs

    /** The index, loaded from all index files on first call. */
    public Index index() {
        Index i = index;
        if (i == null) {
            synchronized (this) {
                i = index;
                if (i == null) {
                    i = loadIndexAgainIfAFileVanishes();
                    index = i;
                }
            }
        }
        return i;
    }

    /** How often {@link #index()} lists the index files again when one vanished before it was read. */
    public static final int INDEX_LOAD_ATTEMPTS = 5;

    /**
     * {@link #loadIndex()}, started over (condemned sets, listing, files) when an index file that
     * was listed is gone when it is read: a prune rewrote it, and since it writes the replacement
     * before it deletes the original, a new listing has the replacement. Records in
     * {@link #indexListedAt} when the listing of the index returned began.
     */
    private Index loadIndexAgainIfAFileVanishes() {
        for (int attempt = 1; ; attempt++) {
            long started = System.nanoTime();
            try {
                Index i = loadIndex();
                indexListedAt = started;
                return i;
            } catch (HavenException e) {
                if (e.code() != ErrorCode.NOT_FOUND || attempt >= INDEX_LOAD_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** {@link System#nanoTime()} before the loaded index's condemned sets and index files were listed. */
    private volatile long indexListedAt;
    /** Packs found missing although an index listed after that still names them: really missing. */
    private final Set<String> packsMissing = ConcurrentHashMap.newKeySet();

    /**
     * Starts loading the index on a thread of its own, so that work that does not need it (such
     * as finding a parent snapshot) overlaps with it; {@link #index()} then waits for it. A
     * failure is not reported here: the next {@link #index()} call loads again and reports it.
     * Call after {@link #register}, which drops an index loaded before.
     */
    public void loadIndexInBackground() {
        if (index != null) {
            return;
        }
        Thread.ofPlatform().daemon().name("haven-index-load").start(() -> {
            try {
                index();
            } catch (RuntimeException e) {
                // reported by the caller's own index() call
            }
        });
    }

    /**
     * Keeps a copy of the loaded index in {@code file} (a local cache folder) and uses it when
     * it is still valid: see {@link IndexCache}. Call before the index is first loaded.
     */
    public void indexCache(java.nio.file.Path file) {
        this.indexCacheFile = file;
    }

    /**
     * Called by writers for every index file they stored, so that {@link #saveIndexCache()}
     * knows which files the index in memory is now the union of.
     */
    void indexFileWritten(String name) {
        indexFilesWritten.add(name);
    }

    void writerOpened() {
        openWriters.incrementAndGet();
    }

    void writerClosed() {
        openWriters.decrementAndGet();
    }

    /**
     * Updates the local copy of the index (see {@link #indexCache}) after a writer's
     * {@link RepositoryWriter#flush()}: then the index in memory is exactly the union of the
     * index files loaded and those written. Does nothing when another writer of this process is
     * open (its packs may be in the index but not yet in an index file), when nothing was
     * written, or when condemned sets were pending at load.
     */
    public void saveIndexCache() {
        java.nio.file.Path file = indexCacheFile;
        Index i = index;
        if (file == null || i == null || !indexCacheable || openWriters.get() != 1 || indexFilesWritten.isEmpty()) {
            return;
        }
        Set<String> names = new HashSet<>(indexFilesLoaded);
        names.addAll(indexFilesWritten);
        IndexCache.write(file, config.id(), i, names);
    }

    /** Drops the loaded index; the next {@link #index()} call reads the index files again. */
    public synchronized void reloadIndex() {
        index = null;
        treeCache.clear();
    }

    /**
     * Loads condemned sets first, then the index files (so every pack a set names is in an index
     * file read here, or gone), adding condemned packs last so that other copies are preferred.
     */
    private Index loadIndex() {
        List<CondemnedEntry> sets = condemnedSets();
        Set<String> condemnedPacks = new HashSet<>();
        for (CondemnedEntry c : sets) {
            condemnedPacks.addAll(c.set().packs());
        }
        List<String> names = backend.list("index");
        boolean cacheable = indexCacheFile != null && condemnedPacks.isEmpty();
        IndexCache.Cached cached = cacheable ? IndexCache.read(indexCacheFile, config.id()) : null;
        if (cached != null && !new HashSet<>(names).containsAll(cached.names())) {
            cached = null; // it names a file that is gone: a prune rewrote the index
        }
        Index idx;
        if (cached != null) {
            idx = cached.index();
            Set<String> inCopy = cached.names();
            List<String> more = names.stream().filter(n -> !inCopy.contains(n)).toList();
            loadIndexFiles(more, records -> records.forEach(idx::add));
        } else {
            idx = loadIndexFiles(names, condemnedPacks);
        }
        indexFilesLoaded = Set.copyOf(names);
        indexFilesWritten.clear();
        indexCacheable = condemnedPacks.isEmpty();
        if (cacheable && (cached == null || cached.names().size() != names.size())) {
            IndexCache.write(indexCacheFile, config.id(), idx, names);
        }
        var cache = backend.find(io.haven.repository.backend.CachingBackend.class);
        if (cache.isPresent()) {
            List<String> treePacks = new ArrayList<>();
            for (int p = 0; p < idx.packCount(); p++) {
                if (idx.packType(p) == BlobType.TREE) {
                    treePacks.add(idx.packName(p));
                }
            }
            cache.get().retain(BlobType.TREE.directory(), treePacks);
        }
        avoidUnsafePacks(idx);
        WriterRegistration r = registration;
        if (r != null) {
            r.condemnedSeen(sets.stream().map(CondemnedEntry::id).toList());
        }
        return idx;
    }

    /**
     * New snapshots must not come to depend on packs that are cold (they would need a thaw) or
     * that a site cache evicted (the main repository's prune may remove them): such blobs are
     * stored again instead.
     */
    private void avoidUnsafePacks(Index idx) {
        List<Integer> avoid = new ArrayList<>();
        if (backend instanceof io.haven.repository.tier.TieredBackend tiered) {
            Set<String> cold = tiered.coldNamesIfListed();
            if (cold != null) {
                for (int p = 0; p < idx.packCount(); p++) {
                    if (cold.contains(idx.packName(p))) {
                        avoid.add(p);
                    }
                }
            }
        }
        if (backend instanceof io.haven.repository.cache.CacheBackend cacheRepo) {
            Set<String> held = new HashSet<>(cacheRepo.localBackend().list("data"));
            held.addAll(cacheRepo.localBackend().list("tree"));
            for (int p = 0; p < idx.packCount(); p++) {
                if (!held.contains(idx.packName(p))) {
                    avoid.add(p);
                }
            }
        }
        if (!avoid.isEmpty()) {
            idx.avoid(avoid);
        }
    }

    /** Reads the named index files into a new index; packs in {@code condemnedPacks} are marked so. */
    public Index loadIndexFiles(List<String> names, Set<String> condemnedPacks) {
        Index idx = new Index();
        List<PackRecord> later = new ArrayList<>();
        java.util.function.Consumer<List<PackRecord>> add = records -> {
            for (PackRecord p : records) {
                if (condemnedPacks.contains(p.objectName())) {
                    later.add(p);
                } else {
                    idx.add(p);
                }
            }
        };
        loadIndexFiles(names, add);
        later.forEach(p -> idx.add(p, true));
        return idx;
    }

    private void loadIndexFiles(List<String> names, java.util.function.Consumer<List<PackRecord>> add) {
        if (names.size() < 2) {
            for (String name : names) {
                add.accept(readIndexFile(name));
            }
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(4, Runtime.getRuntime().availableProcessors()));
        try {
            List<Future<List<PackRecord>>> futures = new ArrayList<>();
            for (String name : names) {
                futures.add(pool.submit(() -> readIndexFile(name)));
            }
            for (Future<List<PackRecord>> f : futures) {
                add.accept(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted while loading the index");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof HavenException he) {
                throw he;
            }
            throw new HavenException(ErrorCode.IO, "cannot load the index: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Stores an index file naming {@code packs} (all of them already stored); returns its object
     * name. A registered writer checks that it can rely on its marker before and after the write
     * (see {@link #writeRelied}): a prune that took it for dead may have deleted those packs as
     * unindexed, and an index file naming missing packs would let other backups reuse lost data.
     */
    public String saveIndexFile(List<PackRecord> packs) {
        byte[] sealed = key.seal(IndexCodec.encode(packs));
        String name = "index/" + ObjectHash.of(sealed).hex();
        writeRelied(name, sealed);
        return name;
    }

    /**
     * Writes an object that other processes will rely on (an index file, a snapshot). When this
     * process is a registered writer, refuses unless its registration covers the time up to the
     * write's start, and again up to its end: a write that returns after the limit may have
     * landed after a prune took this process for dead and deleted what the object references
     * (the prune lists snapshots and index files only after it judged the writers). Such an
     * object is deleted again (best effort) before the refusal.
     *
     * @throws HavenException IO when the registration lapsed
     */
    private void writeRelied(String name, byte[] sealed) {
        WriterRegistration r = registration;
        if (r != null) {
            r.checkNotStalled();
        }
        backend.write(name, sealed);
        if (r != null) {
            try {
                r.checkNotStalled();
            } catch (HavenException e) {
                try {
                    backend.delete(name);
                } catch (RuntimeException ignored) {
                    e.addSuppressed(ignored);
                }
                throw e;
            }
        }
    }

    /** Reads and verifies one index file. */
    public List<PackRecord> readIndexFile(String name) {
        byte[] sealed = backend.read(name);
        verifyName(name, sealed);
        return IndexCodec.decode(key.open(sealed, name), name);
    }

    private static void verifyName(String name, byte[] stored) {
        String expected = name.substring(name.lastIndexOf('/') + 1);
        if (!ObjectHash.of(stored).hex().equals(expected)) {
            throw new HavenException(ErrorCode.CORRUPT, name + " does not match its hash: it was modified or damaged"
                    + (name.startsWith("index/") ? "; 'haven repair index' rebuilds the index from the packs" : ""));
        }
    }

    /**
     * Loads a blob's payload and verifies its id.
     *
     * @throws HavenException NOT_FOUND when the index does not know the blob, CORRUPT on any
     *     authentication or hash mismatch
     */
    public byte[] loadBlob(BlobId id) {
        Index.Location loc = index().lookup(id);
        if (loc == null) {
            throw new HavenException(ErrorCode.NOT_FOUND, "blob " + id.shortHex() + " is not in the index");
        }
        return loadBlob(id, loc);
    }

    /**
     * Loads blob {@code id} from {@code loc}, authenticated. When the pack is not there, a process
     * that reads without writing looks for the blob where the index files now put it: see
     * {@link #loadMovedBlob}.
     *
     * @throws HavenException NOT_FOUND when the blob is in no pack the repository holds, CORRUPT
     *     on any authentication or hash mismatch
     */
    public byte[] loadBlob(BlobId id, Index.Location loc) {
        try {
            return loadBlobAt(id, loc);
        } catch (HavenException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
            return loadMovedBlob(id, loc, e);
        }
    }

    /**
     * Reads blob {@code id} where the index files put it now, after reading it at {@code gone}
     * failed with {@code notFound}: a prune that ran since this process loaded its index may
     * have copied the blob into a new pack and deleted the old one. Prune writes the new copy and
     * the index files that name it before it deletes a pack, and deletes no blob that a
     * snapshot it listed needs; so when a pack is missing, an index loaded after that tells
     * where the blob went, or that no snapshot needs it any more. The index is loaded again once
     * for failures that happened before its listing began, not once per failure.
     *
     * <p>Only for readers (restore, check, ls, diff): a process that registered as a writer
     * keeps its index, which its {@link RepositoryWriter} and its writer marker depend on
     * (docs/maintenance.md); for it {@code notFound} is thrown as it is.
     *
     * @throws HavenException NOT_FOUND when the index loaded again still names the missing pack
     *     ({@code notFound}: data is missing) or no longer names the blob at all (a prune removed
     *     it: no snapshot needed it any more); CORRUPT as {@link #loadBlob(BlobId)}
     */
    public byte[] loadMovedBlob(BlobId id, Index.Location gone, HavenException notFound) {
        long failedAt = System.nanoTime();
        Index.Location at = gone;
        HavenException failure = notFound;
        for (int attempt = 1; attempt <= INDEX_LOAD_ATTEMPTS; attempt++) {
            if (registration != null || packsMissing.contains(at.packName())) {
                break;
            }
            Index current;
            synchronized (this) {
                current = index;
                // an index loaded since (for another read that failed) may already know where the
                // blob went: then no reload. Callers keep locations from the index they started
                // with (check's, a restore's per file), so many reads can fail after one reload.
                Index.Location known = current == null ? null : current.lookup(id);
                boolean stale = known == null || known.pack().equals(at.pack());
                if (stale && (current == null || indexListedAt - failedAt < 0)) {
                    // listed before the pack was found missing: list again (decoded trees stay valid)
                    index = null;
                    current = index();
                }
            }
            Index.Location now = current.lookup(id);
            if (now == null) {
                throw new HavenException(ErrorCode.NOT_FOUND, at.type().directory() + " blob " + id.shortHex()
                        + " is no longer in the repository: its pack " + at.packName() + " was deleted while this command ran, and no index file names the blob"
                        + " any more (a prune removed it because no snapshot needed it; was the snapshot forgotten meanwhile?)",
                        notFound);
            }
            if (now.pack().equals(at.pack())) {
                packsMissing.add(at.packName());
                break;
            }
            try {
                return loadBlobAt(id, now);
            } catch (HavenException e) {
                if (e.code() != ErrorCode.NOT_FOUND) {
                    throw e;
                }
                failure = e; // moved again by a later prune
                at = now;
                failedAt = System.nanoTime();
            }
        }
        throw failure;
    }

    private byte[] loadBlobAt(BlobId id, Index.Location loc) {
        // a member of a group opened a moment ago (the file before it in a restore): no read
        byte[] kept = loc.member() < 0 ? null
                : opener.openKept(id, loc.pack(), loc.offset(), loc.rawLength(), loc.member(), describe(id, loc));
        if (kept != null) {
            return kept;
        }
        try {
            return openBlob(id, loc, backend.read(loc.packName(), loc.offset(), loc.length()), 0);
        } catch (HavenException e) {
            // a cached copy damaged after it was checked: drop it and read the repository's copy
            var cache = backend.find(io.haven.repository.backend.CachingBackend.class);
            if (e.code() == ErrorCode.CORRUPT && cache.isPresent() && cache.get().isCached(loc.packName())) {
                cache.get().invalidate(loc.packName());
                return openBlob(id, loc, backend.read(loc.packName(), loc.offset(), loc.length()), 0);
            }
            throw e;
        }
    }

    private static String describe(BlobId id, Index.Location loc) {
        return loc.type().directory() + " blob " + id.shortHex() + " in pack " + loc.pack().shortHex();
    }

    /**
     * Authenticates and decodes blob {@code id}, whose sealed bytes ({@code loc.length()} of them)
     * start at {@code offset} in {@code buffer} (read from its pack by the caller).
     */
    public byte[] openBlob(BlobId id, Index.Location loc, byte[] buffer, int offset) {
        String what = describe(id, loc);
        return opener.open(id, loc.pack(), loc.offset(), loc.length(), loc.rawLength(), loc.member(), buffer, offset, what);
    }

    /**
     * A tree, from this repository's tree cache when it is there, else loaded and decoded
     * without being cached: for a reader that needs each tree once (a backup reads every tree
     * of its parent snapshot once; caching them kept 40 MiB of the kernel tree's nodes alive,
     * which the collector copied twice into the old generation).
     */
    public Tree readTree(BlobId id) {
        Tree t = treeCache.get(id);
        return t != null ? t : Tree.decode(loadBlob(id), "tree " + id.shortHex());
    }

    /** A tree, kept in a cache of up to 20,000 trees for readers that come back to them. */
    public Tree loadTree(BlobId id) {
        Tree t = treeCache.get(id);
        if (t == null) {
            t = Tree.decode(loadBlob(id), "tree " + id.shortHex());
            if (treeCache.size() > 20_000) {
                treeCache.clear();
            }
            treeCache.put(id, t);
        }
        return t;
    }

    /**
     * A writer for new blobs. Announces this process as a {@code backup} writer first unless it
     * already registered (callers that know the host name register themselves before).
     */
    public RepositoryWriter newWriter() {
        if (registration == null) {
            register("backup", "unknown");
        }
        return new RepositoryWriter(this);
    }

    // ---------------------------------------------------------------- snapshots

    /** A stored snapshot and its id. */
    public record SnapshotEntry(BlobId id, Snapshot snapshot) {
        public Instant time() {
            return Instant.parse(snapshot.time());
        }
    }

    /**
     * All readable snapshots, oldest first. A damaged snapshot is left out (and named by
     * {@link #unreadableSnapshots()}) so that one bad file does not block every command;
     * {@code check} reports it as an error. One that another process forgets between the listing
     * and its read is left out too: it is no longer a snapshot.
     */
    public List<SnapshotEntry> snapshots() {
        List<SnapshotEntry> out = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (String name : backend.list("snapshots")) {
            try {
                out.add(readSnapshot(name));
            } catch (HavenException e) {
                if (e.code() == ErrorCode.NOT_FOUND) {
                    continue; // listed, then forgotten by another process before it was read: not a snapshot any more
                }
                if (e.code() != ErrorCode.CORRUPT) {
                    throw e;
                }
                bad.add(name + ": " + e.getMessage());
            }
        }
        unreadable = List.copyOf(bad);
        out.sort(Comparator.comparing(SnapshotEntry::time).thenComparing(SnapshotEntry::id));
        return out;
    }

    private volatile List<String> unreadable = List.of();

    /** Snapshots the last {@link #snapshots()} call had to leave out, with the reason. */
    public List<String> unreadableSnapshots() {
        return unreadable;
    }

    /** Reads one snapshot object by its name ({@code snapshots/<id>}), verifying it. */
    public SnapshotEntry resolveName(String name) {
        return readSnapshot(name);
    }

    private SnapshotEntry readSnapshot(String name) {
        byte[] sealed = backend.read(name);
        verifyName(name, sealed);
        Snapshot s = Json.read(key.open(sealed, name), Snapshot.class, name);
        if (s.version() != 1) {
            throw new HavenException(ErrorCode.CORRUPT, name + " has unsupported version " + s.version());
        }
        return new SnapshotEntry(BlobId.parse(name.substring(name.lastIndexOf('/') + 1)), s);
    }

    /**
     * Finds a snapshot by {@code latest} or by a unique prefix of its id.
     *
     * @throws HavenException NOT_FOUND or USAGE (ambiguous)
     */
    public SnapshotEntry resolve(String spec) {
        if (spec.equals("latest")) {
            List<SnapshotEntry> all = snapshots();
            if (all.isEmpty()) {
                throw new HavenException(ErrorCode.NOT_FOUND, unreadable.isEmpty() ? "the repository has no snapshots yet"
                        : "the repository has no readable snapshot (" + unreadable.size() + " damaged; run 'haven check')");
            }
            return all.get(all.size() - 1);
        }
        String p = spec.toLowerCase(Locale.ROOT);
        if (p.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "give a snapshot id (or a unique prefix) or 'latest'");
        }
        List<String> match = backend.list("snapshots").stream()
                .filter(n -> n.substring(n.lastIndexOf('/') + 1).startsWith(p)).toList();
        if (match.isEmpty()) {
            throw new HavenException(ErrorCode.NOT_FOUND, "no snapshot " + spec + " (see 'haven snapshots')");
        }
        if (match.size() > 1) {
            throw new HavenException(ErrorCode.USAGE, "snapshot id " + spec + " is ambiguous; give more digits");
        }
        return readSnapshot(match.get(0));
    }

    /** Stores a snapshot; call only after everything it references is stored and indexed. */
    public BlobId saveSnapshot(Snapshot s) {
        byte[] sealed = key.seal(Json.write(s));
        BlobId id = ObjectHash.of(sealed);
        writeRelied("snapshots/" + id.hex(), sealed);
        return id;
    }

    @Override
    public void close() {
        WriterRegistration r = registration;
        if (r != null) {
            r.close();
        }
        backend.close();
    }
}
