package io.haven.repository.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class IndexCodecTest {
    private static BlobId id(int seed) {
        byte[] b = new byte[32];
        new Random(seed).nextBytes(b);
        return BlobId.of(b);
    }

    private static void assertCorrupt(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT));
    }

    private static List<PackRecord> samplePacks() {
        List<PackRecord.Entry> many = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < 50; i++) {
            int len = 1000 + i;
            many.add(new PackRecord.Entry(id(100 + i), offset, len, 5000 + i));
            offset += len;
        }
        return List.of(
                new PackRecord(id(1), BlobType.DATA, many),
                new PackRecord(id(2), BlobType.TREE, List.of(new PackRecord.Entry(id(3), 0, 29, 0),
                        new PackRecord.Entry(id(4), 29, 4_000_000, 2_000_000_000))),
                new PackRecord(id(5), BlobType.DATA, List.of()),
                // values that are negative as Java ints are u32 in the format
                new PackRecord(id(6), BlobType.DATA, List.of(new PackRecord.Entry(id(7), Integer.MAX_VALUE, 1, 1))));
    }

    @Test
    void packRecordsSurviveEncoding() {
        List<PackRecord> packs = samplePacks();
        assertThat(IndexCodec.decode(IndexCodec.encode(packs), "index")).isEqualTo(packs);
    }

    @Test
    void anEmptyIndexSurvivesEncoding() {
        assertThat(IndexCodec.decode(IndexCodec.encode(List.of()), "index")).isEmpty();
    }

    @Test
    void encodingFollowsTheFormat() {
        PackRecord p = new PackRecord(id(1), BlobType.TREE, List.of(new PackRecord.Entry(id(2), 7, 300, 70_000)));
        ByteBuffer b = ByteBuffer.wrap(IndexCodec.encode(List.of(p))).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[4];
        b.get(magic);
        assertThat(new String(magic, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("HVIX");
        assertThat(b.get()).isEqualTo((byte) 1);
        assertThat(b.getInt()).isEqualTo(1);
        byte[] id = new byte[32];
        b.get(id);
        assertThat(BlobId.of(id)).isEqualTo(id(1));
        assertThat(b.get()).isEqualTo((byte) 1);
        assertThat(b.getInt()).isEqualTo(1);
        b.get(id);
        assertThat(BlobId.of(id)).isEqualTo(id(2));
        assertThat(b.getInt()).isEqualTo(7);
        assertThat(b.getInt()).isEqualTo(300);
        assertThat(b.getInt()).isEqualTo(70_000);
        assertThat(b.hasRemaining()).isFalse();
    }

    @Test
    void groupMembersAreWrittenAsVersionTwoWithTheirOffsetInTheGroup() {
        PackRecord p = new PackRecord(id(1), BlobType.DATA, List.of(new PackRecord.Entry(id(2), 0, 500, 3000),
                new PackRecord.Entry(id(3), 500, 40_000, 9000, 0), new PackRecord.Entry(id(4), 500, 40_000, 70_000, 9000)));
        byte[] enc = IndexCodec.encode(List.of(p));
        assertThat(enc[4]).isEqualTo((byte) 2);
        assertThat(enc.length).isEqualTo(4 + 1 + 4 + 32 + 1 + 4 + 3 * 48);
        ByteBuffer b = ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN);
        b.position(4 + 1 + 4 + 32 + 1 + 4 + 32);
        assertThat(new int[] {b.getInt(), b.getInt(), b.getInt(), b.getInt()}).containsExactly(0, 500, 3000, -1);
        b.position(b.position() + 32);
        assertThat(new int[] {b.getInt(), b.getInt(), b.getInt(), b.getInt()}).containsExactly(500, 40_000, 9000, 0);
        assertThat(IndexCodec.decode(enc, "index")).containsExactly(p);
        // every truncation of a version 2 file is refused too
        for (int len = 0; len < enc.length; len++) {
            byte[] cut = Arrays.copyOf(enc, len);
            assertCorrupt(() -> IndexCodec.decode(cut, "truncated index"));
        }
    }

    @Test
    void aMemberPlacedOutsideAnyPossibleGroupIsCorrupt() {
        for (PackRecord.Entry bad : List.of(new PackRecord.Entry(id(3), 0, 40_000, 100, (1 << 20) - 50),
                new PackRecord.Entry(id(3), 0, (1 << 20) + 100, 100, 0), new PackRecord.Entry(id(3), 0, 40_000, 100, -7))) {
            byte[] enc = IndexCodec.encode(List.of(new PackRecord(id(1), BlobType.DATA,
                    List.of(bad, new PackRecord.Entry(id(4), 0, 40_000, 10, 0)))));
            assertCorrupt(() -> IndexCodec.decode(enc, "index"));
        }
    }

    @Test
    void everyTruncationIsCorrupt() {
        byte[] enc = IndexCodec.encode(samplePacks().subList(1, 4));
        for (int len = 0; len < enc.length; len++) {
            byte[] cut = Arrays.copyOf(enc, len);
            assertCorrupt(() -> IndexCodec.decode(cut, "truncated index"));
        }
    }

    @Test
    void trailingBytesAreCorrupt() {
        byte[] enc = IndexCodec.encode(samplePacks());
        assertCorrupt(() -> IndexCodec.decode(Arrays.copyOf(enc, enc.length + 1), "long index"));
    }

    @Test
    void badMagicIsCorrupt() {
        byte[] enc = IndexCodec.encode(samplePacks());
        enc[0] = 'h';
        assertCorrupt(() -> IndexCodec.decode(enc, "bad magic"));
        assertCorrupt(() -> IndexCodec.decode("HVTR\1\0\0\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                "a tree"));
    }

    @Test
    void unknownVersionOrBlobTypeIsCorrupt() {
        byte[] enc = IndexCodec.encode(samplePacks());
        byte[] version = enc.clone();
        version[4] = 2;
        assertCorrupt(() -> IndexCodec.decode(version, "bad version"));
        byte[] type = enc.clone();
        type[4 + 1 + 4 + 32] = 2;
        assertCorrupt(() -> IndexCodec.decode(type, "bad type"));
    }

    @Test
    void aBlobCountBeyondTheDataIsCorrupt() {
        byte[] enc = IndexCodec.encode(samplePacks().subList(1, 2));
        ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN).putInt(4 + 1 + 4 + 32 + 1, 3);
        assertCorrupt(() -> IndexCodec.decode(enc, "bad blob count"));
        ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN).putInt(4 + 1 + 4 + 32 + 1, -1);
        assertCorrupt(() -> IndexCodec.decode(enc, "bad blob count"));
    }

    @Test
    void aPackCountBeyondTheDataIsCorrupt() {
        byte[] enc = IndexCodec.encode(List.of());
        ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN).putInt(5, 1);
        assertCorrupt(() -> IndexCodec.decode(enc, "one pack missing"));
        ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN).putInt(5, 0xffff_ffff);
        assertCorrupt(() -> IndexCodec.decode(enc, "four billion packs missing"));
    }

    @Test
    void objectNamesSeparateTheBlobTypes() {
        PackRecord data = new PackRecord(id(1), BlobType.DATA, List.of());
        PackRecord tree = new PackRecord(id(1), BlobType.TREE, List.of());
        String hex = id(1).hex();
        assertThat(data.objectName()).isEqualTo("data/" + hex.substring(0, 2) + "/" + hex);
        assertThat(tree.objectName()).isEqualTo("tree/" + hex.substring(0, 2) + "/" + hex);
    }

    @Test
    void theIndexKeepsTheFirstCopyOfABlob() {
        Index index = new Index();
        index.add(new PackRecord(id(1), BlobType.DATA, List.of(new PackRecord.Entry(id(9), 0, 100, 50))));
        index.add(new PackRecord(id(2), BlobType.DATA, List.of(new PackRecord.Entry(id(9), 40, 100, 50),
                new PackRecord.Entry(id(8), 140, 30, 1))));
        assertThat(index.blobCount()).isEqualTo(2);
        assertThat(index.lookup(id(9))).isEqualTo(new Index.Location(id(1), BlobType.DATA, 0, 100, 50));
        assertThat(index.lookup(id(8)).pack()).isEqualTo(id(2));
        assertThat(index.lookup(id(7))).isNull();
        assertThat(index.packIds()).containsExactlyInAnyOrder(id(1), id(2));
    }
}
