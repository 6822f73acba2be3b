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
    private static final int VERSION = 1;

    private IndexCodec() {}

    public static byte[] encode(List<PackRecord> packs) {
        int size = MAGIC.length + 1 + 4;
        for (PackRecord p : packs) {
            size += 32 + 1 + 4 + p.blobs().size() * (32 + 12);
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) VERSION).putInt(packs.size());
        byte[] id = new byte[32];
        for (PackRecord p : packs) {
            p.packId().copyTo(id, 0);
            b.put(id).put((byte) p.type().code()).putInt(p.blobs().size());
            for (PackRecord.Entry e : p.blobs()) {
                e.id().copyTo(id, 0);
                b.put(id).putInt(e.offset()).putInt(e.length()).putInt(e.rawLength());
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
            if (version != VERSION) {
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
                if (n > b.remaining() / 44) {
                    throw new HavenException(ErrorCode.CORRUPT, what + " is truncated");
                }
                List<PackRecord.Entry> entries = new ArrayList<>((int) n);
                for (int k = 0; k < n; k++) {
                    b.get(id);
                    entries.add(new PackRecord.Entry(BlobId.of(id), b.getInt(), b.getInt(), b.getInt()));
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
