package io.haven.runbook.run;

import java.time.Instant;

/** The snapshot a workload was recovered from, and when it was taken (what its data is as of). */
public record RecoveryPoint(String snapshot, Instant time) {
    public RecoveryPoint {
        if (snapshot == null || snapshot.isBlank() || time == null) {
            throw new IllegalArgumentException("a recovery point needs a snapshot id and its time");
        }
    }
}
