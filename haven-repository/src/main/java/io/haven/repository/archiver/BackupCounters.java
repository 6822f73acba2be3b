package io.haven.repository.archiver;

import java.util.concurrent.atomic.AtomicLong;

/** Live counters of a running backup, read by progress displays. Thread safe. */
public final class BackupCounters {
    final AtomicLong filesNew = new AtomicLong();
    final AtomicLong filesChanged = new AtomicLong();
    final AtomicLong filesUnmodified = new AtomicLong();
    final AtomicLong dirs = new AtomicLong();
    final AtomicLong bytesRead = new AtomicLong();
    final AtomicLong bytesAdded = new AtomicLong();
    final AtomicLong filesDone = new AtomicLong();
    final AtomicLong bytesDone = new AtomicLong();
    final AtomicLong totalBytes = new AtomicLong();
    final AtomicLong totalFiles = new AtomicLong();
    final AtomicLong estimatedFiles = new AtomicLong(-1);
    final AtomicLong estimatedBytes = new AtomicLong(-1);

    /** Files handled so far (read or found unchanged). */
    public long filesDone() {
        return filesDone.get();
    }

    /** File bytes handled so far (read or found unchanged). */
    public long bytesDone() {
        return bytesDone.get();
    }

    /** Bytes read from files so far. */
    public long bytesRead() {
        return bytesRead.get();
    }

    public long bytesAdded() {
        return bytesAdded.get();
    }

    /** Files to handle in all, or -1 while unknown. */
    public long estimatedFiles() {
        return estimatedFiles.get();
    }

    /** File bytes to handle in all, or -1 while unknown. */
    public long estimatedBytes() {
        return estimatedBytes.get();
    }
}
