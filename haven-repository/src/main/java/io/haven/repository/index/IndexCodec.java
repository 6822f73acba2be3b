package io.haven.repository.index;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Encodes and decodes the payload of an index file (docs/repository-format.md §6). */
public final class IndexCodec {
    private static final byte[] MAGIC = "HVIX".getBytes(StandardCharsets.US_ASCII);
    /** Version 1 entries: id, offset, length, raw length. */
    private static final int V1_ENTRY = 32 + 12;
    /** Version 2 entries add where a group member starts in its group (0xFFFFFFFF for a blob stored alone). */
    private static final int V2_ENTRY = 32 + 16;

    /** A group's sealed bytes: its payload, the flag and the encryption's overhead. */
    private static final int MAX_GROUP_SEALED = io.haven.repository.pack.PackHeader.MAX_GROUP_PAYLOAD
            + io.haven.repository.crypto.MasterKey.OVERHEAD;

    private IndexCodec() {}

    /**
     * Encodes an index file: version 1 when no blob is a group member (readable by every Haven),
     * version 2 otherwise.
     */
    public static byte[] encode(List<PackRecord> packs) {
        boolean grouped = packs.stream().anyMatch(p -> p.blobs().stream().anyMatch(PackRecord.Entry::grouped));
        int entry = grouped ? V2_ENTRY : V1_ENTRY;
        int size = MAGIC.length + 1 + 4;
        for (PackRecord p : packs) {
            size += 32 + 1 + 4 + p.blobs().size() * entry;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) (grouped ? 2 : 1)).putInt(packs.size());
        byte[] id = new byte[32];
        for (PackRecord p : packs) {
            p.packId().copyTo(id, 0);
            b.put(id).put((byte) p.type().code()).putInt(p.blobs().size());
            for (PackRecord.Entry e : p.blobs()) {
                e.id().copyTo(id, 0);
                b.put(id).putInt(e.offset()).putInt(e.length()).putInt(e.rawLength());
                if (grouped) {
                    b.putInt(e.member());
                }
            }
        }
        return b.array();
    }

    public static List<PackRecord> decode(byte[] data, String what) {
        try {
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[4];
            b.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new HavenException(ErrorCode.CORRUPT, what + " is not an index file");
            }
            int version = b.get();
            if (version != 1 && version != 2) {
                throw new HavenException(ErrorCode.CORRUPT, what + " has unsupported version " + version);
            }
            long packs = Integer.toUnsignedLong(b.getInt());
            if (packs > b.remaining() / (32 + 1 + 4)) {
                throw new HavenException(ErrorCode.CORRUPT, what + " is truncated");
            }
            List<PackRecord> out = new ArrayList<>((int) packs);
            byte[] id = new byte[32];
            for (int i = 0; i < packs; i++) {
                b.get(id);
                BlobId packId = BlobId.of(id);
                BlobType type = BlobType.ofCode(b.get());
                long n = Integer.toUnsignedLong(b.getInt());
                int entry = version == 1 ? V1_ENTRY : V2_ENTRY;
                if (n > b.remaining() / entry) {
                    throw new HavenException(ErrorCode.CORRUPT, what + " is truncated");
                }
                List<PackRecord.Entry> entries = new ArrayList<>((int) n);
                for (int k = 0; k < n; k++) {
                    b.get(id);
                    BlobId blob = BlobId.of(id);
                    int offset = b.getInt();
                    int length = b.getInt();
                    int raw = b.getInt();
                    int member = version == 1 ? -1 : b.getInt();
                    if (offset < 0 || length < 0 || member < -1 || (member >= 0 && (length > MAX_GROUP_SEALED || raw < 0
                            || (long) member + raw > io.haven.repository.pack.PackHeader.MAX_GROUP_PAYLOAD))) {
                        throw new HavenException(ErrorCode.CORRUPT, what + " places blob " + blob.shortHex() + " impossibly");
                    }
                    entries.add(new PackRecord.Entry(blob, offset, length, raw, member));
                }
                out.add(new PackRecord(packId, type, entries));
            }
            if (b.hasRemaining()) {
                throw new HavenException(ErrorCode.CORRUPT, what + " has trailing bytes");
            }
            return out;
        } catch (java.nio.BufferUnderflowException e) {
            throw new HavenException(ErrorCode.CORRUPT, what + " is truncated");
        }
    }
}
