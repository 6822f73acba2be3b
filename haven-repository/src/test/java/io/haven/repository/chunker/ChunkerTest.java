package io.haven.repository.chunker;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.BlobId;
import io.haven.repository.Config.ChunkerParams;
import io.haven.repository.crypto.ObjectHash;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class ChunkerTest {
    private static final ChunkerParams PARAMS = ChunkerParams.defaults();
    private static final int MIN = PARAMS.minSize();
    private static final int AVG = PARAMS.avgSize();
    private static final int MAX = PARAMS.maxSize();
    private static final int MIB = 1 << 20;

    private static final Chunker CHUNKER = new Chunker(PARAMS, Chunker.gearTable(hmac("chunker-test-key")));
    /** 24 MiB of seeded random bytes, shared (read-only) by the tests. */
    private static final byte[] DATA = random(24 * MIB, 42);

    // ---------------------------------------------------------------- helpers

    private static java.util.function.UnaryOperator<byte[]> hmac(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return in -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(k, "HmacSHA256"));
                return mac.doFinal(in);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * Chunks a stream through {@link ChunkStream}, the reader the backup uses. {@code readSize}
     * limits each read, to vary how the stream arrives. Returns the chunks' lengths.
     */
    static List<Integer> chunkStream(Chunker chunker, InputStream in, int readSize) {
        List<Integer> lengths = new ArrayList<>();
        try {
            long total = new ChunkStream(chunker, readSize).cut(java.nio.channels.Channels.newChannel(in), (buf, off, len) -> {
                assertThat(len).as("cut with a full buffer or at eof must decide").isPositive();
                lengths.add(len);
            }, n -> { });
            assertThat(total).isEqualTo(lengths.stream().mapToLong(Integer::longValue).sum());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return lengths;
    }

    static List<Integer> chunk(Chunker chunker, byte[] data) {
        return chunkStream(chunker, new ByteArrayInputStream(data), Integer.MAX_VALUE);
    }

    private static List<BlobId> hashes(byte[] data, List<Integer> lengths) {
        List<BlobId> out = new ArrayList<>();
        int off = 0;
        for (int len : lengths) {
            out.add(ObjectHash.of(data, off, len));
            off += len;
        }
        return out;
    }

    private static byte[] insert(byte[] data, int at, byte[] extra) {
        byte[] out = new byte[data.length + extra.length];
        System.arraycopy(data, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(data, at, out, at + extra.length, data.length - at);
        return out;
    }

    // ---------------------------------------------------------------- tests

    @Test
    void chunksOfRandomDataStayWithinTheBoundsAndReassembleTheInput() {
        List<Integer> lengths = chunk(CHUNKER, DATA);

        assertThat(lengths).hasSizeGreaterThan(1);
        for (int i = 0; i < lengths.size() - 1; i++) {
            assertThat(lengths.get(i)).as("chunk %d", i).isBetween(MIN, MAX);
        }
        assertThat(lengths.get(lengths.size() - 1)).isBetween(1, MAX);

        ByteArrayOutputStream joined = new ByteArrayOutputStream(DATA.length);
        int off = 0;
        for (int len : lengths) {
            joined.write(DATA, off, len);
            off += len;
        }
        assertThat(joined.toByteArray()).isEqualTo(DATA);

        double average = (double) DATA.length / lengths.size();
        assertThat(average).as("average chunk size").isBetween(0.4 * MIB, 3.0 * MIB);
    }

    @Test
    void boundariesSurviveAnInsertion() {
        List<BlobId> original = hashes(DATA, chunk(CHUNKER, DATA));
        byte[] extra = random(100, 7);

        for (int at : new int[] {7 * MIB + 12345, 0}) {
            byte[] changed = insert(DATA, at, extra);
            Set<BlobId> after = new HashSet<>(hashes(changed, chunk(CHUNKER, changed)));
            long lost = original.stream().filter(h -> !after.contains(h)).count();
            assertThat(lost).as("original chunks lost by inserting 100 bytes at %d (of %d)", at, original.size())
                    .isBetween(1L, 2L);
        }
    }

    @Test
    void sameInputGivesTheSameCuts() {
        assertThat(chunk(CHUNKER, DATA)).isEqualTo(chunk(CHUNKER, DATA.clone()));
        Chunker twin = new Chunker(PARAMS, Chunker.gearTable(hmac("chunker-test-key")));
        assertThat(chunk(twin, DATA)).isEqualTo(chunk(CHUNKER, DATA));
    }

    @Test
    void cutsDoNotDependOnHowTheStreamArrives() {
        byte[] data = java.util.Arrays.copyOf(DATA, 9 * MIB + 333);
        List<Integer> whole = chunk(CHUNKER, data);
        // a stream that returns odd-sized pieces
        assertThat(chunkStream(CHUNKER, new ByteArrayInputStream(data), 65_537)).isEqualTo(whole);

        // and cutting the whole array in one piece, with eof, from each chunk start
        List<Integer> inOnePiece = new ArrayList<>();
        for (int off = 0; off < data.length; ) {
            int len = CHUNKER.cut(data, off, data.length - off, true);
            inOnePiece.add(len);
            off += len;
        }
        assertThat(inOnePiece).isEqualTo(whole);
    }

    @Test
    void boundariesDependOnTheKey() {
        Chunker other = new Chunker(PARAMS, Chunker.gearTable(hmac("another-key")));
        assertThat(chunk(other, DATA)).isNotEqualTo(chunk(CHUNKER, DATA));
    }

    @Test
    void gearTableIsTheKeyedHashOfItsIndexAsSpecified() {
        var mac = hmac("chunker-test-key");
        long[] gear = Chunker.gearTable(mac);
        assertThat(gear).hasSize(256);
        for (int i : new int[] {0, 1, 127, 128, 255}) {
            byte[] in = ("haven-gear" + "\0").getBytes(StandardCharsets.US_ASCII);
            in[in.length - 1] = (byte) i;
            long expected = java.nio.ByteBuffer.wrap(mac.apply(in), 0, 8).getLong(); // big-endian
            assertThat(gear[i]).as("gear[%d]", i).isEqualTo(expected);
        }
        assertThat(java.util.Arrays.stream(gear).distinct().count()).isEqualTo(256);
    }

    @Test
    void cutsFollowTheRuleOfTheFormatSpecification() {
        long[] gear = Chunker.gearTable(hmac("chunker-test-key"));
        byte[] data = java.util.Arrays.copyOf(DATA, 12 * MIB);
        int off = 0;
        while (off < data.length) {
            int expected = referenceCut(gear, data, off, data.length - off);
            assertThat(CHUNKER.cut(data, off, data.length - off, true)).as("chunk at %d", off).isEqualTo(expected);
            off += expected;
        }
    }

    /** docs/repository-format.md §4, written out literally, for a region that ends the stream. */
    private static int referenceCut(long[] gear, byte[] data, int s, int available) {
        if (available <= MIN) {
            return available;
        }
        int bits = Integer.numberOfTrailingZeros(AVG);
        long maskS = highBits(bits + 2);
        long maskL = highBits(bits - 2);
        long h = 0;
        for (int p = MIN; p < Math.min(available, MAX); p++) {
            h = (h << 1) + gear[data[s + p] & 0xff];
            long mask = p < AVG ? maskS : maskL;
            if ((h & mask) == 0) {
                return p + 1;
            }
        }
        return Math.min(available, MAX);
    }

    private static long highBits(int n) {
        long m = 0;
        for (int i = 0; i < n; i++) {
            m |= 1L << (63 - i);
        }
        return m;
    }

    @Test
    void cutAsksForMoreDataWhenItCannotDecideYet() {
        // find a chunk that is longer than min + 1, so there is a prefix without a boundary
        int off = 0;
        int len;
        while (true) {
            len = CHUNKER.cut(DATA, off, DATA.length - off, true);
            if (len > MIN + 1 && len < MAX) {
                break;
            }
            off += len;
        }
        // without the boundary byte and before eof the chunker cannot know where the chunk ends
        assertThat(CHUNKER.cut(DATA, off, len - 1, false)).isZero();
        assertThat(CHUNKER.cut(DATA, off, MIN, false)).isZero();
        assertThat(CHUNKER.cut(DATA, off, 10, false)).isZero();
        // with the boundary byte it can, even before eof
        assertThat(CHUNKER.cut(DATA, off, len, false)).isEqualTo(len);
        // at eof what is left is the chunk
        assertThat(CHUNKER.cut(DATA, off, len - 1, true)).isEqualTo(len - 1);
        // with max bytes available it always decides
        assertThat(CHUNKER.cut(DATA, off, MAX, false)).isEqualTo(len);
    }

    @Test
    void cutIsForcedAtTheMaximumSize() {
        // with every gear entry 2^63 + 1 the hash always has its top bit set: no natural boundary
        long[] never = new long[256];
        java.util.Arrays.fill(never, Long.MIN_VALUE | 1);
        Chunker chunker = new Chunker(PARAMS, never);
        assertThat(chunk(chunker, java.util.Arrays.copyOf(DATA, 3 * MAX + 5))).containsExactly(MAX, MAX, MAX, 5);
    }

    @Test
    void noChunkEndsBeforeTheMinimumSize() {
        // with every gear entry 0 the hash is always 0: a boundary at the first byte considered
        Chunker chunker = new Chunker(PARAMS, new long[256]);
        assertThat(chunk(chunker, java.util.Arrays.copyOf(DATA, 3 * (MIN + 1) + 7)))
                .containsExactly(MIN + 1, MIN + 1, MIN + 1, 7);
    }

    @Test
    void inputUpToTheMinimumSizeIsOneChunk() {
        assertThat(chunk(CHUNKER, java.util.Arrays.copyOf(DATA, MIN))).containsExactly(MIN);
        assertThat(chunk(CHUNKER, java.util.Arrays.copyOf(DATA, 1000))).containsExactly(1000);
        assertThat(chunk(CHUNKER, java.util.Arrays.copyOf(DATA, 1))).containsExactly(1);
        assertThat(CHUNKER.cut(DATA, 5, MIN, true)).isEqualTo(MIN);
        assertThat(CHUNKER.cut(DATA, 5, MIN, false)).isZero();
    }

    @Test
    void emptyInputHasNoChunks() {
        assertThat(chunk(CHUNKER, new byte[0])).isEmpty();
    }

    @Test
    void cutDependsOnlyOnTheBytesFromTheOffset() {
        int off = 3 * MIB + 17;
        byte[] copy = java.util.Arrays.copyOfRange(DATA, off, off + 2 * MAX);
        assertThat(CHUNKER.cut(DATA, off, 2 * MAX, false)).isEqualTo(CHUNKER.cut(copy, 0, 2 * MAX, false));
    }

    /** A channel over bytes that counts the reads made of it and says how many asked past its end. */
    private static final class CountingChannel implements java.nio.channels.ReadableByteChannel {
        private final byte[] data;
        private int pos;
        int reads;
        int readsAtEnd;

        CountingChannel(byte[] data) {
            this.data = data;
        }

        @Override
        public int read(java.nio.ByteBuffer dst) {
            reads++;
            if (pos == data.length) {
                readsAtEnd++;
                return -1;
            }
            int n = Math.min(dst.remaining(), data.length - pos);
            dst.put(data, pos, n);
            pos += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static long cutWithLimit(byte[] data, long limit, CountingChannel ch, List<Integer> lengths) throws IOException {
        return new ChunkStream(CHUNKER, 1 << 20).cut(ch, limit, (buf, off, len) -> lengths.add(len), n -> { });
    }

    @Test
    void withTheSizeKnownTheStreamIsReadToThatSizeWithoutAReadToFindTheEnd() throws IOException {
        for (int size : new int[] {1, 5000, MIN + 1, 3 * MAX + 12345}) {
            byte[] data = random(size, size);
            CountingChannel ch = new CountingChannel(data);
            List<Integer> lengths = new ArrayList<>();
            assertThat(cutWithLimit(data, size, ch, lengths)).isEqualTo(size);
            assertThat(ch.readsAtEnd).as("reads past the end, size %d", size).isZero();
            assertThat(lengths).as("the same chunks as reading to the end").isEqualTo(chunk(CHUNKER, data));
        }
    }

    @Test
    void aStreamLongerThanItsSizeIsCutAtTheSizeAndAShorterOneWhereItEnds() throws IOException {
        byte[] data = random(2 * MAX, 99);
        CountingChannel grown = new CountingChannel(data);
        List<Integer> lengths = new ArrayList<>();
        assertThat(cutWithLimit(data, MAX + 7, grown, lengths)).isEqualTo(MAX + 7);
        assertThat(lengths).isEqualTo(chunk(CHUNKER, java.util.Arrays.copyOf(data, MAX + 7)));

        CountingChannel shrunk = new CountingChannel(java.util.Arrays.copyOf(data, 1000));
        lengths.clear();
        assertThat(cutWithLimit(data, 5000, shrunk, lengths)).isEqualTo(1000);
        assertThat(lengths).containsExactly(1000);

        CountingChannel empty = new CountingChannel(new byte[0]);
        lengths.clear();
        assertThat(cutWithLimit(data, 0, empty, lengths)).isZero();
        assertThat(empty.reads).isZero();
        assertThat(lengths).isEmpty();
    }
}
