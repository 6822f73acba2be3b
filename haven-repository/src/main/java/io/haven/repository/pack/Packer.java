package io.haven.repository.pack;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.crypto.MasterKey;
import io.haven.repository.crypto.ObjectHash;
import io.haven.repository.index.PackRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collects sealed blobs of one type into packs of about the target size and stores each full
 * pack through a {@link Sink}. Thread safe: appends are serialized, storing a full pack happens
 * on the caller's thread outside the lock. After a failure it refuses further use.
 */
public final class Packer {
    /** Stores a finished pack; called once per pack, possibly from several threads. */
    public interface Sink {
        void store(PackRecord record, byte[] pack, int length);
    }

    private final BlobType type;
    private final MasterKey key;
    private final int targetSize;
    private final Sink sink;
    private byte[] buf;
    private int size;
    private List<PackHeader.Entry> entries = new ArrayList<>();
    private volatile Throwable failure;

    public Packer(BlobType type, MasterKey key, int targetSize, Sink sink) {
        this.type = type;
        this.key = key;
        this.targetSize = targetSize;
        this.sink = sink;
        // allocated with the first blob: a backup that stores nothing (an unchanged re-backup)
        // never needs the tens of MiB
    }

    private final java.util.ArrayDeque<byte[]> free = new java.util.ArrayDeque<>();

    /** Room for a full pack, one more blob of the largest size, and the header; reused when possible. */
    private byte[] newBuffer() {
        synchronized (free) {
            byte[] b = free.poll();
            if (b != null) {
                return b;
            }
        }
        return new byte[targetSize + (5 << 20)];
    }

    /**
     * Gives back a buffer that {@link Sink#store} received, once the pack is stored, so the next
     * pack reuses it instead of allocating tens of MiB.
     */
    public void recycle(byte[] buffer) {
        if (buffer.length != targetSize + (5 << 20)) {
            return;
        }
        synchronized (free) {
            if (free.size() < 2) {
                free.push(buffer);
            }
        }
    }

    /** Adds one sealed blob; may store a full pack before returning. */
    public void add(BlobId id, byte[] sealed, int rawLength) {
        add(id, sealed, 0, sealed.length, rawLength);
    }

    /**
     * Adds the sealed blob {@code sealed[offset, offset+length)}, copying it; may store a full
     * pack before returning.
     */
    public void add(BlobId id, byte[] sealed, int offset, int length, int rawLength) {
        append(sealed, offset, length, List.of(PackHeader.Entry.blob(type, length, rawLength, id)));
    }

    /**
     * Adds a sealed group of data blobs, {@code sealed[offset, offset+length)}, whose payload of
     * {@code rawLength} bytes is the members' payloads one after another: member {@code i} is
     * {@code ids[i]}, {@code lengths[i]} bytes at {@code starts[i]}. Copies it; may store a full
     * pack before returning.
     */
    public void addGroup(byte[] sealed, int offset, int length, int rawLength, BlobId[] ids, int[] starts, int[] lengths,
            int count) {
        if (type != BlobType.DATA || count < 1) {
            throw new IllegalArgumentException("a group holds one or more data blobs");
        }
        List<PackHeader.Entry> group = new ArrayList<>(count + 1);
        group.add(PackHeader.Entry.group(length, rawLength));
        for (int i = 0; i < count; i++) {
            group.add(PackHeader.Entry.member(starts[i], lengths[i], ids[i]));
        }
        append(sealed, offset, length, group);
    }

    private void append(byte[] sealed, int offset, int length, List<PackHeader.Entry> added) {
        checkUsable();
        byte[] full = null;
        List<PackHeader.Entry> fullEntries = null;
        int fullSize = 0;
        synchronized (this) {
            if (buf == null) {
                buf = newBuffer();
            }
            if (size + length > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length + (buf.length >> 1), size + length));
            }
            System.arraycopy(sealed, offset, buf, size, length);
            size += length;
            entries.addAll(added);
            if (size >= targetSize) {
                full = buf;
                fullSize = size;
                fullEntries = entries;
                buf = null;
                size = 0;
                entries = new ArrayList<>();
            }
        }
        if (full != null) {
            store(full, fullSize, fullEntries);
        }
    }

    /** Stores the pack being filled, if it holds anything. */
    public void flush() {
        checkUsable();
        byte[] full;
        int fullSize;
        List<PackHeader.Entry> fullEntries;
        synchronized (this) {
            if (entries.isEmpty()) {
                return;
            }
            full = buf;
            fullSize = size;
            fullEntries = entries;
            buf = null;
            size = 0;
            entries = new ArrayList<>();
        }
        store(full, fullSize, fullEntries);
    }

    private void store(byte[] blobs, int blobBytes, List<PackHeader.Entry> list) {
        try {
            byte[] header = key.seal(PackHeader.encode(list), 0, list.size() * PackHeader.ENTRY, false);
            int length = blobBytes + header.length + 4;
            byte[] pack = length <= blobs.length ? blobs : Arrays.copyOf(blobs, length);
            System.arraycopy(header, 0, pack, blobBytes, header.length);
            ByteBuffer.wrap(pack, blobBytes + header.length, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(header.length);
            BlobId packId = ObjectHash.of(pack, 0, length);
            sink.store(new PackRecord(packId, type, PackHeader.place(list)), pack, length);
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        }
    }

    private void checkUsable() {
        Throwable f = failure;
        if (f != null) {
            throw new HavenException(ErrorCode.IO, "an earlier pack write failed: " + f.getMessage(), f);
        }
    }
}
