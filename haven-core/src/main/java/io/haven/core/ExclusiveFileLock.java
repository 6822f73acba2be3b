package io.haven.core;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An exclusive operating-system lock on a file, held until {@link #close()}; the kernel drops it
 * when the process dies, so it never goes stale.
 *
 * <p>The locks are POSIX record locks, which belong to the process: closing any descriptor of
 * the file in this process drops the lock, even one opened only to try it. So a second attempt
 * in this process is answered from a table of the files this process has locked and never
 * touches the file.
 */
public final class ExclusiveFileLock implements AutoCloseable {
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private ExclusiveFileLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code file}, creating it (not its folder) when missing.
     *
     * @return empty when this process or another one holds the lock
     * @throws IOException when the file cannot be opened or locked
     */
    public static Optional<ExclusiveFileLock> tryAcquire(Path file) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        if (!HELD.add(key)) {
            return Optional.empty();
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                ch.close(); // held by another process: this process has no lock on it to lose
                HELD.remove(key);
                return Optional.empty();
            }
            return Optional.of(new ExclusiveFileLock(key, ch, l));
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            HELD.remove(key);
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    /** Releases the lock and closes the file; the file itself stays. */
    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                lock.release();
            }
            channel.close();
        } finally {
            HELD.remove(file);
        }
    }
}
