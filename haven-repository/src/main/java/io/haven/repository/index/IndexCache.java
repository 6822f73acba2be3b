package io.haven.repository.index;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * A local copy of a loaded index, so that the next command does not decrypt, decompress and
 * decode every index file again (on the kernel tree, 3.4 MB of index files took 0.2 s of a 1 s
 * re-backup in a fresh JVM; the copy reads in a few milliseconds).
 *
 * <p>The file names the repository and the index files whose union it holds. Index files are
 * named by the hash of their content, so a name stands for one content for ever: the copy is
 * used only when every file it names is still listed in the repository (files listed besides
 * are read and added as usual), and dropped when one is gone (a prune rewrote the index).
 * It is never used while condemned sets are pending, and holds no condemned or avoided marks.
 *
 * <p>Format (this machine's cache, not the repository's), big-endian: {@code HVIC}, a version,
 * the repository id and the sorted index file names (each a length and UTF-8 bytes), the
 * index's arrays ({@link Index#writeState}), and a CRC-32C of everything before it. It is
 * written through a small buffer and read by mapping the file, so a large index is never
 * held twice in the heap. It lives in the user's cache folder, which is trusted like the
 * rest of the user's files; the checksum catches a damaged or truncated file, which is then
 * ignored.
 *
 * <p>Stateless; {@link #write} replaces the file atomically.
 */
public final class IndexCache {
    private static final byte[] MAGIC = "HVIC".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final String TMP = ".tmp-";

    private IndexCache() {
    }

    /** A cached index and the index files it is the union of. */
    public record Cached(Index index, Set<String> names) {}

    /**
     * Reads the copy, or returns null when there is none or it is unusable (damaged, another
     * format version, another repository). The file is mapped, not read into the heap.
     */
    public static Cached read(Path file, String repositoryId) {
        ByteBuffer b;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < MAGIC.length + 8 || size > Integer.MAX_VALUE) {
                return null;
            }
            b = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        try {
            int length = b.capacity();
            CRC32C crc = new CRC32C();
            crc.update(b.duplicate().limit(length - 4));
            if ((int) crc.getValue() != b.getInt(length - 4)) {
                return null;
            }
            b.limit(length - 4);
            for (byte m : MAGIC) {
                if (b.get() != m) {
                    return null;
                }
            }
            if (b.getInt() != VERSION || !repositoryId.equals(string(b))) {
                return null;
            }
            int n = b.getInt();
            if (n < 0 || n > b.remaining() / 4) {
                return null;
            }
            Set<String> names = new TreeSet<>();
            for (int i = 0; i < n; i++) {
                names.add(string(b));
            }
            return new Cached(Index.ofState(b.slice()), names);
        } catch (RuntimeException e) {
            // BufferUnderflowException, IllegalArgumentException: not a usable copy
            return null;
        }
    }

    /**
     * Writes a copy of {@code index}, which must be exactly the union of the index files
     * {@code names}. Failures are ignored: a cache that cannot be written is only slower.
     */
    public static void write(Path file, String repositoryId, Index index, Collection<String> names) {
        Path tmp = file.resolveSibling(file.getFileName() + TMP + ProcessHandle.current().pid());
        try {
            Files.createDirectories(file.getParent());
            dropStaleTemporaries(file);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                CRC32C crc = new CRC32C();
                Index.StateOut out = piece -> {
                    crc.update(piece.duplicate());
                    writeFully(ch, piece);
                };
                ByteArrayOutputStream head = new ByteArrayOutputStream();
                DataOutputStream d = new DataOutputStream(head);
                d.write(MAGIC);
                d.writeInt(VERSION);
                writeString(d, repositoryId);
                Set<String> sorted = new TreeSet<>(names);
                d.writeInt(sorted.size());
                for (String name : sorted) {
                    writeString(d, name);
                }
                out.write(ByteBuffer.wrap(head.toByteArray()));
                index.writeState(out);
                writeFully(ch, ByteBuffer.allocate(4).putInt((int) crc.getValue()).flip());
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing more to do for a cache
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void writeString(DataOutputStream d, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        d.writeInt(b.length);
        d.write(b);
    }

    /** Temporary files of writers killed before their rename, older than an hour. */
    private static void dropStaleTemporaries(Path file) {
        String prefix = file.getFileName() + TMP;
        long before = System.currentTimeMillis() - 3_600_000;
        try (var s = Files.newDirectoryStream(file.getParent(), prefix + "*")) {
            for (Path p : s) {
                if (Files.getLastModifiedTime(p).toMillis() < before) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // a cache: what is left is only space
        }
    }

    private static String string(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("bad length");
        }
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }
}
