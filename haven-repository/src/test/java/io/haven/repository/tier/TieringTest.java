package io.haven.repository.tier;

import static io.haven.repository.maintenance.RepoFixture.backup;
import static io.haven.repository.maintenance.RepoFixture.contents;
import static io.haven.repository.maintenance.RepoFixture.restore;
import static io.haven.repository.maintenance.RepoFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.FaultyBackend;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.check.Checker;
import io.haven.repository.maintenance.Pruner;
import io.haven.repository.maintenance.RepoFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cold tier on local disk: apply, cold reads, thaw, refreeze, check and prune. */
class TieringTest {
    @TempDir
    Path tmp;

    private RepoFixture fixture;
    private Path src;
    private Path archiveDir;
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
    private final InstantSource clock = () -> now.get();
    private Map<String, String> oldContents;
    private Map<String, String> newContents;

    private static final TierPolicy POLICY = new TierPolicy(1, "2026-01-01T00:00:00Z", "archive", "90d", Map.of(),
            Map.of("keep-warm", "5y"), 7, null);

    @BeforeEach
    void twoSnapshotsOneOld() throws IOException {
        fixture = new RepoFixture(tmp.resolve("repo"));
        archiveDir = tmp.resolve("archive");
        src = Files.createDirectories(tmp.resolve("src"));
        // packs are the unit that moves: the old snapshot's data (one pack) shares nothing with the new one's
        write(src.resolve("changes"), 400_000, 2);
        try (Repository repo = fixture.open()) {
            backup(repo, src, now.get().minus(Duration.ofDays(200)));
        }
        oldContents = contents(src);
        write(src.resolve("changes"), 400_000, 3);
        write(src.resolve("added"), 100_000, 4);
        try (Repository repo = fixture.open()) {
            backup(repo, src, now.get().minus(Duration.ofDays(10)));
        }
        newContents = contents(src);
    }

    private Repository openTiered(ColdTier tier) {
        Repository plain = Repository.open(new LocalBackend(fixture.repoDir), RepoFixture.PASSWORD, clock, new SecureRandom());
        return plain.withBackend(new TieredBackend(plain.backend(), tier));
    }

    private ArchiveBackendTier archive() {
        return new ArchiveBackendTier(new LocalBackend(archiveDir), Duration.ofDays(7));
    }

    private Repository.SnapshotEntry oldest(Repository repo) {
        return repo.snapshots().get(0);
    }

    @Test
    void onlyPacksThatOnlyOldSnapshotsUseGoColdAndTheNewSnapshotStillRestoresWithoutAThaw() {
        try (Repository repo = openTiered(archive())) {
            Tiering.ApplyResult dry = new Tiering(repo, POLICY, m -> { }).apply(true);
            assertThat(dry.snapshotsOld()).isEqualTo(1);
            assertThat(dry.snapshotsWarm()).isEqualTo(1);
            assertThat(dry.packsMoved()).isPositive();
            assertThat(new LocalBackend(archiveDir).list("data")).isEmpty();

            Tiering.ApplyResult r = new Tiering(repo, POLICY, m -> { }).apply(false);
            assertThat(r.packsMoved()).isEqualTo(dry.packsMoved());
            List<String> cold = new LocalBackend(archiveDir).list("data");
            assertThat(cold).hasSize((int) r.packsMoved());
            Backend warm = new LocalBackend(fixture.repoDir);
            for (String name : cold) {
                assertThat(warm.stat(name)).isEmpty();
            }
            // trees, index and snapshots stay warm: listing and planning need no thaw
            assertThat(new LocalBackend(archiveDir).list("tree")).isEmpty();
            assertThat(repo.snapshots()).hasSize(2);

            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(newContents);

            Checker.Result check = new Checker(repo, true, 2).run();
            assertThat(check.errors()).isEmpty();
            assertThat(check.warnings()).anyMatch(w -> w.contains("cold tier") && w.contains("not read"));

            // a second apply has nothing left to move
            assertThat(new Tiering(repo, POLICY, m -> { }).apply(false).packsMoved()).isZero();
        }
    }

