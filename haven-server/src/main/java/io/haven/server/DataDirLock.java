package io.haven.server;

import io.haven.core.ErrorCode;
import io.haven.core.ExclusiveFileLock;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * An exclusive operating-system lock on {@code DATA/server.lock}: one server per data directory,
 * whether the other one is in this process or another. The kernel drops the lock when the process
 * dies, so it never goes stale.
 */
final class DataDirLock implements AutoCloseable {
    private final ExclusiveFileLock lock;

    private DataDirLock(ExclusiveFileLock lock) {
        this.lock = lock;
    }

    /** @throws HavenException BUSY when another server holds the directory, IO when it cannot be locked */
    static DataDirLock acquire(Path dataDir) {
        Path file = dataDir.resolve("server.lock");
        try {
            return new DataDirLock(ExclusiveFileLock.tryAcquire(file).orElseThrow(() -> new HavenException(ErrorCode.BUSY,
                    "another haven server is running on the data directory " + dataDir + " (its database is in use); stop it first")));
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot lock " + file + ": " + e, e);
        }
    }

    @Override
    public void close() {
        try {
            lock.close();
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot release the data directory lock: " + e, e);
        }
    }
}
