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
    void groupMembersKeepTheirPlaceInTheGroupBesideBlobsStoredAlone() {
        Index index = new Index();
        PackRecord.Entry alone = new PackRecord.Entry(id(1), 0, Integer.MAX_VALUE, -5);
        PackRecord.Entry first = new PackRecord.Entry(id(2), 100, (1 << 20) + 29, 1, 0);
        PackRecord.Entry last = new PackRecord.Entry(id(3), 100, (1 << 20) + 29, (1 << 20) - 7, 7);
        index.add(new PackRecord(id(9), BlobType.DATA, List.of(alone, first, last)));
        assertThat(index.lookup(id(1))).isEqualTo(new Index.Location(id(9), BlobType.DATA, 0, Integer.MAX_VALUE, -5, -1));
        assertThat(index.lookup(id(2))).isEqualTo(new Index.Location(id(9), BlobType.DATA, 100, (1 << 20) + 29, 1, 0));
        assertThat(index.lookup(id(3))).isEqualTo(new Index.Location(id(9), BlobType.DATA, 100, (1 << 20) + 29, (1 << 20) - 7, 7));
        assertThat(index.entry(2).grouped()).isTrue();
        assertThat(index.entry(0).grouped()).isFalse();
        assertThat(index.entryLength(1)).isEqualTo((1 << 20) + 29);
        assertThat(index.packRecord(0, new int[] {0, 1, 2}).blobs()).containsExactly(alone, first, last);
        // the group's bytes count once for the pack, not once per member
        assertThat(index.bytesByPack()).containsExactly((long) Integer.MAX_VALUE + (1 << 20) + 29);
        // a member of a group larger than the format allows cannot be held, and says why
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> index.add(new PackRecord(id(10), BlobType.DATA,
                List.of(new PackRecord.Entry(id(4), 0, 3 << 20, 10, 0))))).isInstanceOf(io.haven.core.HavenException.class)
                .hasMessageContaining("larger than the format allows");
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

    @Test
    void lookupsWhileAnotherThreadAddsPacksNeverAnswerWrongly() throws Exception {
        // containsUsable reads without a lock first; a read torn by a table growth must be retried
        Random r = new Random(11);
        Index index = new Index();
        int packs = 400;
        int perPack = 200;
        BlobId[][] ids = new BlobId[packs][perPack];
        for (BlobId[] pack : ids) {
            for (int k = 0; k < perPack; k++) {
                pack[k] = random(r);
            }
        }
        BlobId[] absent = new BlobId[1000];
        for (int i = 0; i < absent.length; i++) {
            absent[i] = random(r);
        }
        java.util.concurrent.atomic.AtomicInteger added = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong checks = new java.util.concurrent.atomic.AtomicLong();
        Thread[] readers = new Thread[2];
        for (int t = 0; t < readers.length; t++) {
            long seed = t;
            readers[t] = new Thread(() -> {
                Random q = new Random(seed);
                while (added.get() < packs) {
                    int done = added.get();
                    if (done > 0) {
                        BlobId known = ids[q.nextInt(done)][q.nextInt(perPack)];
                        if (!index.containsUsable(known)) {
                            wrong.incrementAndGet();
                        }
                    }
                    if (index.containsUsable(absent[q.nextInt(absent.length)])) {
                        wrong.incrementAndGet();
                    }
                    checks.incrementAndGet();
                }
            });
            readers[t].start();
        }
        for (int p = 0; p < packs; p++) {
            List<PackRecord.Entry> entries = new ArrayList<>();
            for (int k = 0; k < perPack; k++) {
                entries.add(new PackRecord.Entry(ids[p][k], k * 100, 100, 300));
            }
            index.add(new PackRecord(id(p), BlobType.DATA, entries));
            added.incrementAndGet();
        }
        for (Thread t : readers) {
            t.join();
        }
        assertThat(wrong.get()).isZero();
        assertThat(checks.get()).isGreaterThan(0);
        assertThat(index.blobCount()).isEqualTo(packs * perPack);
    }
}
