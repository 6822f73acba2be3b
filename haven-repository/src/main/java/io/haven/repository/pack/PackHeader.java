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

    /** Entry kinds: a data or tree blob stored alone, a group of data blobs, a member of the group before it. */
    public static final int KIND_DATA = 0;
    public static final int KIND_TREE = 1;
    public static final int KIND_GROUP = 2;
    public static final int KIND_MEMBER = 3;

    /** Largest payload of a group a reader accepts (writers make groups of 64 to 128 KiB). */
    public static final int MAX_GROUP_PAYLOAD = 1 << 20;

    /**
     * One header entry as stored. For a blob: {@code a} is its sealed length and {@code b} its
     * payload length. For a group: {@code a} is the group's sealed length, {@code b} its payload
     * length, and the id is zero. For a member: {@code a} is where its payload starts in the
     * group's payload and {@code b} its length.
     */
    public record Entry(int kind, int a, int b, BlobId id) {
        private static final BlobId NO_ID = BlobId.of(new byte[32]);

        public static Entry blob(BlobType type, int length, int rawLength, BlobId id) {
            return new Entry(type.code(), length, rawLength, id);
        }

        public static Entry group(int length, int rawLength) {
            return new Entry(KIND_GROUP, length, rawLength, NO_ID);
        }

        public static Entry member(int offsetInGroup, int rawLength, BlobId id) {
            return new Entry(KIND_MEMBER, offsetInGroup, rawLength, id);
        }

        /** Bytes the entry occupies in the pack: members none, they lie inside their group. */
        public int stored() {
            return kind == KIND_MEMBER ? 0 : a;
        }
    }

    public static byte[] encode(List<Entry> entries) {
        ByteBuffer b = ByteBuffer.allocate(entries.size() * ENTRY).order(ByteOrder.LITTLE_ENDIAN);
        byte[] id = new byte[32];
        for (Entry e : entries) {
            e.id().copyTo(id, 0);
            b.put((byte) e.kind()).putInt(e.a()).putInt(e.b()).put(id);
        }
        return b.array();
    }

    /**
     * The index entries of a pack's header entries, with each blob's offset: a group takes its
     * bytes, and each member after it gets the group's place and its own offset in the group.
     */
    public static List<PackRecord.Entry> place(List<Entry> entries) {
        List<PackRecord.Entry> out = new ArrayList<>(entries.size());
        int offset = 0;
        int groupOffset = -1;
        int groupLength = 0;
        for (Entry e : entries) {
            switch (e.kind()) {
                case KIND_GROUP -> {
                    groupOffset = offset;
                    groupLength = e.a();
                }
                case KIND_MEMBER -> out.add(new PackRecord.Entry(e.id(), groupOffset, groupLength, e.b(), e.a()));
                default -> out.add(new PackRecord.Entry(e.id(), offset, e.a(), e.b()));
            }
            offset += e.stored();
        }
        return out;
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
        int groupOffset = -1;
        int groupLength = 0;
        int groupRaw = 0;
        boolean groupHasMember = true;
        byte[] id = new byte[32];
        while (b.hasRemaining()) {
            int kind = b.get() & 0xff;
            int a = b.getInt();
            int raw = b.getInt();
            b.get(id);
            if (kind == KIND_MEMBER) {
                if (groupOffset < 0) {
                    throw new HavenException(ErrorCode.CORRUPT, what + " header has a group member without a group");
                }
                if (a < 0 || raw < 0 || (long) a + raw > groupRaw) {
                    throw new HavenException(ErrorCode.CORRUPT, what + " header has a group member outside its group");
                }
                entries.add(new PackRecord.Entry(BlobId.of(id), groupOffset, groupLength, raw, a));
                groupHasMember = true;
                continue;
            }
            if (!groupHasMember) {
                throw new HavenException(ErrorCode.CORRUPT, what + " header has a group without members");
            }
            BlobType t = switch (kind) {
                case KIND_DATA, KIND_GROUP -> BlobType.DATA;
                case KIND_TREE -> BlobType.TREE;
                default -> throw new HavenException(ErrorCode.CORRUPT, what + " header has an entry of unknown kind " + kind
                        + " (written by a newer Haven?)");
            };
            if (type != null && t != type) {
                throw new HavenException(ErrorCode.CORRUPT, what + " mixes blob types");
            }
            type = t;
            if (a < MasterKey.OVERHEAD || (long) offset + a > headerStart) {
                throw new HavenException(ErrorCode.CORRUPT, what + " header points outside the pack");
            }
            if (kind == KIND_GROUP) {
                if (raw < 0 || raw > MAX_GROUP_PAYLOAD || a > raw + MasterKey.OVERHEAD) {
                    throw new HavenException(ErrorCode.CORRUPT, what + " header has a group of impossible size " + raw);
                }
                if (!java.util.Arrays.equals(id, new byte[32])) {
                    throw new HavenException(ErrorCode.CORRUPT, what + " header has a group entry with an id");
                }
                groupOffset = offset;
                groupLength = a;
                groupRaw = raw;
                groupHasMember = false;
            } else {
                groupOffset = -1;
                entries.add(new PackRecord.Entry(BlobId.of(id), offset, a, raw));
            }
            offset += a;
        }
        if (!groupHasMember) {
            throw new HavenException(ErrorCode.CORRUPT, what + " header has a group without members");
        }
        if (offset != headerStart) {
            throw new HavenException(ErrorCode.CORRUPT, what + " holds bytes its header does not describe");
        }
        return new PackRecord(packId, type == null ? BlobType.DATA : type, entries);
    }
}
