package io.haven.repository.index;

import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import java.util.List;

/** One pack and the blobs in it, as an index file lists them. */
public record PackRecord(BlobId packId, BlobType type, List<Entry> blobs) {
    public PackRecord {
        blobs = List.copyOf(blobs);
    }

    /**
     * One blob: where its sealed bytes start in the pack, their length, and its payload length.
     * A blob stored alone has {@code member} -1. A member of a group (small files compressed
     * together, docs/repository-format.md §5) has the group's offset and sealed length, and
     * {@code member} is where its payload starts in the group's payload.
     */
    public record Entry(BlobId id, int offset, int length, int rawLength, int member) {
        /** A blob stored alone. */
        public Entry(BlobId id, int offset, int length, int rawLength) {
            this(id, offset, length, rawLength, -1);
        }

        /** Whether the blob is a member of a group. */
        public boolean grouped() {
            return member >= 0;
        }
    }

    /** The object name of the pack: {@code data/ab/ab12…} or {@code tree/ab/ab12…}. */
    public String objectName() {
        return objectName(type, packId);
    }

    public static String objectName(BlobType type, BlobId packId) {
        String hex = packId.hex();
        return type.directory() + "/" + hex.substring(0, 2) + "/" + hex;
    }
}
