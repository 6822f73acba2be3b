package io.haven.repository.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.crypto.MasterKey;
import io.haven.repository.crypto.ObjectHash;
import io.haven.repository.index.PackRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class PackerTest {
    private static final int TARGET = 64 << 10;
    private final MasterKey key = MasterKey.generate(new SecureRandom());
    private final CapturingSink sink = new CapturingSink();

    /** A Sink that keeps what it is given. */
    static final class CapturingSink implements Packer.Sink {
        final List<PackRecord> records = new ArrayList<>();
        final List<byte[]> packs = new ArrayList<>();

        @Override
        public synchronized void store(PackRecord record, byte[] pack, int length) {
            records.add(record);
            packs.add(java.util.Arrays.copyOf(pack, length));
        }
    }

    /** A blob to add: payload, id, sealed bytes. */
    record Blob(byte[] payload, BlobId id, byte[] sealed) {}

    private Blob blob(byte[] payload) {
        return new Blob(payload, key.blobId(payload, 0, payload.length), key.seal(payload));
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void add(Packer packer, Blob b) {
        packer.add(b.id(), b.sealed(), b.payload().length);
    }

    private static void assertCode(ErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    @Test
    void aFlushedPackHoldsItsBlobsAndDescribesThemInItsHeader() {
        Packer packer = new Packer(BlobType.DATA, key, TARGET, sink);
        List<Blob> blobs = List.of(blob("first".getBytes(StandardCharsets.UTF_8)), blob(new byte[10_000]),
                blob(random(3000, 1)), blob(new byte[0]));
        blobs.forEach(b -> add(packer, b));
        assertThat(sink.packs).isEmpty();

        packer.flush();

        assertThat(sink.packs).hasSize(1);
        byte[] pack = sink.packs.get(0);
        PackRecord record = sink.records.get(0);
        assertThat(record.packId()).isEqualTo(ObjectHash.of(pack));
        assertThat(record.type()).isEqualTo(BlobType.DATA);

        PackRecord read = PackHeader.read(key, record.packId(), pack, "pack");
        assertThat(read).isEqualTo(record);
        assertThat(read.blobs()).extracting(PackRecord.Entry::id).containsExactlyElementsOf(
                blobs.stream().map(Blob::id).toList());

        int offset = 0;
        for (int i = 0; i < blobs.size(); i++) {
            Blob b = blobs.get(i);
            PackRecord.Entry e = read.blobs().get(i);
            assertThat(e.offset()).isEqualTo(offset);
            assertThat(e.length()).isEqualTo(b.sealed().length);
            assertThat(e.rawLength()).isEqualTo(b.payload().length);
            assertThat(Arrays.copyOfRange(pack, e.offset(), e.offset() + e.length())).isEqualTo(b.sealed());
            byte[] payload = key.open(pack, e.offset(), e.length(), e.rawLength(), "blob");
            assertThat(payload).isEqualTo(b.payload());
            assertThat(key.blobId(payload, 0, payload.length)).isEqualTo(e.id());
            offset += e.length();
        }
        // pack = blobs ‖ header ‖ header length (u32 LE); the header holds 41 bytes per blob
        int headerLen = ByteBuffer.wrap(pack, pack.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(offset + headerLen + 4).isEqualTo(pack.length);
        assertThat(headerLen).isEqualTo(blobs.size() * PackHeader.ENTRY + MasterKey.OVERHEAD);
    }

    @Test
    void treePacksAreReadBackAsTreePacks() {
        Packer packer = new Packer(BlobType.TREE, key, TARGET, sink);
        add(packer, blob("tree payload".getBytes(StandardCharsets.UTF_8)));
        packer.flush();
        PackRecord read = PackHeader.read(key, sink.records.get(0).packId(), sink.packs.get(0), "pack");
        assertThat(read.type()).isEqualTo(BlobType.TREE);
        assertThat(sink.records.get(0).type()).isEqualTo(BlobType.TREE);
    }

    @Test
    void aFullPackIsStoredWithoutAFlush() {
        Packer packer = new Packer(BlobType.DATA, key, TARGET, sink);
        List<Blob> blobs = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            blobs.add(blob(random(20 << 10, i))); // incompressible: 20 KiB + overhead each
        }
        for (int i = 0; i < 3; i++) {
            add(packer, blobs.get(i));
        }
        assertThat(sink.packs).as("3 blobs are below the target size").isEmpty();
        add(packer, blobs.get(3));
        assertThat(sink.packs).as("4 blobs reach the target size").hasSize(1);
        assertThat(sink.records.get(0).blobs()).hasSize(4);

        for (int i = 4; i < 7; i++) {
            add(packer, blobs.get(i));
        }
        assertThat(sink.packs).hasSize(1);
        packer.flush();
        assertThat(sink.packs).hasSize(2);
        assertThat(sink.records.get(1).blobs()).extracting(PackRecord.Entry::id)
                .containsExactly(blobs.get(4).id(), blobs.get(5).id(), blobs.get(6).id());
        for (int i = 0; i < 2; i++) {
            assertThat(PackHeader.read(key, sink.records.get(i).packId(), sink.packs.get(i), "pack"))
                    .isEqualTo(sink.records.get(i));
            assertThat(sink.records.get(i).packId()).isEqualTo(ObjectHash.of(sink.packs.get(i)));
        }
    }

    @Test
    void aBlobLargerThanThePackIsStoredAlone() {
        Packer packer = new Packer(BlobType.DATA, key, TARGET, sink);
        Blob big = blob(random(3 << 20, 5));
        add(packer, big);
        assertThat(sink.records).hasSize(1);
        assertThat(sink.records.get(0).blobs()).hasSize(1);
        assertThat(PackHeader.read(key, sink.records.get(0).packId(), sink.packs.get(0), "pack").blobs().get(0).length())
                .isEqualTo(big.sealed().length);
    }

    @Test
    void flushingAnEmptyPackerStoresNothing() {
        Packer packer = new Packer(BlobType.DATA, key, TARGET, sink);
        packer.flush();
        add(packer, blob(new byte[] {1}));
        packer.flush();
        packer.flush();
        assertThat(sink.packs).hasSize(1);
    }

    @Test
    void aFailedStoreMakesThePackerRefuseFurtherUse() {
        RuntimeException diskFull = new HavenException(ErrorCode.IO, "disk full");
        Packer packer = new Packer(BlobType.DATA, key, TARGET, (record, pack, length) -> {
            throw diskFull;
        });
        add(packer, blob(new byte[] {1, 2, 3}));
        assertThatThrownBy(packer::flush).isSameAs(diskFull);

        assertThatThrownBy(() -> add(packer, blob(new byte[] {4}))).isInstanceOf(HavenException.class)
                .hasCause(diskFull);
        assertThatThrownBy(packer::flush).isInstanceOf(HavenException.class).hasCause(diskFull);
    }

    @Test
    void aFailureWhileStoringAFullPackIsReported() {
        Packer packer = new Packer(BlobType.DATA, key, TARGET, (record, pack, length) -> {
            throw new IllegalStateException("backend exploded");
        });
        assertThatThrownBy(() -> add(packer, blob(random(TARGET, 3)))).isInstanceOf(IllegalStateException.class);
        assertCode(ErrorCode.IO, () -> add(packer, blob(new byte[] {4})));
    }

    @Test
    void aDamagedHeaderIsCorrupt() {
        Packer packer = new Packer(BlobType.DATA, key, TARGET, sink);
        add(packer, blob(random(1000, 1)));
        add(packer, blob(random(2000, 2)));
        packer.flush();
        byte[] pack = sink.packs.get(0);
        BlobId packId = sink.records.get(0).packId();

        byte[] header = pack.clone();
        header[pack.length - 10] ^= 1;
        assertCode(ErrorCode.CORRUPT, () -> PackHeader.read(key, packId, header, "pack"));

        byte[] length = pack.clone();
        ByteBuffer.wrap(length, pack.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(pack.length);
        assertCode(ErrorCode.CORRUPT, () -> PackHeader.read(key, packId, length, "pack"));

        assertCode(ErrorCode.CORRUPT, () -> PackHeader.read(key, packId, Arrays.copyOf(pack, 20), "pack"));
        // bytes before the blobs that the header does not describe
        byte[] prefixed = new byte[pack.length + 1];
        System.arraycopy(pack, 0, prefixed, 1, pack.length);
        assertCode(ErrorCode.CORRUPT, () -> PackHeader.read(key, packId, prefixed, "pack"));
        // another key cannot read the header
        MasterKey other = MasterKey.generate(new SecureRandom());
        assertCode(ErrorCode.CORRUPT, () -> PackHeader.read(other, packId, pack, "pack"));
    }

    @Test
    void aHeaderThatMixesBlobTypesIsCorrupt() {
        Blob a = blob(new byte[] {1});
        Blob b = blob(new byte[] {2});
        byte[] header = key.seal(PackHeader.encode(List.of(
                PackHeader.Entry.blob(BlobType.DATA, a.sealed().length, 1, a.id()),
                PackHeader.Entry.blob(BlobType.TREE, b.sealed().length, 1, b.id()))));
        ByteBuffer pack = ByteBuffer.allocate(a.sealed().length + b.sealed().length + header.length + 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        pack.put(a.sealed()).put(b.sealed()).put(header).putInt(header.length);
        assertCode(ErrorCode.CORRUPT, () -> PackHeader.read(key, ObjectHash.of(pack.array()), pack.array(), "mixed"));
    }

    /** A group of members sealed together, as RepositoryWriter makes it. */
    private record Group(byte[] sealed, int raw, BlobId[] ids, int[] starts, int[] lengths, List<byte[]> payloads) {}

    private Group group(List<byte[]> payloads) {
        int raw = payloads.stream().mapToInt(p -> p.length).sum();
        byte[] all = new byte[raw];
        BlobId[] ids = new BlobId[payloads.size()];
        int[] starts = new int[payloads.size()];
        int[] lengths = new int[payloads.size()];
        int at = 0;
        for (int i = 0; i < payloads.size(); i++) {
            byte[] p = payloads.get(i);
            System.arraycopy(p, 0, all, at, p.length);
            ids[i] = key.blobId(p, 0, p.length);
            starts[i] = at;
            lengths[i] = p.length;
            at += p.length;
        }
        return new Group(key.seal(all, 0, raw, true), raw, ids, starts, lengths, payloads);
    }

    @Test
    void aGroupIsStoredOnceAndEachMemberIsDescribedInsideIt() {
        Packer packer = new Packer(BlobType.DATA, key, TARGET, sink);
        Blob before = blob(random(3000, 1));
        Group g = group(List.of("one".getBytes(StandardCharsets.UTF_8), random(5000, 2), new byte[7000]));
        Blob after = blob(random(2000, 3));
        add(packer, before);
        packer.addGroup(g.sealed(), 0, g.sealed().length, g.raw(), g.ids(), g.starts(), g.lengths(), 3);
        add(packer, after);
        packer.flush();

        byte[] pack = sink.packs.get(0);
        PackRecord record = sink.records.get(0);
        assertThat(PackHeader.read(key, record.packId(), pack, "pack")).isEqualTo(record);
        int groupAt = before.sealed().length;
        assertThat(record.blobs()).containsExactly(
                new PackRecord.Entry(before.id(), 0, before.sealed().length, 3000),
                new PackRecord.Entry(g.ids()[0], groupAt, g.sealed().length, 3, 0),
                new PackRecord.Entry(g.ids()[1], groupAt, g.sealed().length, 5000, 3),
                new PackRecord.Entry(g.ids()[2], groupAt, g.sealed().length, 7000, 5003),
                new PackRecord.Entry(after.id(), groupAt + g.sealed().length, after.sealed().length, 2000));
        // the pack holds the group's bytes once; the header has six entries of 41 bytes: the two
        // blobs, the group and its three members
        int header = pack.length - 4 - before.sealed().length - g.sealed().length - after.sealed().length;
        assertThat(header).isEqualTo(MasterKey.OVERHEAD + 6 * PackHeader.ENTRY);

        BlobOpener opener = new BlobOpener(key, 1);
        for (int i = 0; i < 3; i++) {
            PackRecord.Entry e = record.blobs().get(1 + i);
            assertThat(opener.open(e.id(), record.packId(), e.offset(), e.length(), e.rawLength(), e.member(), pack, e.offset(),
                    "member")).isEqualTo(g.payloads().get(i));
        }
        // a member read under another member's id, or cut at the wrong place, does not match
        PackRecord.Entry second = record.blobs().get(2);
        assertCode(ErrorCode.CORRUPT, () -> new BlobOpener(key, 1).open(g.ids()[0], record.packId(), second.offset(),
                second.length(), second.rawLength(), second.member(), pack, second.offset(), "member"));
        assertCode(ErrorCode.CORRUPT, () -> new BlobOpener(key, 1).open(second.id(), record.packId(), second.offset(),
                second.length(), second.rawLength(), 4, pack, second.offset(), "member"));
        assertCode(ErrorCode.CORRUPT, () -> new BlobOpener(key, 1).open(second.id(), record.packId(), second.offset(),
                second.length(), 20_000, second.member(), pack, second.offset(), "member"));
        // damage inside the group fails every member
        byte[] damaged = pack.clone();
        damaged[groupAt + 20] ^= 1;
        for (int i = 0; i < 3; i++) {
            PackRecord.Entry e = record.blobs().get(1 + i);
            assertCode(ErrorCode.CORRUPT, () -> new BlobOpener(key, 1).open(e.id(), record.packId(), e.offset(), e.length(),
                    e.rawLength(), e.member(), damaged, e.offset(), "member"));
        }
    }

    /** A pack of the given sealed bytes and header entries. */
    private byte[] packOf(byte[] blobs, List<PackHeader.Entry> entries) {
        byte[] header = key.seal(PackHeader.encode(entries), 0, entries.size() * PackHeader.ENTRY, false);
        ByteBuffer pack = ByteBuffer.allocate(blobs.length + header.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        pack.put(blobs).put(header).putInt(header.length);
        return pack.array();
    }

    @Test
    void malformedGroupsInAHeaderAreCorrupt() {
        Group g = group(List.of(random(100, 1), random(200, 2)));
        int len = g.sealed().length;
        List<List<PackHeader.Entry>> bad = List.of(
                // a member with no group before it
                List.of(PackHeader.Entry.blob(BlobType.DATA, len, 300, g.ids()[0]), PackHeader.Entry.member(0, 100, g.ids()[0])),
                // a member beyond its group's payload
                List.of(PackHeader.Entry.group(len, 300), PackHeader.Entry.member(250, 100, g.ids()[1])),
                // a group with no member, at the end
                List.of(PackHeader.Entry.group(len, 300)),
                // a group whose id is not zero
                List.of(new PackHeader.Entry(PackHeader.KIND_GROUP, len, 300, g.ids()[0]), PackHeader.Entry.member(0, 100, g.ids()[0])),
                // a group whose sealed bytes are more than its payload and the overhead
                List.of(PackHeader.Entry.group(len, len - MasterKey.OVERHEAD - 1), PackHeader.Entry.member(0, 100, g.ids()[0])),
                // a group larger than readers accept
                List.of(PackHeader.Entry.group(len, (1 << 20) + 1), PackHeader.Entry.member(0, 100, g.ids()[0])),
                // an entry of a kind this Haven does not know
                List.of(new PackHeader.Entry(9, len, 300, g.ids()[0])));
        for (List<PackHeader.Entry> entries : bad) {
            byte[] pack = packOf(g.sealed(), entries);
            assertCode(ErrorCode.CORRUPT, () -> PackHeader.read(key, ObjectHash.of(pack), pack, "pack"));
        }
        // a group in a tree pack
        Blob tree = blob(random(50, 3));
        byte[] both = new byte[tree.sealed().length + len];
        System.arraycopy(tree.sealed(), 0, both, 0, tree.sealed().length);
        System.arraycopy(g.sealed(), 0, both, tree.sealed().length, len);
        List<PackHeader.Entry> treeThenGroup = List.of(PackHeader.Entry.blob(BlobType.TREE, tree.sealed().length, 50, tree.id()),
                PackHeader.Entry.group(len, 300), PackHeader.Entry.member(0, 100, g.ids()[0]));
        byte[] mixed = packOf(both, treeThenGroup);
        // a group with no member, before another entry
        byte[] groupThenBlob = packOf(both, List.of(PackHeader.Entry.group(tree.sealed().length, 50),
                PackHeader.Entry.blob(BlobType.DATA, len, 300, g.ids()[0])));
        assertThatThrownBy(() -> PackHeader.read(key, ObjectHash.of(groupThenBlob), groupThenBlob, "pack"))
                .hasMessageContaining("group without members");
        assertThatThrownBy(() -> PackHeader.read(key, ObjectHash.of(mixed), mixed, "pack")).hasMessageContaining("mixes blob types");
        byte[] good = packOf(g.sealed(), List.of(PackHeader.Entry.group(len, 300), PackHeader.Entry.member(0, 100, g.ids()[0]),
                PackHeader.Entry.member(100, 200, g.ids()[1])));
        assertThat(PackHeader.read(key, ObjectHash.of(good), good, "pack").blobs()).hasSize(2);
    }
}
