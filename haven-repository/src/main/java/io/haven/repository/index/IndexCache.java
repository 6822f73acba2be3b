package io.haven.repository.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
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
 * <p>Format (this machine's cache, not the repository's): {@code HVIC}, a version, the
 * repository id and the sorted index file names (each a length and UTF-8 bytes), the
 * {@link Index#state()} bytes, and a CRC-32C of everything before it. It lives in the user's
 * cache folder, which is trusted like the rest of the user's files; the checksum catches a
 * damaged or truncated file, which is then ignored.
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
     * format version, another repository).
     */
    public static Cached read(Path file, String repositoryId) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            return null;
        }
        try {
            if (data.length < MAGIC.length + 8) {
                return null;
            }
            CRC32C crc = new CRC32C();
            crc.update(data, 0, data.length - 4);
            ByteBuffer b = ByteBuffer.wrap(data);
            if ((int) crc.getValue() != b.getInt(data.length - 4)) {
                return null;
            }
            b.limit(data.length - 4);
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
        byte[] state = index.state();
        if (state == null) {
            return;
        }
        List<byte[]> encoded = new ArrayList<>();
        int size = MAGIC.length + 4 + 4 + repositoryId.length() * 3 + 4 + state.length + 4;
        for (String name : new TreeSet<>(names)) {
            byte[] e = name.getBytes(StandardCharsets.UTF_8);
            encoded.add(e);
            size += 4 + e.length;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(MAGIC).putInt(VERSION);
        byte[] id = repositoryId.getBytes(StandardCharsets.UTF_8);
        b.putInt(id.length).put(id);
        b.putInt(encoded.size());
        for (byte[] e : encoded) {
            b.putInt(e.length).put(e);
        }
        b.put(state);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        Path tmp = file.resolveSibling(file.getFileName() + TMP + ProcessHandle.current().pid());
        try {
            Files.createDirectories(file.getParent());
            dropStaleTemporaries(file);
            Files.write(tmp, java.util.Arrays.copyOf(b.array(), b.position()));
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
