package io.haven.repository.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local copy of an index reads back exactly, and a damaged or foreign copy is not used. */
class IndexCacheTest {
    private static final String REPO = "0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;

    private static BlobId id(Random r) {
        byte[] b = new byte[BlobId.LENGTH];
        r.nextBytes(b);
        return BlobId.of(b);
    }

    /** Packs of both types; some blobs in two packs; enough entries for two pages and a grown table. */
    private static Index sample() {
        Random r = new Random(7);
        Index idx = new Index();
        List<BlobId> earlier = new ArrayList<>();
        for (int p = 0; p < 300; p++) {
            List<PackRecord.Entry> entries = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                BlobId id = p > 0 && i == 0 ? earlier.get(r.nextInt(earlier.size())) : id(r);
                earlier.add(id);
                entries.add(new PackRecord.Entry(id, i * 1000, 900 + i, 2000 + i));
            }
            idx.add(new PackRecord(id(r), p % 5 == 0 ? BlobType.TREE : BlobType.DATA, entries));
        }
        return idx;
    }

    @Test
    void aCopyReadsBackAsTheSameIndex() {
        Index idx = sample();
        Path file = dir.resolve("copy");
        IndexCache.write(file, REPO, idx, List.of("index/bb", "index/aa"));
        IndexCache.Cached c = IndexCache.read(file, REPO);
        assertThat(c).isNotNull();
        assertThat(c.names()).containsExactlyInAnyOrder("index/aa", "index/bb");
        Index back = c.index();
        assertThat(back.entryCount()).isEqualTo(idx.entryCount()).isEqualTo(90_000);
        assertThat(back.blobCount()).isEqualTo(idx.blobCount());
        assertThat(back.packCount()).isEqualTo(idx.packCount());
        assertThat(back.packIds()).containsExactlyElementsOf(idx.packIds());
        for (int e = 0; e < idx.entryCount(); e++) {
            Index.Entry x = idx.entry(e);
            assertThat(back.entry(e)).isEqualTo(x);
            assertThat(back.lookup(x.id())).isEqualTo(idx.lookup(x.id()));
        }
        assertThat(back.lookup(id(new Random(99)))).isNull();
        // the copy keeps working as an index: more packs can be added
        PackRecord more = new PackRecord(id(new Random(1)), BlobType.DATA,
                List.of(new PackRecord.Entry(id(new Random(2)), 0, 10, 10)));
        back.add(more);
        assertThat(back.contains(id(new Random(2)))).isTrue();
        assertThat(back.packCount()).isEqualTo(idx.packCount() + 1);
    }

    @Test
    void temporaryFilesOfKilledWritersAreDroppedAfterAnHour() throws Exception {
        Path file = dir.resolve("copy");
        Path old = Files.writeString(dir.resolve("copy.tmp-1"), "left by a killed writer");
        Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 7_200_000));
        Path recent = Files.writeString(dir.resolve("copy.tmp-2"), "a writer at work");
        IndexCache.write(file, REPO, sample(), List.of());
        assertThat(old).doesNotExist();
        assertThat(recent).exists();
        assertThat(IndexCache.read(file, REPO)).isNotNull();
    }

    @Test
    void anEmptyIndexRoundTrips() {
        Path file = dir.resolve("copy");
        IndexCache.write(file, REPO, new Index(), Set.of());
        IndexCache.Cached c = IndexCache.read(file, REPO);
        assertThat(c.names()).isEmpty();
        assertThat(c.index().entryCount()).isZero();
    }

    @Test
    void aDamagedTruncatedForeignOrMissingCopyIsNotUsed() throws Exception {
        Path file = dir.resolve("copy");
        IndexCache.write(file, REPO, sample(), List.of("index/aa"));
        byte[] good = Files.readAllBytes(file);
        assertThat(IndexCache.read(file, "ffffffffffffffffffffffffffffffff")).as("another repository").isNull();
        for (int at : new int[] {0, 5, good.length / 2, good.length - 1}) {
            byte[] bad = good.clone();
            bad[at] ^= 0x40;
            Files.write(file, bad);
            assertThat(IndexCache.read(file, REPO)).as("byte %d changed", at).isNull();
        }
        Files.write(file, java.util.Arrays.copyOf(good, good.length - 100));
        assertThat(IndexCache.read(file, REPO)).as("truncated").isNull();
        Files.write(file, new byte[0]);
        assertThat(IndexCache.read(file, REPO)).as("empty").isNull();
        Files.delete(file);
        assertThat(IndexCache.read(file, REPO)).as("missing").isNull();
    }
}
