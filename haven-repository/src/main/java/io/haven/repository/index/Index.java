package io.haven.repository.index;

import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-memory union of index files: where each blob is. Thread safe. When a blob is in several
 * packs, the first one added is kept.
 */
public final class Index {
    /** Where a blob is stored. */
    public record Location(BlobId pack, BlobType type, int offset, int length, int rawLength) {
        public String packName() {
            return PackRecord.objectName(type, pack);
        }
    }

    private final Map<BlobId, Location> blobs = new ConcurrentHashMap<>();
    private final Map<BlobId, PackRecord> packs = new ConcurrentHashMap<>();

    public void add(PackRecord pack) {
        packs.put(pack.packId(), pack);
        for (PackRecord.Entry e : pack.blobs()) {
            blobs.putIfAbsent(e.id(), new Location(pack.packId(), pack.type(), e.offset(), e.length(), e.rawLength()));
        }
    }

    public Location lookup(BlobId id) {
        return blobs.get(id);
    }

    public boolean contains(BlobId id) {
        return blobs.containsKey(id);
    }

    public int blobCount() {
        return blobs.size();
    }

    public Collection<PackRecord> packs() {
        return packs.values();
    }

    public Set<BlobId> packIds() {
        return packs.keySet();
    }
}
