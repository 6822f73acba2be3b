package io.haven.server;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive operating-system lock on {@code DATA/server.lock}: one server per data directory,
 * whether the other one is in this process or another. The kernel drops the lock when the process
 * dies, so it never goes stale.
 */
final class DataDirLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws HavenException BUSY when another server holds the directory, IO when it cannot be locked */
    static DataDirLock acquire(Path dataDir) {
        Path file = dataDir.resolve("server.lock");
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot open " + file + ": " + e, e);
        }
        try {
            FileLock l = ch.tryLock();
            if (l == null) {
                throw new OverlappingFileLockException();
            }
            return new DataDirLock(ch, l);
        } catch (OverlappingFileLockException | IOException e) {
            try {
                ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new HavenException(ErrorCode.BUSY, "another haven server is running on the data directory " + dataDir
                    + " (its database is in use); stop it first", e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot release the data directory lock: " + e, e);
        }
    }
}
