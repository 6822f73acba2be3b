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
                new PackHeader.Entry(BlobType.DATA, a.sealed().length, 1, a.id()),
                new PackHeader.Entry(BlobType.TREE, b.sealed().length, 1, b.id()))));
        ByteBuffer pack = ByteBuffer.allocate(a.sealed().length + b.sealed().length + header.length + 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        pack.put(a.sealed()).put(b.sealed()).put(header).putInt(header.length);
        assertCode(ErrorCode.CORRUPT, () -> PackHeader.read(key, ObjectHash.of(pack.array()), pack.array(), "mixed"));
    }
}
