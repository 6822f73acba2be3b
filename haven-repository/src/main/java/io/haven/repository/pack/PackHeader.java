package io.haven.repository.pack;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.crypto.MasterKey;
import io.haven.repository.index.PackRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Encodes and decodes the header at the end of a pack (docs/repository-format.md §5). */
public final class PackHeader {
    public static final int ENTRY = 1 + 4 + 4 + 32;

    private PackHeader() {}

    /** One header entry. */
    public record Entry(BlobType type, int length, int rawLength, BlobId id) {}

    public static byte[] encode(List<Entry> entries) {
        ByteBuffer b = ByteBuffer.allocate(entries.size() * ENTRY).order(ByteOrder.LITTLE_ENDIAN);
        byte[] id = new byte[32];
        for (Entry e : entries) {
            e.id().copyTo(id, 0);
            b.put((byte) e.type().code()).putInt(e.length()).putInt(e.rawLength()).put(id);
        }
        return b.array();
    }

    /**
     * Reads a pack's header with two ranged reads (the length word, then the header), for
     * rebuilding the index without reading whole packs.
     *
     * @throws HavenException CORRUPT when the header cannot be read or does not fit the pack
     */
    public static PackRecord readTail(MasterKey key, BlobId packId, io.haven.repository.backend.Backend backend, String name,
            long packLength) {
        String what = "pack " + name;
        if (packLength < 4 + MasterKey.OVERHEAD || packLength > Integer.MAX_VALUE) {
            throw new HavenException(ErrorCode.CORRUPT, what + " has an impossible size " + packLength);
        }
        int headerLen = ByteBuffer.wrap(backend.read(name, packLength - 4, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (headerLen < MasterKey.OVERHEAD || headerLen > packLength - 4) {
            throw new HavenException(ErrorCode.CORRUPT, what + " has an invalid header length");
        }
        int headerStart = (int) (packLength - 4 - headerLen);
        byte[] sealed = backend.read(name, headerStart, headerLen);
        return parse(key, packId, sealed, 0, headerLen, headerStart, what);
    }

    /**
     * Reads the header of a whole pack and returns its blobs with offsets.
     *
     * @throws HavenException CORRUPT when the header cannot be read or does not fit the pack
     */
    public static PackRecord read(MasterKey key, BlobId packId, byte[] pack, String what) {
        if (pack.length < 4 + MasterKey.OVERHEAD) {
            throw new HavenException(ErrorCode.CORRUPT, what + " is too short to be a pack");
        }
        int headerLen = ByteBuffer.wrap(pack, pack.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (headerLen < MasterKey.OVERHEAD || headerLen > pack.length - 4) {
            throw new HavenException(ErrorCode.CORRUPT, what + " has an invalid header length");
        }
        int headerStart = pack.length - 4 - headerLen;
        return parse(key, packId, pack, headerStart, headerLen, headerStart, what);
    }

    private static PackRecord parse(MasterKey key, BlobId packId, byte[] buf, int off, int headerLen, int headerStart, String what) {
        byte[] plain = key.open(buf, off, headerLen, -1, what + " header");
        if (plain.length % ENTRY != 0) {
            throw new HavenException(ErrorCode.CORRUPT, what + " header has a partial entry");
        }
        ByteBuffer b = ByteBuffer.wrap(plain).order(ByteOrder.LITTLE_ENDIAN);
        List<PackRecord.Entry> entries = new ArrayList<>();
        BlobType type = null;
        int offset = 0;
        byte[] id = new byte[32];
        while (b.hasRemaining()) {
            BlobType t = BlobType.ofCode(b.get());
            int len = b.getInt();
            int raw = b.getInt();
            b.get(id);
            if (type != null && t != type) {
                throw new HavenException(ErrorCode.CORRUPT, what + " mixes blob types");
            }
            type = t;
            if (len < MasterKey.OVERHEAD || (long) offset + len > headerStart) {
                throw new HavenException(ErrorCode.CORRUPT, what + " header points outside the pack");
            }
            entries.add(new PackRecord.Entry(BlobId.of(id), offset, len, raw));
            offset += len;
        }
        if (offset != headerStart) {
            throw new HavenException(ErrorCode.CORRUPT, what + " holds bytes its header does not describe");
        }
        return new PackRecord(packId, type == null ? BlobType.DATA : type, entries);
    }
}
