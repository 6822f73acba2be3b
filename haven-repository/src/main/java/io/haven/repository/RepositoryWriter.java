package io.haven.repository;

import io.haven.repository.crypto.MasterKey;
import io.haven.repository.crypto.ObjectHash;
import io.haven.repository.index.Index;
import io.haven.repository.index.IndexCodec;
import io.haven.repository.index.PackRecord;
import io.haven.repository.pack.Packer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Adds blobs to a repository: deduplicates against the index and against blobs added by other
 * threads of this writer, packs them, stores packs, and writes index files once their packs are
 * stored. {@link #flush()} makes everything added so far durable and indexed; only then may a
 * snapshot that references it be saved.
 *
 * <p>Thread safe.
 */
public final class RepositoryWriter {
    private static final int INDEX_FLUSH_BLOBS = 30_000;

    private final Repository repo;
    private final Index index;
    private final MasterKey key;
    private final Packer dataPacker;
    private final Packer treePacker;
    private final Set<BlobId> claimed = ConcurrentHashMap.newKeySet();
    private final List<PackRecord> pendingIndex = new ArrayList<>();
    private int pendingBlobs;
    private final AtomicLong bytesStored = new AtomicLong();
    private final AtomicLong packsStored = new AtomicLong();

    RepositoryWriter(Repository repo) {
        this.repo = repo;
        this.index = repo.index();
        this.key = repo.key();
        int packSize = repo.config().packSize();
        this.dataPacker = new Packer(BlobType.DATA, key, packSize, this::storePack);
        this.treePacker = new Packer(BlobType.TREE, key, Math.min(packSize, 4 << 20), this::storePack);
    }

    /** Whether the repository (or this writer) already has the blob. */
    public boolean has(BlobId id) {
        return index.contains(id) || claimed.contains(id);
    }

    /**
     * Stores {@code payload[offset, offset+length)} as a blob with the given id unless the
     * repository already has it.
     *
     * @return bytes added to the repository (0 for a duplicate)
     */
    public long save(BlobType type, BlobId id, byte[] payload, int offset, int length) {
        if (index.contains(id) || !claimed.add(id)) {
            return 0;
        }
        byte[] sealed = key.seal(payload, offset, length, true);
        (type == BlobType.DATA ? dataPacker : treePacker).add(id, sealed, length);
        return sealed.length;
    }

    /** Computes the id and saves; returns the id. */
    public BlobId saveTree(byte[] payload) {
        BlobId id = key.blobId(payload, 0, payload.length);
        save(BlobType.TREE, id, payload, 0, payload.length);
        return id;
    }

    private void storePack(PackRecord record, byte[] pack) {
        repo.backend().write(record.objectName(), pack);
        bytesStored.addAndGet(pack.length);
        packsStored.incrementAndGet();
        List<PackRecord> toWrite = null;
        synchronized (this) {
            index.add(record);
            pendingIndex.add(record);
            pendingBlobs += record.blobs().size();
            if (pendingBlobs >= INDEX_FLUSH_BLOBS) {
                toWrite = new ArrayList<>(pendingIndex);
                pendingIndex.clear();
                pendingBlobs = 0;
            }
        }
        if (toWrite != null) {
            writeIndex(toWrite);
        }
    }

    private void writeIndex(List<PackRecord> packs) {
        byte[] sealed = key.seal(IndexCodec.encode(packs));
        repo.backend().write("index/" + ObjectHash.of(sealed).hex(), sealed);
    }

    /** Stores partly filled packs and writes the index for everything stored so far. */
    public void flush() {
        dataPacker.flush();
        treePacker.flush();
        List<PackRecord> toWrite;
        synchronized (this) {
            toWrite = new ArrayList<>(pendingIndex);
            pendingIndex.clear();
            pendingBlobs = 0;
        }
        if (!toWrite.isEmpty()) {
            writeIndex(toWrite);
        }
    }

    /** Bytes of packs stored by this writer. */
    public long bytesStored() {
        return bytesStored.get();
    }

    public long packsStored() {
        return packsStored.get();
    }
}
