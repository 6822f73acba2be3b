package io.haven.repository.restorer;

import java.util.concurrent.atomic.AtomicLong;

/** Live counters of a restore, for progress displays. Thread safe. */
public final class RestoreCounters {
    final AtomicLong filesDone = new AtomicLong();
    final AtomicLong bytesDone = new AtomicLong();
    volatile long totalFiles = -1;
    volatile long totalBytes = -1;

    public long filesDone() {
        return filesDone.get();
    }

    public long bytesDone() {
        return bytesDone.get();
    }

    /** -1 until the plan is made. */
    public long totalFiles() {
        return totalFiles;
    }

    public long totalBytes() {
        return totalBytes;
    }
}
