package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.LinkOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A repository in a local directory. Writes go to a temporary file in the same directory, are
 * fsynced, renamed into place, and the directory is fsynced: a crash leaves either the whole
 * object or a {@code .tmp-} file that readers ignore.
 */
public final class LocalBackend implements Backend {
    static final String TMP_MARK = ".tmp-";
    private static final int OPEN_FILES_PER_THREAD = 8;

    private final Path root;
    private final Set<Path> knownDirs = ConcurrentHashMap.newKeySet();
    /** Range reads of the same pack repeat; keep a few channels open per thread. */
    private final ThreadLocal<Map<String, FileChannel>> channels = ThreadLocal.withInitial(
            () -> new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, FileChannel> e) {
                    if (size() > OPEN_FILES_PER_THREAD) {
                        closeQuietly(e.getValue());
                        return true;
                    }
                    return false;
                }
            });
    private final Set<FileChannel> allChannels = ConcurrentHashMap.newKeySet();

    public LocalBackend(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    @Override
    public boolean local() {
        return true;
    }

    @Override
    public String location() {
        return root.toString();
    }

    private Path path(String name) {
        if (name.startsWith("/") || name.contains("..")) {
            throw new IllegalArgumentException("invalid object name " + name);
        }
        return root.resolve(name);
    }

    @Override
    public List<String> list(String directory) {
        Path dir = path(directory);
        List<String> out = new ArrayList<>();
        try {
            collect(dir, out);
        } catch (IOException e) {
            throw io("cannot list " + dir, e);
        }
        return out;
    }

    /**
     * Lists regular files below {@code dir}. Names of temporary files are skipped before any
     * stat, and entries that vanish meanwhile (another writer renaming) are ignored.
     */
    private void collect(Path dir, List<String> out) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (p.getFileName().toString().contains(TMP_MARK)) {
                    continue;
                }
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue;
                }
                if (a.isDirectory()) {
                    collect(p, out);
                } else if (a.isRegularFile()) {
                    out.add(root.relativize(p).toString());
                }
            }
        } catch (NoSuchFileException e) {
            // the directory does not exist (yet): nothing in it
        } catch (java.nio.file.DirectoryIteratorException e) {
            throw e.getCause();
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        try {
            BasicFileAttributes a = Files.readAttributes(path(name), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return Optional.of(new ObjectInfo(a.size(), a.lastModifiedTime().toInstant()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw io("cannot stat " + path(name), e);
        }
    }

    @Override
    public byte[] read(String name) {
        try {
            return Files.readAllBytes(path(name));
        } catch (NoSuchFileException e) {
            throw new HavenException(ErrorCode.NOT_FOUND, "object " + name + " is missing from the repository at " + root);
        } catch (IOException e) {
            throw io("cannot read " + path(name), e);
        }
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        byte[] out = new byte[length];
        ByteBuffer buf = ByteBuffer.wrap(out);
        try {
            FileChannel ch = channel(name);
            long pos = offset;
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos);
                if (n < 0) {
                    throw new HavenException(ErrorCode.CORRUPT, "object " + name + " is shorter than expected (wanted "
                            + length + " bytes at " + offset + ")");
                }
                pos += n;
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new HavenException(ErrorCode.NOT_FOUND, "object " + name + " is missing from the repository at " + root);
        } catch (IOException e) {
            channels.get().remove(name);
            throw io("cannot read " + path(name), e);
        }
    }

    private FileChannel channel(String name) throws IOException {
        Map<String, FileChannel> cache = channels.get();
        FileChannel ch = cache.get(name);
        if (ch == null || !ch.isOpen()) {
            ch = FileChannel.open(path(name), StandardOpenOption.READ);
            allChannels.add(ch);
            cache.put(name, ch);
        }
        return ch;
    }

    @Override
    public void write(String name, byte[] data, int length) {
        Path target = path(name);
        Path dir = target.getParent();
        Path tmp = dir.resolve(target.getFileName() + TMP_MARK + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            ensureDir(dir);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data, 0, length);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw io("the file system of " + root + " cannot rename atomically", e);
            }
            syncDir(dir);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw io("cannot write " + target, e);
        }
    }

    /** Creates missing directories one level at a time, fsyncing each parent, so a crash cannot lose them. */
    private void ensureDir(Path dir) throws IOException {
        if (knownDirs.contains(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            ensureDir(dir.getParent());
            try {
                Files.createDirectory(dir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another writer made it
            }
            syncDir(dir.getParent());
        }
        knownDirs.add(dir);
    }

    private static void syncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public void delete(String name) {
        try {
            Files.deleteIfExists(path(name));
        } catch (IOException e) {
            throw io("cannot delete " + path(name), e);
        }
    }

    @Override
    public void close() {
        for (FileChannel ch : allChannels) {
            closeQuietly(ch);
        }
        allChannels.clear();
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-only channel: nothing is lost by a failed close
        }
    }

    static HavenException io(String what, IOException e) {
        return new HavenException(ErrorCode.IO, what + ": " + io.haven.core.IoReasons.of(e), e);
    }
}
