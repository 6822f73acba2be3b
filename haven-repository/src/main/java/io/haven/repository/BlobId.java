package io.haven.repository;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A 32-byte identifier: a blob id (keyed hash of content) or an object id (SHA-256 of stored
 * bytes). Immutable; the array is never exposed.
 */
public final class BlobId implements Comparable<BlobId> {
    public static final int LENGTH = 32;
    private static final HexFormat HEX = HexFormat.of();

    private final byte[] bytes;
    private final int hash;

    private BlobId(byte[] bytes) {
        this.bytes = bytes;
        // ids are uniformly random: any four bytes make a good hash
        this.hash = (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
    }

    /** Copies {@code LENGTH} bytes from {@code src} at {@code offset}. */
    public static BlobId of(byte[] src, int offset) {
        return new BlobId(Arrays.copyOfRange(src, offset, offset + LENGTH));
    }

    public static BlobId of(byte[] src) {
        if (src.length != LENGTH) {
            throw new IllegalArgumentException("an id has 32 bytes, not " + src.length);
        }
        return new BlobId(src.clone());
    }

    /** Parses 64 hex digits. */
    public static BlobId parse(String hex) {
        if (hex.length() != 2 * LENGTH) {
            throw new HavenException(ErrorCode.CORRUPT, "not an id (64 hex digits): '" + hex + "'");
        }
        try {
            return new BlobId(HEX.parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new HavenException(ErrorCode.CORRUPT, "not an id (64 hex digits): '" + hex + "'");
        }
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);

    /** Bytes {@code 8*i} to {@code 8*i+7}, big-endian, for {@code i} in 0..3: for compact tables. */
    public long word(int i) {
        return (long) LONGS.get(bytes, i * 8);
    }

    /** The inverse of {@link #word(int)}. */
    public static BlobId ofWords(long w0, long w1, long w2, long w3) {
        byte[] b = new byte[LENGTH];
        LONGS.set(b, 0, w0);
        LONGS.set(b, 8, w1);
        LONGS.set(b, 16, w2);
        LONGS.set(b, 24, w3);
        return new BlobId(b);
    }

    public void copyTo(byte[] dst, int offset) {
        System.arraycopy(bytes, 0, dst, offset, LENGTH);
    }

    public String hex() {
        return HEX.formatHex(bytes);
    }

    /** The first 8 hex digits, as shown to people. */
    public String shortHex() {
        return hex().substring(0, 8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlobId other && hash == other.hash && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public int compareTo(BlobId o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
