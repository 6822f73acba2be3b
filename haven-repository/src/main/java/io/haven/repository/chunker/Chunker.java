package io.haven.repository.chunker;

import io.haven.repository.Config.ChunkerParams;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;

/**
 * Content-defined chunking (FastCDC with normalized chunking and a keyed gear table), as a pure
 * function over bytes: {@link #cut} says where the chunk that starts at an offset ends. The
 * caller owns I/O. See docs/repository-format.md §4. Thread safe (immutable).
 */
public final class Chunker {
    private final long[] gear;
    private final int min;
    private final int avg;
    private final int max;
    private final long maskSmall;
    private final long maskLarge;

    /** @param gear 256 entries */
    public Chunker(ChunkerParams params, long[] gear) {
        if (gear.length != 256) {
            throw new IllegalArgumentException("a gear table has 256 entries");
        }
        this.gear = gear.clone();
        this.min = params.minSize();
        this.avg = params.avgSize();
        this.max = params.maxSize();
        int bits = Integer.numberOfTrailingZeros(avg);
        this.maskSmall = -1L << (64 - (bits + 2));
        this.maskLarge = -1L << (64 - (bits - 2));
    }

    /**
     * Derives the gear table from a keyed hash: entry i is the first 8 bytes (big-endian) of
     * {@code mac("haven-gear" ‖ i)}.
     */
    public static long[] gearTable(UnaryOperator<byte[]> mac) {
        byte[] prefix = "haven-gear".getBytes(StandardCharsets.US_ASCII);
        long[] g = new long[256];
        for (int i = 0; i < 256; i++) {
            byte[] in = new byte[prefix.length + 1];
            System.arraycopy(prefix, 0, in, 0, prefix.length);
            in[prefix.length] = (byte) i;
            byte[] h = mac.apply(in);
            long v = 0;
            for (int k = 0; k < 8; k++) {
                v = (v << 8) | (h[k] & 0xff);
            }
            g[i] = v;
        }
        return g;
    }

    public int minSize() {
        return min;
    }

    public int maxSize() {
        return max;
    }

    /**
     * The length of the chunk that starts at {@code data[offset]}.
     *
     * @param available bytes valid from {@code offset}
     * @param eof whether these are the last bytes of the stream
     * @return a length in {@code [1, min(available, maxSize)]}, or 0 when more bytes are needed
     *     to decide (only possible when {@code !eof && available < maxSize})
     */
    public int cut(byte[] data, int offset, int available, boolean eof) {
        if (available <= min) {
            return eof ? available : 0;
        }
        int n = Math.min(available, max);
        int normal = Math.min(avg, n);
        long h = 0;
        int i = min;
        long[] g = gear;
        for (; i < normal; i++) {
            h = (h << 1) + g[data[offset + i] & 0xff];
            if ((h & maskSmall) == 0) {
                return i + 1;
            }
        }
        for (; i < n; i++) {
            h = (h << 1) + g[data[offset + i] & 0xff];
            if ((h & maskLarge) == 0) {
                return i + 1;
            }
        }
        if (n == max || eof) {
            return n;
        }
        return 0;
    }
}
