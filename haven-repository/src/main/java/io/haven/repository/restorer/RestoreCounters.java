package io.haven.repository.restorer;

import java.util.concurrent.atomic.AtomicLong;

/** Live counters of a restore, for progress displays. Thread safe. */
public final class RestoreCounters {
    final AtomicLong filesDone = new AtomicLong();
    final AtomicLong bytesDone = new AtomicLong();
    final AtomicLong deleted = new AtomicLong();
    volatile long totalFiles = -1;
    volatile long totalBytes = -1;
    volatile long filesKept;

    /** Files written (or linked) so far. */
    public long filesDone() {
        return filesDone.get();
    }

    /** Bytes of file content written so far. */
    public long bytesDone() {
        return bytesDone.get();
    }

    /** -1 until the plan is made; then the files the restore writes or links (a sync: only those that differ). */
    public long totalFiles() {
        return totalFiles;
    }

    /** -1 until the plan is made; then the bytes of content it writes. */
    public long totalBytes() {
        return totalBytes;
    }

    /** A sync: files left in place because they already match. */
    public long filesKept() {
        return filesKept;
    }

    /** A sync: entries deleted from the target so far (every entry of a deleted tree counts). */
    public long deleted() {
        return deleted.get();
    }
}
