package io.haven.repository.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IndexTest {
    private static BlobId random(Random r) {
        byte[] b = new byte[32];
        r.nextBytes(b);
        return BlobId.of(b);
    }

    private static BlobId id(int n) {
        return BlobId.of(ByteBuffer.allocate(32).putInt(0, n).putInt(28, n * 31).array());
    }

    @Test
    void everyAddedBlobIsFoundWithItsLocationAcrossTableGrowth() {
        Random r = new Random(7);
        Index index = new Index();
        List<BlobId> ids = new ArrayList<>();
        for (int p = 0; p < 200; p++) {
            List<PackRecord.Entry> entries = new ArrayList<>();
            for (int k = 0; k < 50; k++) {
                BlobId id = random(r);
                ids.add(id);
                entries.add(new PackRecord.Entry(id, k * 1000, 1000 - k, 2000 + k));
            }
            index.add(new PackRecord(id(p), p % 2 == 0 ? BlobType.DATA : BlobType.TREE, entries));
        }
        assertThat(index.blobCount()).isEqualTo(10_000);
        assertThat(index.packCount()).isEqualTo(200);
        for (int i = 0; i < ids.size(); i++) {
            int p = i / 50;
            int k = i % 50;
            assertThat(index.lookup(ids.get(i))).isEqualTo(new Index.Location(id(p),
                    p % 2 == 0 ? BlobType.DATA : BlobType.TREE, k * 1000, 1000 - k, 2000 + k));
        }
        assertThat(index.lookup(random(r))).isNull();
        int[][] byPack = index.entriesByPack();
        assertThat(byPack).hasNumberOfRows(200);
        assertThat(index.packRecord(3, byPack[3]).blobs()).hasSize(50).first()
                .isEqualTo(new PackRecord.Entry(ids.get(150), 0, 1000, 2000));
    }

    @Test
    void aCopyInACondemnedPackIsUsedOnlyWhenThereIsNoOther() {
        Index index = new Index();
        BlobId blob = id(100);
        index.add(new PackRecord(id(1), BlobType.DATA, List.of(new PackRecord.Entry(blob, 0, 10, 5))), true);
        assertThat(index.contains(blob)).isTrue();
        assertThat(index.containsUsable(blob)).isFalse();
        assertThat(index.lookup(blob).pack()).isEqualTo(id(1));
        index.add(new PackRecord(id(2), BlobType.DATA, List.of(new PackRecord.Entry(blob, 20, 10, 5))));
        assertThat(index.containsUsable(blob)).isTrue();
        assertThat(index.lookup(blob).pack()).isEqualTo(id(2));
        assertThat(index.entryCount()).isEqualTo(2);
        assertThat(index.blobCount()).isEqualTo(1);
    }

    @Test
    void addingAPackTwiceAddsItOnce() {
        Index index = new Index();
        PackRecord p = new PackRecord(id(1), BlobType.DATA, List.of(new PackRecord.Entry(id(5), 0, 10, 5)));
        index.add(p);
        index.add(p);
        assertThat(index.entryCount()).isEqualTo(1);
    }

    /**
     * The budget: at most 64 bytes of heap per indexed blob in the steady state. Counted
     * from the structures (pages, table, pack table) at a million blobs in 16 MiB-style packs of
     * 16 blobs; docs/performance.md has the heap measured on a 10-million-blob repository.
     */
    @Test
    void aMillionBlobsTakeAtMost64BytesEach() {
        Random r = new Random(1);
        Index index = new Index();
        int packs = 1_000_000 / 16;
        for (int p = 0; p < packs; p++) {
            List<PackRecord.Entry> entries = new ArrayList<>(16);
            for (int k = 0; k < 16; k++) {
                entries.add(new PackRecord.Entry(random(r), k, 1, 1));
            }
            index.add(new PackRecord(random(r), BlobType.DATA, entries));
        }
        double perBlob = (double) index.memoryBytes() / index.blobCount();
        assertThat(perBlob).isLessThanOrEqualTo(64.0);
    }
}
