package io.haven.repository.index;

import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import java.util.List;

/** One pack and the blobs in it, as an index file lists them. */
public record PackRecord(BlobId packId, BlobType type, List<Entry> blobs) {
    public PackRecord {
        blobs = List.copyOf(blobs);
    }

    /** One blob: where it starts in the pack, its sealed length, its payload length. */
    public record Entry(BlobId id, int offset, int length, int rawLength) {}

    /** The object name of the pack: {@code data/ab/ab12…} or {@code tree/ab/ab12…}. */
    public String objectName() {
        return objectName(type, packId);
    }

    public static String objectName(BlobType type, BlobId packId) {
        String hex = packId.hex();
        return type.directory() + "/" + hex.substring(0, 2) + "/" + hex;
    }
}
