package io.haven.server.dr;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.BlobId;
import io.haven.repository.Repository.SnapshotEntry;
import io.haven.repository.snapshot.Snapshot;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The DR copies' own retention: what a plan's replication snapshots keep (docs/runbooks.md). */
class DrCopiesRetentionTest {
    private static int seq;

    private static SnapshotEntry point(Instant time, String host, String workload) {
        Snapshot s = new Snapshot(1, time.toString(), BlobId.of(new byte[32]).hex(), List.of("/srv/" + workload), host, "haven", 0, 0,
                List.of("haven-dr", "plan:p", "workload:" + workload), List.of(), null, "t", null);
        return new SnapshotEntry(BlobId.of(ByteBuffer.allocate(32).putInt(0, ++seq).array()), s);
    }

    /** A 15 s RPO for 40 days: 230,400 points per workload. */
    private static List<SnapshotEntry> fortyDays(String host, String workload, Instant end) {
        List<SnapshotEntry> out = new ArrayList<>();
        for (Instant t = end.minus(Duration.ofDays(40)); !t.isAfter(end); t = t.plusSeconds(15)) {
            out.add(point(t, host, workload));
        }
        return out;
    }

    @Test
    void aShortRpoKeepsTheNewestTenHourlyForTwoDaysAndDailyForAMonth() {
        Instant end = Instant.parse("2026-11-30T10:17:45Z");
        List<SnapshotEntry> all = fortyDays("hq-1", "db", end);
        Set<SnapshotEntry> gone = new HashSet<>(DrCopies.toForget(all, DrCopies.DEFAULT_RETENTION, Set.of()));
        List<SnapshotEntry> kept = all.stream().filter(e -> !gone.contains(e)).toList();
        // the 10 newest; the newest of 47 more hours (the newest hour's is among the 10); of 27 more days (those of
        // the 30th, 29th and 28th are among the hourly ones): 84 points out of 230,401, the oldest the newest of November 1
        assertThat(kept).hasSize(10 + 47 + 27);
        assertThat(kept.getLast().time()).isEqualTo(end);
        assertThat(kept.getFirst().time()).isEqualTo(Instant.parse("2026-11-01T23:59:45Z"));
        assertThat(kept.stream().filter(e -> e.time().isAfter(end.minus(Duration.ofHours(48))))).hasSize(10 + 47);
    }

    @Test
    void aPlansOwnRetentionReplacesTheDefault() {
        Instant end = Instant.parse("2026-11-30T10:17:45Z");
        List<SnapshotEntry> all = fortyDays("hq-1", "db", end);
        // retention: {last: 5, hourly: 0, daily: 7}
        Set<SnapshotEntry> gone = new HashSet<>(DrCopies.toForget(all,
                DrCopies.rules(new io.haven.runbook.CopyRetention(5, 0, 7, 0, 0)), Set.of()));
        List<SnapshotEntry> kept = all.stream().filter(e -> !gone.contains(e)).toList();
        // the 5 newest (the newest of November 30 among them) and the newest of each of the 6 days before
        assertThat(kept).hasSize(5 + 6);
        assertThat(kept.getFirst().time()).isEqualTo(Instant.parse("2026-11-24T23:59:45Z"));
        assertThat(DrCopies.rules(io.haven.runbook.CopyRetention.DEFAULT)).isEqualTo(DrCopies.DEFAULT_RETENTION);
    }

    @Test
    void eachWorkloadAndSiteKeepsItsOwnPointsAndPointsInUseAreNeverForgotten() {
        Instant t0 = Instant.parse("2026-11-30T10:00:00Z");
        List<SnapshotEntry> all = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            all.add(point(t0.plusSeconds(15L * i), "hq-1", "db"));
            all.add(point(t0.plusSeconds(15L * i), "hq-1", "app"));
            all.add(point(t0.plusSeconds(15L * i), "dr-1", "db")); // after a failover, replicated from the other site
        }
        SnapshotEntry held = all.get(0); // the oldest, held by a copy
        Set<SnapshotEntry> gone = new HashSet<>(DrCopies.toForget(all, DrCopies.DEFAULT_RETENTION, Set.of(held.id().hex())));
        assertThat(gone).hasSize(3 * 20 - 1).doesNotContain(held);
        assertThat(all.stream().filter(e -> !gone.contains(e)).filter(e -> e.snapshot().host().equals("dr-1"))).hasSize(10);
    }
}
