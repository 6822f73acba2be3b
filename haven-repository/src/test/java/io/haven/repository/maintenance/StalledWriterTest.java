package io.haven.repository.maintenance;

import static io.haven.repository.maintenance.RepoFixture.backup;
import static io.haven.repository.maintenance.RepoFixture.check;
import static io.haven.repository.maintenance.RepoFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.Repository;
import io.haven.repository.RepositoryWriter;
import io.haven.repository.WriterRegistration;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.ForwardingBackend;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.snapshot.Snapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer whose own writes hang (an unreachable store, a suspended relay, a suspended process):
 * the time a write is in flight counts against its registration, measured from the start of the
 * last marker write that succeeded. The writer's clock is a fake one that the backend advances
 * while a write "hangs"; the heartbeat thread does not run (stale-after is 5 minutes).
 */
class StalledWriterTest {
    private static final Duration STALE_AFTER = Duration.ofMinutes(5);
    private static final long HANG = Duration.ofMinutes(5).toNanos();   // longer than 80 % of stale-after

    @TempDir
    Path tmp;
    Path src;
    RepoFixture fx;
    final AtomicLong clock = new AtomicLong(1_000_000_000L);

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        fx = new RepoFixture(Files.createDirectories(tmp.resolve("repo")));
    }

    /**
     * A backend that runs {@code hook} inside the {@code nth} write whose name starts with
     * {@code prefix}, before the write reaches the store (the hook may block, advance the clock,
     * or let a prune run while the write is in flight).
     */
    private static final class HangingBackend extends ForwardingBackend {
        private final String prefix;
        private final int nth;
        private final Consumer<String> hook;
        private final AtomicInteger seen = new AtomicInteger();

        HangingBackend(Backend inner, String prefix, int nth, Consumer<String> hook) {
            super(inner);
            this.prefix = prefix;
            this.nth = nth;
            this.hook = hook;
        }

        @Override
        public void write(String name, byte[] data, int length) {
            if (name.startsWith(prefix) && seen.incrementAndGet() == nth) {
                hook.accept(name);
            }
            super.write(name, data, length);
        }
    }

    private Repository open(Backend backend) {
        Repository repo = RepoFixture.open(backend);
        repo.staleAfter(STALE_AFTER);
        repo.monotonicNanos(clock::get);
        return repo;
    }

    private static Snapshot someSnapshot() {
        return new Snapshot(1, "2026-01-01T00:00:00Z", BlobId.of(new byte[32]).hex(), List.of("/x"), "h", "u", 0, 0, List.of(),
                List.of(), null, "t", null);
    }

    private static void assertRefused(Throwable e) {
        assertThat(e).isInstanceOf(HavenException.class);
        assertThat(e.getMessage()).contains("could not announce itself").contains("not saved");
    }

    @Test
    void aHeartbeatThatHangsLongerThanTheLimitCountsAlsoAfterItSucceeds() throws Exception {
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Backend hanging = new HangingBackend(new LocalBackend(fx.repoDir), "writers/", 2, name -> {
            inFlight.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (Repository repo = open(hanging)) {
            WriterRegistration reg = repo.register("backup", "frozen-host");
            reg.checkNotStalled();
            Thread heartbeat = Thread.ofPlatform().start(reg::refresh);
            assertThat(inFlight.await(30, TimeUnit.SECONDS)).isTrue();
            clock.addAndGet(HANG);
            // while the PUT hangs, the marker on the store is the old one
            assertThatThrownBy(reg::checkNotStalled).satisfies(StalledWriterTest::assertRefused);
            release.countDown();
            heartbeat.join(30_000);
            // the PUT succeeded in the end, but a prune may have taken the writer for dead meanwhile
            assertThatThrownBy(reg::checkNotStalled).satisfies(StalledWriterTest::assertRefused);
            // and later heartbeats that go well do not make it trustworthy again
            reg.refresh();
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            reg.refresh();
            assertThatThrownBy(reg::checkNotStalled).satisfies(StalledWriterTest::assertRefused);
        }
    }

    @Test
    void aWriteThatTakesMoreThanTheLimitCountsFromItsStart() {
        try (Repository repo = open(new LocalBackend(fx.repoDir))) {
            WriterRegistration reg = repo.register("backup", "h");
            // 70 % of stale-after since the last marker write began: still within the limit
            clock.addAndGet(STALE_AFTER.toNanos() * 7 / 10);
            reg.checkNotStalled();
            clock.addAndGet(STALE_AFTER.toNanos() * 2 / 10);
            assertThatThrownBy(reg::checkNotStalled).satisfies(StalledWriterTest::assertRefused);
        }
    }

    /**
     * The audit's reproduction, deterministic: a backup loads the index and announces (in its
     * marker) the condemned sets it knows; that marker write hangs; meanwhile a prune takes the
     * backup for dead (its marker on the store is old) and deletes the packs of a forgotten
     * snapshot, which the backup then reuses. The marker write succeeds in the end; the backup
     * must not save a snapshot whose data is gone.
     */
    @Test
    void aBackupWhoseMarkerWriteHungWhileAPruneDeletedWhatItReusesRefusesToSave() throws Exception {
        write(src.resolve("a"), 400_000, 1);
        write(src.resolve("b"), 300_000, 2);
        Archiver.Result old = backup(fx.repoDir, src, Instant.parse("2026-01-01T00:00:00Z"));
        AtomicReference<Pruner.Result> pruned = new AtomicReference<>();
        Backend hanging = new HangingBackend(new LocalBackend(fx.repoDir), "writers/", 2, name -> {
            clock.addAndGet(HANG);
            try {
                // the store's clock moved on as well: the marker there is ten minutes old
                Files.setLastModifiedTime(fx.repoDir.resolve(name),
                        FileTime.from(Instant.now().minus(Duration.ofMinutes(10))));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            try (Repository other = fx.open()) {
                other.backend().delete("snapshots/" + old.snapshotId().hex());
                pruned.set(new Pruner(other, new Pruner.Options(0.2, false, Duration.ZERO, 2, "pruner"), m -> {}).run());
            }
        });
        try (Repository repo = open(hanging)) {
            assertThatThrownBy(() -> backup(repo, src, Instant.parse("2026-01-02T00:00:00Z")))
                    .satisfies(StalledWriterTest::assertRefused);
        }
        assertThat(pruned.get()).as("the prune ran while the marker write hung").isNotNull();
        assertThat(pruned.get().packsDeleted()).isGreaterThanOrEqualTo(1);
        try (Repository repo = fx.open()) {
            assertThat(repo.backend().list("snapshots")).isEmpty();
            assertThat(check(repo).errors()).isEmpty();
        }
    }

    @Test
    void aSnapshotWriteThatReturnsAfterTheLimitIsRemovedAndRefused() {
        Backend hanging = new HangingBackend(new LocalBackend(fx.repoDir), "snapshots/", 1, name -> clock.addAndGet(HANG));
        try (Repository repo = open(hanging)) {
            repo.register("backup", "h");
            assertThatThrownBy(() -> repo.saveSnapshot(someSnapshot())).satisfies(StalledWriterTest::assertRefused);
            assertThat(repo.backend().list("snapshots")).isEmpty();
        }
    }

    @Test
    void anIndexWriteThatReturnsAfterTheLimitIsRemovedAndRefused() {
        Backend hanging = new HangingBackend(new LocalBackend(fx.repoDir), "index/", 1, name -> clock.addAndGet(HANG));
        try (Repository repo = open(hanging)) {
            List<String> before = repo.backend().list("index");
            RepositoryWriter w = repo.newWriter();
            byte[] payload = new byte[1000];
            new java.util.Random(5).nextBytes(payload);
            w.save(BlobType.DATA, repo.key().blobId(payload, 0, payload.length), payload, 0, payload.length);
            assertThatThrownBy(w::flush).satisfies(StalledWriterTest::assertRefused);
            w.close();
            // no index file names a pack that a prune may have removed as unindexed meanwhile
            assertThat(repo.backend().list("index")).isEqualTo(before);
        }
    }
}
