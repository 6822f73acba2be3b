package io.haven.repository;

import io.haven.repository.crypto.MasterKey;
import io.haven.repository.index.Index;
import io.haven.repository.index.PackRecord;
import io.haven.repository.pack.Packer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/**
 * Adds blobs to a repository: deduplicates against the index and against blobs added by other
 * threads of this writer, packs them, stores packs, and writes index files once their packs are
 * stored. {@link #flush()} makes everything added so far durable and indexed; only then may a
 * snapshot that references it be saved.
 *
 * <p>Full packs are stored by one background thread (at most two waiting), so workers keep
 * compressing while a pack is written and fsynced. A failed store makes every later call fail.
 *
 * <p>Thread safe. {@link #close()} stops the background thread.
 */
public final class RepositoryWriter implements AutoCloseable {
    private static final int INDEX_FLUSH_BLOBS = 30_000;
    /**
     * Data blobs smaller than this are compressed together in groups, when the repository's
     * format allows it (docs/repository-format.md §5; docs/performance.md measures why).
     */
    public static final int GROUP_MEMBER_LIMIT = 64 << 10;
    /** A group is sealed once its payload reaches this size. */
    public static final int GROUP_TARGET = 64 << 10;

    private final Repository repo;
    private final Index index;
    private final MasterKey key;
    private final Packer dataPacker;
    private final Packer treePacker;
    /** Per thread: a chunk is sealed here and copied into its pack, so sealing allocates nothing. */
    private final ThreadLocal<byte[]> sealBuffer = ThreadLocal.withInitial(() -> new byte[256 << 10]);
    private final Set<BlobId> claimed = ConcurrentHashMap.newKeySet();
    private final List<PackRecord> pendingIndex = new ArrayList<>();
    private int pendingBlobs;
    private final AtomicLong bytesStored = new AtomicLong();
    private final AtomicLong packsStored = new AtomicLong();
    private final ExecutorService uploader = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("haven-pack-writer").factory());
    private final Semaphore uploadSlots = new Semaphore(2);
    private final List<Future<?>> uploads = new ArrayList<>();
    private volatile Throwable failure;
    private final boolean grouping;
    /**
     * Each thread's open group; {@link #flush()} seals them all. A map held by this writer, not
     * a thread-local: a group refers to its writer, and a long-lived thread (the server's
     * maintenance thread runs prune) would keep every writer it used alive through its
     * thread-local values.
     */
    private final ConcurrentHashMap<Thread, Group> groups = new ConcurrentHashMap<>();

    RepositoryWriter(Repository repo) {
        this.repo = repo;
        this.index = repo.index();
        this.key = repo.key();
        int packSize = repo.config().packSize();
        this.dataPacker = new Packer(BlobType.DATA, key, packSize, this::storePack);
        this.treePacker = new Packer(BlobType.TREE, key, Math.min(packSize, 4 << 20), this::storePack);
        this.grouping = repo.config().groupsSmallBlobs();
        repo.writerOpened();
    }

    /**
     * Whether the repository (or this writer) already has the blob in a pack that is not
     * condemned by a pending prune: only then may a new snapshot reference it without storing it.
     */
    public boolean has(BlobId id) {
        return reusable(id) || claimed.contains(id);
    }

    /**
     * Whether the index has a usable copy of the blob. Relying on it is safe only while this
     * process's writer marker is fresh, so a process whose registration lapsed stops here rather
     * than at the snapshot (which it would refuse to save anyway).
     */
    private boolean reusable(BlobId id) {
        if (!index.containsUsable(id)) {
            return false;
        }
        WriterRegistration r = repo.registration();
        if (r != null) {
            r.checkNotStalled();
        }
        return true;
    }

    /**
     * Stores {@code payload[offset, offset+length)} as a blob with the given id unless the
     * repository already has it.
     *
     * A data blob smaller than {@link #GROUP_MEMBER_LIMIT} joins this thread's group instead,
     * which is sealed when it is full or at {@link #flush()}.
     *
     * @return bytes added to the repository (0 for a duplicate; for a small blob, the sealed
     *     group's bytes when this blob filled it, else 0)
     */
    public long save(BlobType type, BlobId id, byte[] payload, int offset, int length) {
        checkUsable();
        if (reusable(id) || !claimed.add(id)) {
            return 0;
        }
        if (grouping && type == BlobType.DATA && length < GROUP_MEMBER_LIMIT) {
            Thread me = Thread.currentThread();
            Group g = groups.get(me);
            if (g == null) {
                g = groups.computeIfAbsent(me, t -> new Group());
            }
            return g.add(id, payload, offset, length);
        }
        byte[] out = sealBuffer(length);
        int n = key.sealInto(payload, offset, length, true, out, 0);
        (type == BlobType.DATA ? dataPacker : treePacker).add(id, out, 0, n, length);
        return n;
    }

    /** This thread's buffer for sealing, large enough for a payload of {@code length} bytes. */
    private byte[] sealBuffer(int length) {
        byte[] out = sealBuffer.get();
        if (out.length < length + MasterKey.OVERHEAD) {
            out = new byte[Math.max(length + MasterKey.OVERHEAD, out.length * 2)];
            sealBuffer.set(out);
        }
        return out;
    }

    /**
     * Small data blobs of one thread, waiting to be compressed and encrypted together as one
     * group. Used by its thread, and sealed by {@link #flush()} from another: hence the lock.
     */
    private final class Group {
        private final byte[] payload = new byte[GROUP_TARGET + GROUP_MEMBER_LIMIT];
        private int size;
        private BlobId[] ids = new BlobId[32];
        private int[] starts = new int[32];
        private int[] lengths = new int[32];
        private int count;

        synchronized long add(BlobId id, byte[] src, int offset, int length) {
            if (count == ids.length) {
                ids = java.util.Arrays.copyOf(ids, count * 2);
                starts = java.util.Arrays.copyOf(starts, count * 2);
                lengths = java.util.Arrays.copyOf(lengths, count * 2);
            }
            System.arraycopy(src, offset, payload, size, length);
            ids[count] = id;
            starts[count] = size;
            lengths[count] = length;
            count++;
            size += length;
            return size >= GROUP_TARGET ? seal() : 0;
        }

        /** Seals the group into the data pack; a group of one blob is stored as a plain blob. */
        synchronized long seal() {
            if (count == 0) {
                return 0;
            }
            byte[] out = sealBuffer(size);
            int n = key.sealInto(payload, 0, size, true, out, 0);
            if (count == 1) {
                dataPacker.add(ids[0], out, 0, n, size);
            } else {
                dataPacker.addGroup(out, 0, n, size, ids, starts, lengths, count);
            }
            java.util.Arrays.fill(ids, 0, count, null);
            count = 0;
            size = 0;
            return n;
        }
    }

    /**
     * Stores an already sealed blob (copied from another pack by prune) unless the repository
     * has a usable copy. The caller has authenticated it.
     *
     * @return bytes added (0 for a duplicate)
     */
    public long saveSealed(BlobType type, BlobId id, byte[] sealed, int rawLength) {
        checkUsable();
        if (reusable(id) || !claimed.add(id)) {
            return 0;
        }
        (type == BlobType.DATA ? dataPacker : treePacker).add(id, sealed, rawLength);
        return sealed.length;
    }

    /** Computes the id and saves; returns the id. */
    public BlobId saveTree(byte[] payload) {
        BlobId id = key.blobId(payload, 0, payload.length);
        save(BlobType.TREE, id, payload, 0, payload.length);
        return id;
    }

    /** Queues a full pack for the background writer; waits while two are already waiting. */
    private void storePack(PackRecord record, byte[] pack, int length) {
        checkUsable();
        try {
            uploadSlots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted while storing a pack");
        }
        Future<?> f;
        try {
            f = uploader.submit(() -> {
                try {
                    writePack(record, pack, length);
                    (record.type() == BlobType.DATA ? dataPacker : treePacker).recycle(pack);
                } catch (RuntimeException | Error e) {
                    failure = e;
                    throw e;
                } finally {
                    uploadSlots.release();
                }
            });
        } catch (RuntimeException e) {
            uploadSlots.release();
            throw e;
        }
        synchronized (uploads) {
            uploads.add(f);
        }
    }

    private void checkUsable() {
        Throwable f = failure;
        if (f != null) {
            throw new HavenException(ErrorCode.IO, "storing a pack failed: " + f.getMessage(), f);
        }
    }

    private void writePack(PackRecord record, byte[] pack, int length) {
        repo.backend().write(record.objectName(), pack, length);
        bytesStored.addAndGet(length);
        packsStored.incrementAndGet();
        List<PackRecord> toWrite = null;
        synchronized (this) {
            index.add(record);
            // indexed now: the claim is no longer needed, and dropping it keeps memory per blob small
            for (PackRecord.Entry e : record.blobs()) {
                claimed.remove(e.id());
            }
            pendingIndex.add(record);
            pendingBlobs += record.blobs().size();
            if (pendingBlobs >= INDEX_FLUSH_BLOBS) {
                toWrite = new ArrayList<>(pendingIndex);
                pendingIndex.clear();
                pendingBlobs = 0;
            }
        }
        if (toWrite != null) {
            repo.indexFileWritten(repo.saveIndexFile(toWrite));
        }
    }


    /** Stores partly filled packs and writes the index for everything stored so far. */
    public void flush() {
        for (Group g : groups.values()) {
            checkUsable();
            g.seal();
        }
        dataPacker.flush();
        treePacker.flush();
        awaitUploads();
        List<PackRecord> toWrite;
        synchronized (this) {
            toWrite = new ArrayList<>(pendingIndex);
            pendingIndex.clear();
            pendingBlobs = 0;
        }
        if (!toWrite.isEmpty()) {
            repo.indexFileWritten(repo.saveIndexFile(toWrite));
        }
    }

    private void awaitUploads() {
        List<Future<?>> all;
        synchronized (uploads) {
            all = new ArrayList<>(uploads);
            uploads.clear();
        }
        for (Future<?> f : all) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HavenException(ErrorCode.IO, "interrupted while storing packs");
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new HavenException(ErrorCode.IO, "storing a pack failed: " + e.getCause(), e.getCause());
            }
        }
        checkUsable();
    }

    /** Stops the background writer; packs not flushed are dropped (never indexed). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            repo.writerClosed();
        }
        uploader.shutdownNow();
    }

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    /** Bytes of packs stored by this writer. */
    public long bytesStored() {
        return bytesStored.get();
    }

    public long packsStored() {
        return packsStored.get();
    }
}