    @Test
    void anOldSnapshotNeedsAThawThenRestoresByteForByteAndGoesColdAgainWhenTheThawEnds() {
        try (Repository repo = openTiered(archive())) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
            Repository.SnapshotEntry old = oldest(repo);
            assertThatThrownBy(() -> restore(repo, old, tmp, src))
                    .isInstanceOfSatisfying(HavenException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.COLD);
                        assertThat(e.getMessage()).contains("cold tier", "haven thaw");
                    });

            Tiering tiering = new Tiering(repo, POLICY, m -> { });
            Tiering.ThawPlan look = tiering.thaw(old, null, false);
            assertThat(look.packsCold()).isPositive();
            assertThat(look.pending()).hasSize((int) look.packsCold());
            Tiering.ThawPlan plan = tiering.thaw(old, null, true);
            assertThat(plan.done()).isTrue();
            assertThat(plan.packsRequested()).isEqualTo(look.packsCold());
            // asking again thaws nothing more
            assertThat(tiering.thaw(old, null, true).packsRequested()).isZero();

            assertThat(restore(repo, old, tmp, src)).isEqualTo(oldContents);

            now.set(now.get().plus(Duration.ofDays(8)));
            Tiering.ApplyResult later = new Tiering(repo, POLICY, m -> { }).apply(false);
            assertThat(later.thawedCopiesRemoved()).isEqualTo(plan.packsCold());
            assertThat(tiering.thaw(old, null, false).pending()).hasSize((int) plan.packsCold());
        }
    }

    @Test
    void aTagWithALongerAgeKeepsItsSnapshotsDataWarm() throws IOException {
        Files.writeString(src.resolve("tagged-only"), "x".repeat(50_000));
        try (Repository repo = fixture.open()) {
            backup(repo, src, now.get().minus(Duration.ofDays(300)), "keep-warm");
        }
        try (Repository repo = openTiered(archive())) {
            Tiering.ApplyResult r = new Tiering(repo, POLICY, m -> { }).apply(false);
            assertThat(r.snapshotsOld()).isEqualTo(1);
            assertThat(r.snapshotsWarm()).isEqualTo(2);
            Repository.SnapshotEntry tagged = repo.snapshots().get(0);
            assertThat(tagged.snapshot().tags()).containsExactly("keep-warm");
            assertThat(new Tiering(repo, POLICY, m -> { }).thaw(tagged, null, false).packsCold()).isZero();
        }
    }

    @Test
    void pruneDeletesWholeColdPacksNoSnapshotNeedsWithoutReadingThem() {
        try (Repository repo = openTiered(archive())) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
            List<String> cold = new LocalBackend(archiveDir).list("data");
            assertThat(cold).isNotEmpty();
            repo.backend().delete("snapshots/" + oldest(repo).id().hex());
        }
        try (Repository repo = openTiered(archive())) {
            Pruner.Result r = new Pruner(repo, new Pruner.Options(0.2, false, Duration.ZERO, 2, "h"), m -> { }).run();
            assertThat(r.packsDeleted()).isGreaterThanOrEqualTo(1);
            assertThat(new LocalBackend(archiveDir).list("data")).isEmpty();
            assertThat(new Checker(repo, true, 2).run().errors()).isEmpty();
            assertThat(restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(newContents);
        }
    }

    @Test
    void aFailedCopyToTheArchiveKeepsTheWarmPackAndTheRepositoryWhole() {
        FaultyBackend failing = new FaultyBackend(new LocalBackend(archiveDir))
                .plan(FaultyBackend.Op.WRITE, FaultyBackend.permanent(ErrorCode.IO));
        try (Repository repo = openTiered(new ArchiveBackendTier(failing, Duration.ofDays(7)))) {
            assertThatThrownBy(() -> new Tiering(repo, POLICY, m -> { }).apply(false))
                    .isInstanceOf(HavenException.class);
            assertThat(new Checker(repo, true, 2).run().errors()).isEmpty();
            assertThat(restore(repo, oldest(repo), tmp, src)).isEqualTo(oldContents);
        }
    }

    @Test
    void aRestoreThawsOnlyWhatItsPathIncludesAndExcludesRead() throws IOException {
        try (Repository repo = openTiered(archive())) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
            Repository.SnapshotEntry old = oldest(repo);
            Tiering tiering = new Tiering(repo, POLICY, m -> { });
            var all = new io.haven.repository.restorer.Restorer(repo, new io.haven.repository.restorer.RestoreOptions(
                    tmp.resolve("t1"), null, List.of(), List.of(), false, false, 2)).dataNeeded(old);
            assertThat(tiering.thaw(all, false).packsCold()).isPositive();
            var none = new io.haven.repository.restorer.Restorer(repo, new io.haven.repository.restorer.RestoreOptions(
                    tmp.resolve("t2"), null, List.of(), List.of("changes"), false, false, 2)).dataNeeded(old);
            Tiering.ThawPlan plan = tiering.thaw(none, true);
            assertThat(plan.packsCold()).isZero();
            assertThat(plan.packsRequested()).isZero();
            assertThat(new LocalBackend(fixture.repoDir).list("data")).hasSize(1);   // only the new snapshot's pack is warm
        }
    }

    @Test
    void aNewBackupOfDataThatWentColdStoresItAgainSoTheNewestSnapshotNeverNeedsAThaw() throws IOException {
        try (Repository repo = openTiered(archive())) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
        }
        write(src.resolve("changes"), 400_000, 2);   // the old content is back
        try (Repository repo = openTiered(archive())) {
            backup(repo, src, now.get());
            Repository.SnapshotEntry newest = repo.resolve("latest");
            assertThat(new Tiering(repo, POLICY, m -> { }).thaw(newest, null, false).packsCold()).isZero();
            assertThat(restore(repo, newest, tmp, src)).isEqualTo(contents(src));
        }
    }

    @Test
    void repairIndexKeepsColdPacksItCannotReadWithoutAThaw() {
        try (Repository repo = openTiered(archive())) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
            var r = new io.haven.repository.maintenance.Repairer(repo, "h", 2, m -> { }).rebuildIndex();
            assertThat(r).isNotNull();
            repo.reloadIndex();
            assertThat(new Checker(repo, false, 2).run().errors()).isEmpty();
            Tiering t = new Tiering(repo, POLICY, m -> { });
            assertThat(t.thaw(oldest(repo), null, true).done()).isTrue();
            assertThat(restore(repo, oldest(repo), tmp, src)).isEqualTo(oldContents);
        }
    }

    @Test
    void anArchiveMustCarryTheMarkerOfItsRepository() {
        String id;
        try (Repository repo = fixture.open()) {
            id = repo.config().id();
        }
        ArchiveBackendTier unclaimed = new ArchiveBackendTier(new LocalBackend(archiveDir), Duration.ofDays(7), id);
        assertThatThrownBy(() -> unclaimed.list("data")).hasMessageContaining("mounted");
        unclaimed.claim();
        assertThat(unclaimed.list("data")).isEmpty();
        ArchiveBackendTier other = new ArchiveBackendTier(new LocalBackend(archiveDir), Duration.ofDays(7), "ab".repeat(16));
        assertThatThrownBy(other::claim).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
            assertThat(e.getMessage()).contains("belongs to another repository");
        });
    }

    private static final TierPolicy LONGER = new TierPolicy(1, "2026-02-01T00:00:00Z", "archive", "1y", Map.of(),
            Map.of(), 7, null);

    @Test
    void aPolicyThatCountsColdSnapshotsAsNewBringsTheirPacksBackForGood() {
        try (Repository repo = openTiered(archive())) {
            Tiering.ApplyResult frozen = new Tiering(repo, POLICY, m -> { }).apply(false);
            assertThat(frozen.packsMoved()).isPositive();
            Repository.SnapshotEntry old = oldest(repo);

            // the snapshot is 200 days old: under a one-year policy it is new, so its data belongs warm
            Tiering.ApplyResult dry = new Tiering(repo, LONGER, m -> { }).apply(true);
            assertThat(dry.packsReturned()).isEqualTo(frozen.packsMoved());
            assertThat(new LocalBackend(archiveDir).list("data")).hasSize((int) frozen.packsMoved());

            Tiering.ApplyResult back = new Tiering(repo, LONGER, m -> { }).apply(false);
            assertThat(back.snapshotsOld()).isZero();
            assertThat(back.packsReturned()).isEqualTo(frozen.packsMoved());
            assertThat(back.bytesReturned()).isEqualTo(frozen.bytesMoved());
            assertThat(back.packsReturning()).isZero();
            assertThat(new LocalBackend(archiveDir).list("data")).isEmpty();
            assertThat(((TieredBackend) repo.backend()).coldNames()).isEmpty();
            assertThat(restore(repo, old, tmp, src)).isEqualTo(oldContents);

            // weeks later, nothing goes cold again and no copy is removed: they are not thawed copies
            now.set(now.get().plus(Duration.ofDays(30)));
            Tiering.ApplyResult later = new Tiering(repo, LONGER, m -> { }).apply(false);
            assertThat(later.thawedCopiesRemoved()).isZero();
            assertThat(later.packsMoved()).isZero();
            assertThat(restore(repo, old, tmp, src)).isEqualTo(oldContents);
            assertThat(new Checker(repo, true, 2).run().errors()).isEmpty();
        }
    }

    @Test
    void coldPacksThatMustThawFirstAreAskedForAndBroughtBackByTheNextApply() {
        SlowArchive slow = new SlowArchive(archive());
        try (Repository repo = openTiered(slow)) {
            long moved = new Tiering(repo, POLICY, m -> { }).apply(false).packsMoved();
            Tiering.ApplyResult first = new Tiering(repo, LONGER, m -> { }).apply(false);
            assertThat(first.packsReturned()).isZero();
            assertThat(first.packsReturning()).isEqualTo(moved);
            assertThat(slow.requests).isEqualTo((int) moved);
            // a second apply before the archive answers asks for nothing more
            assertThat(new Tiering(repo, LONGER, m -> { }).apply(false).packsReturning()).isEqualTo(moved);
            assertThat(slow.requests).isEqualTo((int) moved);

            slow.finish(((TieredBackend) repo.backend()).warm());
            // the thawed copies are past their days, yet stay: newer snapshots use them
            now.set(now.get().plus(Duration.ofDays(8)));
            Tiering.ApplyResult done = new Tiering(repo, LONGER, m -> { }).apply(false);
            assertThat(done.packsReturned()).isEqualTo(moved);
            assertThat(done.thawedCopiesRemoved()).isZero();
            assertThat(new LocalBackend(archiveDir).list("data")).isEmpty();
            assertThat(restore(repo, oldest(repo), tmp, src)).isEqualTo(oldContents);
        }
    }

    @Test
    void withTheArchiveUnmountedTheWarmSnapshotStillRestoresAndTheColdOneSaysWhy() throws IOException {
        String id;
        try (Repository repo = fixture.open()) {
            id = repo.config().id();
        }
        ArchiveBackendTier marked = new ArchiveBackendTier(new LocalBackend(archiveDir), Duration.ofDays(7), id);
        marked.claim();
        try (Repository repo = openTiered(marked)) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
        }
        Files.move(archiveDir, tmp.resolve("archive-offline"));
        Files.createDirectories(archiveDir); // the empty mount point
        ArchiveBackendTier unmounted = new ArchiveBackendTier(new LocalBackend(archiveDir), Duration.ofDays(7), id);
        try (Repository repo = openTiered(unmounted)) {
            Tiering tiering = new Tiering(repo, POLICY, m -> { });
            Repository.SnapshotEntry latest = repo.resolve("latest");
            Tiering.ThawPlan warm = tiering.thaw(latest, null, true);
            assertThat(warm.packsCold()).isZero();
            assertThat(warm.done()).isTrue();
            assertThat(restore(repo, latest, tmp, src)).isEqualTo(newContents);

            assertThatThrownBy(() -> tiering.thaw(oldest(repo), null, true))
                    .hasMessageContaining("not in warm storage, and the cold tier cannot be reached")
                    .hasMessageContaining("mounted");
        }
    }

    /** An archive that thaws only when told to, or fails to: S3 Glacier's behaviour, on local disk. */
    static final class SlowArchive implements ColdTier {
        final ArchiveBackendTier inner;
        final Set<String> asked = new java.util.HashSet<>();
        boolean answering = true;
        boolean failRequests;
        int requests;

        SlowArchive(ArchiveBackendTier inner) {
            this.inner = inner;
        }

        void finish(Backend warm) {
            for (String n : asked) {
                inner.requestThaw(n, warm);
            }
        }

        @Override public String describe() { return "slow " + inner.describe(); }
        @Override public Set<String> list(String d) { return inner.list(d); }
        @Override public Optional<Backend.ObjectInfo> info(String n) { return inner.info(n); }
        @Override public void freeze(String n, Backend w) { inner.freeze(n, w); }
        @Override public Status status(String n, Backend w) {
            Status s = inner.status(n, w);
            return s.state() == State.COLD && asked.contains(n) ? new Status(State.THAWING, null) : s;
        }
        @Override public void requestThaw(String n, Backend w) {
            if (failRequests) {
                throw new HavenException(ErrorCode.IO, "the archive refused the restore request for " + n);
            }
            asked.add(n);
            requests++;
        }
        @Override public boolean refreeze(String n, Backend w, Instant t) { return inner.refreeze(n, w, t); }
        @Override public boolean unfreeze(String n, Backend w) {
            return status(n, w).state() == State.READY && inner.unfreeze(n, w);
        }
        @Override public void delete(String n) { inner.delete(n); }
        @Override public Duration minimumStorage() { return Duration.ofDays(90); }
        @Override public Duration typicalThaw() { return Duration.ofHours(4); }
        @Override public void close() { inner.close(); }
    }

    @Test
    void aSlowThawIsAskedForOnceReportedAsPendingAndCompletesWhenTheArchiveAnswers() {
        SlowArchive slow = new SlowArchive(archive());
        try (Repository repo = openTiered(slow)) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
            Repository.SnapshotEntry old = oldest(repo);
            Tiering tiering = new Tiering(repo, POLICY, m -> { });
            Tiering.ThawPlan first = tiering.thaw(old, null, true);
            assertThat(first.done()).isFalse();
            assertThat(first.packsRequested()).isEqualTo(first.packsCold());
            assertThat(first.typicalWait()).isEqualTo(Duration.ofHours(4));
            Tiering.ThawPlan again = tiering.thaw(old, null, true);
            assertThat(again.packsRequested()).isZero();
            assertThat(again.packsThawing()).isEqualTo(first.packsCold());

            slow.finish(((TieredBackend) repo.backend()).warm());
            assertThat(tiering.thaw(old, null, true).done()).isTrue();
            assertThat(restore(repo, old, tmp, src)).isEqualTo(oldContents);
        }
    }

    @Test
    void waitingForAnArchiveThatNeverAnswersEndsAtTheTimeoutWithTheResumeCommand() {
        SlowArchive slow = new SlowArchive(archive());
        try (Repository repo = openTiered(slow)) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
            Repository.SnapshotEntry old = oldest(repo);
            Tiering tiering = new Tiering(repo, POLICY, m -> { });
            long[] now = {0};
            int[] polls = {0};
            ThawWaiter waiter = new ThawWaiter(Duration.ofHours(2), Duration.ofMinutes(1), () -> now[0],
                    d -> now[0] += d.toNanos());
            Tiering.ThawPlan first = tiering.thaw(old, null, true);
            assertThatThrownBy(() -> waiter.await(first, () -> tiering.thaw(old, null, true), p -> polls[0]++, "haven thaw X --wait"))
                    .isInstanceOfSatisfying(HavenException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.COLD);
                        assertThat(e.getMessage()).contains("still not readable after 2 hour(s)", "haven thaw X --wait");
                    });
            assertThat(polls[0]).isEqualTo(120);
            assertThat(slow.requests).isEqualTo((int) first.packsCold());   // asked once per pack, not once per poll

            // and when it answers during the wait, the wait ends with everything readable
            now[0] = 0;
            ThawWaiter answering = new ThawWaiter(Duration.ofHours(2), Duration.ofMinutes(1), () -> now[0], d -> {
                now[0] += d.toNanos();
                if (now[0] >= Duration.ofMinutes(30).toNanos()) {
                    slow.finish(((TieredBackend) repo.backend()).warm());
                }
            });
            Tiering.ThawPlan done = answering.await(tiering.thaw(old, null, true), () -> tiering.thaw(old, null, true), p -> { }, "x");
            assertThat(done.done()).isTrue();
            assertThat(now[0]).isEqualTo(Duration.ofMinutes(30).toNanos());
        }
    }

    @Test
    void aRefusedThawRequestIsReportedAndLosesNothing() {
        SlowArchive slow = new SlowArchive(archive());
        try (Repository repo = openTiered(slow)) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
            slow.failRequests = true;
            assertThatThrownBy(() -> new Tiering(repo, POLICY, m -> { }).thaw(oldest(repo), null, true))
                    .hasMessageContaining("refused the restore request");
            slow.failRequests = false;
            assertThat(new Tiering(repo, POLICY, m -> { }).thaw(oldest(repo), null, true).packsRequested()).isPositive();
            slow.finish(((TieredBackend) repo.backend()).warm());
            assertThat(restore(repo, oldest(repo), tmp, src)).isEqualTo(oldContents);
        }
    }

    @Test
    void pruneLeavesColdPacksAloneWithinTheClassMinimumStorage() {
        SlowArchive slow = new SlowArchive(archive());
        try (Repository repo = openTiered(slow)) {
            new Tiering(repo, POLICY, m -> { }).apply(false);
            repo.backend().delete("snapshots/" + oldest(repo).id().hex());
        }
        try (Repository repo = openTiered(slow)) {
            int cold = new LocalBackend(archiveDir).list("data").size();
            Pruner.Result r = new Pruner(repo, new Pruner.Options(0.2, false, Duration.ZERO, 2, "h"), m -> { }).run();
            assertThat(r.coldPacksKept()).isEqualTo(cold);
            assertThat(new LocalBackend(archiveDir).list("data")).hasSize(cold);
            assertThat(new Checker(repo, false, 2).run().errors()).isEmpty();
        }
    }
}
