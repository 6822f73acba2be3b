package io.haven.repository.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository.SnapshotEntry;
import io.haven.repository.snapshot.Snapshot;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetentionTest {
    private static int seq;

    private static SnapshotEntry snap(String time, String host, String... tags) {
        Snapshot s = new Snapshot(1, time, BlobId.of(new byte[32]).hex(), List.of("/data"), host, "u", 0, 0, List.of(tags),
                List.of(), null, "t", null);
        return new SnapshotEntry(BlobId.of(ByteBuffer.allocate(32).putInt(0, ++seq).array()), s);
    }

    /** One snapshot every six hours for 40 days, newest on 2026-03-10. */
    private static List<SnapshotEntry> everySixHours() {
        List<SnapshotEntry> out = new ArrayList<>();
        Instant t = Instant.parse("2026-01-30T00:00:00Z");
        for (int i = 0; i < 160; i++) {
            out.add(snap(t.plusSeconds(6 * 3600L * i).toString(), "db1"));
        }
        return out;
    }

    private static List<Retention.Group> apply(List<SnapshotEntry> s, RetentionPolicy p) {
        return Retention.apply(s, p, EnumSet.of(Retention.GroupBy.HOST, Retention.GroupBy.PATHS), ZoneOffset.UTC);
    }

    @Test
    void keepLastKeepsTheNewestN() {
        List<Retention.Group> g = apply(everySixHours(), new RetentionPolicy(3, 0, 0, 0, 0, 0, null, null));
        assertThat(g).singleElement().satisfies(x -> {
            assertThat(x.keep()).hasSize(3);
            assertThat(x.keep().get(0).snapshot().time()).isEqualTo(Instant.parse("2026-03-10T18:00:00Z"));
            assertThat(x.remove()).hasSize(157);
        });
    }

    @Test
    void dailyKeepsTheNewestOfEachOfTheLastNDaysThatHaveSnapshots() {
        Retention.Group g = apply(everySixHours(), new RetentionPolicy(0, 0, 7, 0, 0, 0, null, null)).get(0);
        assertThat(g.keep()).extracting(k -> k.snapshot().time().toString()).containsExactly(
                "2026-03-10T18:00:00Z", "2026-03-09T18:00:00Z", "2026-03-08T18:00:00Z", "2026-03-07T18:00:00Z",
                "2026-03-06T18:00:00Z", "2026-03-05T18:00:00Z", "2026-03-04T18:00:00Z");
        assertThat(g.keep().get(0).reasons()).containsExactly("daily (2026-03-10)");
    }

    @Test
    void rulesCombineAndEveryReasonIsRecorded() {
        Retention.Group g = apply(everySixHours(), new RetentionPolicy(1, 0, 2, 2, 2, 0, null, null)).get(0);
        assertThat(g.keep().get(0).reasons()).containsExactly("last 1", "daily (2026-03-10)", "weekly (2026-W11)", "monthly (2026-03)");
        // monthly: newest of February is the 28th at 18:00
        assertThat(g.keep()).anySatisfy(k -> {
            assertThat(k.snapshot().time()).isEqualTo(Instant.parse("2026-02-28T18:00:00Z"));
            assertThat(k.reasons()).contains("monthly (2026-02)");
        });
    }

    @Test
    void withinAndTagsKeepRegardlessOfCounts() {
        List<SnapshotEntry> s = new ArrayList<>(everySixHours());
        s.add(snap("2025-06-01T00:00:00Z", "db1", "release"));
        Retention.Group g = apply(s, new RetentionPolicy(0, 0, 0, 0, 0, 0, RetentionPolicy.Within.parse("2d"), List.of("release"))).get(0);
        assertThat(g.keep()).hasSize(9 + 1);
        assertThat(g.keep().get(g.keep().size() - 1).reasons()).containsExactly("tagged release");
    }

    @Test
    void aKeepTagWithACommaKeepsSnapshotsWithBothTagsOrThatOldLiteralTag() {
        List<SnapshotEntry> s = List.of(snap("2025-01-01T00:00:00Z", "db1", "prod", "keep"), // backup --tag prod,keep
                snap("2025-01-02T00:00:00Z", "db1", "prod"), snap("2025-01-03T00:00:00Z", "db1", "prod,keep"), // stored before tags were split
                snap("2025-01-04T00:00:00Z", "db1"));
        Retention.Group g = apply(s, new RetentionPolicy(1, 0, 0, 0, 0, 0, null, List.of("prod,keep"))).get(0);
        assertThat(g.keep()).extracting(k -> k.snapshot().snapshot().time())
                .containsExactlyInAnyOrder("2025-01-01T00:00:00Z", "2025-01-03T00:00:00Z", "2025-01-04T00:00:00Z");
        assertThat(g.remove()).extracting(e -> e.snapshot().time()).containsExactly("2025-01-02T00:00:00Z");
    }

    @Test
    void groupsAreSeparateByHost() {
        List<SnapshotEntry> s = List.of(snap("2026-01-01T00:00:00Z", "a"), snap("2026-01-02T00:00:00Z", "a"),
                snap("2026-01-01T00:00:00Z", "b"));
        List<Retention.Group> g = apply(s, new RetentionPolicy(1, 0, 0, 0, 0, 0, null, null));
        assertThat(g).hasSize(2);
        assertThat(g).allSatisfy(x -> assertThat(x.keep()).hasSize(1));
    }

    @Test
    void durationsParseAndBadOnesAreRefused() {
        assertThat(RetentionPolicy.Within.parse("1y6m2w3d4h").period()).isEqualTo(java.time.Period.of(1, 6, 17));
        assertThatThrownBy(() -> RetentionPolicy.Within.parse("7x")).isInstanceOf(HavenException.class).hasMessageContaining("7x");
        assertThatThrownBy(() -> RetentionPolicy.Within.parse("d7")).isInstanceOf(HavenException.class);
        assertThatThrownBy(() -> new RetentionPolicy(-1, 0, 0, 0, 0, 0, null, null)).isInstanceOf(HavenException.class);
        assertThat(new RetentionPolicy(0, 0, 0, 0, 0, 0, null, null).isEmpty()).isTrue();
    }
}
