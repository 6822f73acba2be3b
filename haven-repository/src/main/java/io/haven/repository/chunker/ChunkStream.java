package io.haven.repository.chunker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.function.LongConsumer;

/**
 * The I/O side of chunking: reads a channel into a buffer of twice the maximum chunk size,
 * refills it whenever fewer than a maximum chunk of bytes remain, and hands each chunk that
 * {@link Chunker#cut} finds to a sink. The buffer is reused; a chunk's bytes are valid only
 * during the sink call. Not thread safe: use one per thread.
 */
public final class ChunkStream {
    /** Receives each chunk in order. */
    @FunctionalInterface
    public interface Sink {
        void chunk(byte[] buffer, int offset, int length) throws IOException;
    }

    private final Chunker chunker;
    private final byte[] buf;
    private final int maxRead;

    /**
     * @param maxRead the most bytes asked of the channel per read (the JDK stages heap reads in
     *     a per-thread direct buffer of that size, so keep it small: 1 MiB)
     */
    public ChunkStream(Chunker chunker, int maxRead) {
        this.chunker = chunker;
        this.buf = new byte[2 * chunker.maxSize()];
        this.maxRead = maxRead;
    }

    /**
     * Chunks everything the channel holds.
     *
     * @param onRead told the size of every successful read, for progress
     * @return the number of bytes read
     */
    public long cut(ReadableByteChannel in, Sink sink, LongConsumer onRead) throws IOException {
        return cut(in, -1, sink, onRead);
    }

    /**
     * Chunks the channel's first {@code limit} bytes, or everything it holds when {@code limit}
     * is negative. With a limit no read goes past it, and none is made to find the end: a file
     * whose size {@code lstat} gave costs one read fewer (on a tree of small files, one system
     * call in five); a file that grew since is stored as it was then.
     *
     * @param onRead told the size of every successful read, for progress
     * @return the number of bytes read (less than the limit when the channel ended first)
     */
    public long cut(ReadableByteChannel in, long limit, Sink sink, LongConsumer onRead) throws IOException {
        int start = 0;
        int end = 0;
        long total = 0;
        boolean eof = limit == 0;
        while (true) {
            if (!eof && end - start < chunker.maxSize()) {
                if (start > 0) {
                    System.arraycopy(buf, start, buf, 0, end - start);
                    end -= start;
                    start = 0;
                }
                while (end < buf.length) {
                    int want = Math.min(buf.length - end, maxRead);
                    if (limit >= 0) {
                        want = (int) Math.min(want, limit - total);
                    }
                    int n = in.read(ByteBuffer.wrap(buf, end, want));
                    if (n < 0) {
                        eof = true;
                        break;
                    }
                    end += n;
                    total += n;
                    onRead.accept(n);
                    if (total == limit) {
                        eof = true;
                        break;
                    }
                }
            }
            if (start == end && eof) {
                return total;
            }
            int len = chunker.cut(buf, start, end - start, eof);
            if (len == 0) {
                throw new IllegalStateException("the chunker asked for more data with a full buffer");
            }
            sink.chunk(buf, start, len);
            start += len;
        }
    }
}
