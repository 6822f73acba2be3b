package io.haven.repository.tier;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.Repository;
import io.haven.repository.index.Index;
import io.haven.repository.maintenance.Reachable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.Consumer;

/**
 * Moves data packs to the cold tier by the policy ({@code haven tier apply}) and thaws what a
 * snapshot needs ({@code haven thaw}, and restore). Works on a repository opened over a
 * {@link TieredBackend}.
 */
public final class Tiering {
    private final Repository repo;
    private final TieredBackend tiered;
    private final TierPolicy policy;
    private final Consumer<String> progress;

    public Tiering(Repository repo, TierPolicy policy, Consumer<String> progress) {
        if (!(repo.backend() instanceof TieredBackend t)) {
            throw new HavenException(ErrorCode.INTERNAL, "tiering needs the repository opened over its cold tier");
        }
        this.repo = repo;
        this.tiered = t;
        this.policy = policy;
        this.progress = progress;
    }

    /** What {@link #apply} did (or, dry, would do). */
    /**
     * @param packsReturned cold packs that newer snapshots use (the policy changed), made warm
     *     again (dry: that would be)
     * @param packsReturning such packs that wait for their thaw before they can be made warm
     *     (a thaw was asked for; the next apply finishes them)
     */
    public record ApplyResult(int snapshotsOld, int snapshotsWarm, long packsMoved, long bytesMoved, long packsCold,
            long bytesCold, long thawedCopiesRemoved, long packsReturned, long bytesReturned, long packsReturning,
            boolean dryRun) {}

    /**
     * Makes the tiers match the policy now, both ways: moves to the cold tier every data pack
     * that only old snapshots use, brings back for good the cold packs that a snapshot that is not
     * old uses (after a policy change; a tier that must thaw first is asked to, and the next
     * apply finishes), and removes thawed copies whose time is up, except those newer snapshots
     * use. Packs no snapshot uses are left to prune.
     */
    public ApplyResult apply(boolean dryRun) {
        Instant now = repo.clock().instant();
        repo.reloadIndex();
        Index index = repo.index();
        BitSet young = new BitSet(index.entryCount());
        BitSet old = new BitSet(index.entryCount());
        int nOld = 0;
        int nYoung = 0;
        List<Repository.SnapshotEntry> snaps = repo.snapshots();
        if (!repo.unreadableSnapshots().isEmpty()) {
            throw new HavenException(ErrorCode.CORRUPT, "cannot apply the tier policy: " + repo.unreadableSnapshots().size()
                    + " snapshot(s) cannot be read, so what stays warm is unknown. Run 'haven check'.");
        }
        progress.accept("finding the data of " + snaps.size() + " snapshot(s)");
        for (Repository.SnapshotEntry s : snaps) {
            boolean isOld = policy.isOld(s.snapshot(), s.time(), now);
            String snap = s.id().shortHex();
            Reachable.mark(repo, index, isOld ? old : young, BlobId.parse(s.snapshot().tree()),
                    (what, id) -> new HavenException(ErrorCode.CORRUPT, "snapshot " + snap + " needs " + what + " "
                            + id.shortHex() + ", which is not in the repository; run 'haven check'"));
            if (isOld) {
                nOld++;
            } else {
                nYoung++;
            }
        }
        BitSet warmPacks = Reachable.packs(index, young);
        BitSet oldPacks = Reachable.packs(index, old);
        long[] bytes = packBytes(index);
        List<Integer> move = new ArrayList<>();
        long moveBytes = 0;
        long coldPacks = 0;
        long coldBytes = 0;
        for (int p = oldPacks.nextSetBit(0); p >= 0; p = oldPacks.nextSetBit(p + 1)) {
            if (index.packType(p) != BlobType.DATA || index.isCondemned(p) || warmPacks.get(p)) {
                continue;
            }
            if (tiered.isCold(index.packName(p))) {
                coldPacks++;
                coldBytes += bytes[p];
            } else {
                move.add(p);
                moveBytes += bytes[p];
            }
        }
        // cold packs that snapshots the policy counts as new use: warm again, for good
        java.util.Set<String> keepWarm = new java.util.HashSet<>();
        long returned = 0;
        long returnedBytes = 0;
        long returning = 0;
        for (int p = warmPacks.nextSetBit(0); p >= 0; p = warmPacks.nextSetBit(p + 1)) {
            String name = index.packName(p);
            if (index.packType(p) != BlobType.DATA || index.isCondemned(p) || !tiered.isCold(name)) {
                continue;
            }
            keepWarm.add(name);
            if (dryRun) {
                returned++;
                returnedBytes += bytes[p];
            } else if (tiered.unfreeze(name)) {
                returned++;
                returnedBytes += bytes[p];
            } else {
                if (tiered.cold().status(name, tiered.warm()).state() == ColdTier.State.COLD) {
                    tiered.cold().requestThaw(name, tiered.warm());
                }
                if (tiered.unfreeze(name)) { // a tier that thaws at once
                    returned++;
                    returnedBytes += bytes[p];
                } else {
                    returning++;
                }
            }
        }
        if (returned + returning > 0) {
            progress.accept((dryRun ? "would bring " : "brought ") + returned + " cold pack(s) that newer snapshots use back to"
                    + " warm storage" + (returning > 0 ? "; " + returning + " wait for their thaw (run 'haven tier apply'"
                    + " again when it is done)" : ""));
        }
        long refrozen = 0;
        if (!dryRun) {
            long done = 0;
            for (int p : move) {
                tiered.freeze(index.packName(p));
                done++;
                if (done % 20 == 0 || done == move.size()) {
                    progress.accept("moved " + done + " of " + move.size() + " pack(s) to " + tiered.cold().describe());
                }
            }
            for (String name : List.copyOf(tiered.coldNames())) {
                if (!keepWarm.contains(name) && tiered.cold().refreeze(name, tiered.warm(), now)) {
                    refrozen++;
                }
            }
        }
        return new ApplyResult(nOld, nYoung, move.size(), moveBytes, coldPacks + (dryRun ? 0 : move.size()),
                coldBytes + (dryRun ? 0 : moveBytes), refrozen, returned, returnedBytes, returning, dryRun);
    }

    private static long[] packBytes(Index index) {
        return index.bytesByPack();
    }

    /** The cold packs a snapshot needs and where their thaw stands. */
    public record ThawPlan(long packsNeeded, long packsCold, long bytesCold, long packsReady, long packsThawing,
            long packsRequested, Duration typicalWait, List<String> pending) {
        public boolean done() {
            return pending.isEmpty();
        }
    }

    /**
     * Finds the packs holding the data of {@code snapshot} (below {@code subtree}, or all of it when
     * null) that are cold, and asks for a thaw of each that is neither thawed nor thawing. Packs
     * that are warm, or thawed already, are not asked again.
     */
    public ThawPlan thaw(Repository.SnapshotEntry snapshot, BlobId subtree, boolean request) {
        Index index = repo.index();
        BitSet used = new BitSet(index.entryCount());
        BlobId root = subtree != null ? subtree : BlobId.parse(snapshot.snapshot().tree());
        Reachable.mark(repo, index, used, root, (what, id) -> new HavenException(ErrorCode.CORRUPT, "snapshot "
                + snapshot.id().shortHex() + " needs " + what + " " + id.shortHex() + ", which is not in the repository"));
        return thawPacks(Reachable.packs(index, used), request);
    }

    /**
     * Like {@link #thaw(Repository.SnapshotEntry, BlobId, boolean)} for exactly these data blobs
     * (what a restore with a path, includes or excludes will read).
     */
    public ThawPlan thaw(java.util.Collection<BlobId> blobs, boolean request) {
        Index index = repo.index();
        BitSet packs = new BitSet(index.packCount());
        for (BlobId id : blobs) {
            int e = index.find(id);
            if (e >= 0) {
                packs.set(index.entryPack(e));
            }
        }
        return thawPacks(packs, request);
    }

    private ThawPlan thawPacks(BitSet packs, boolean request) {
        Index index = repo.index();
        try {
            tiered.coldNames();
        } catch (HavenException e) {
            // the cold tier cannot be listed (an archive volume that is not mounted): a restore that
            // needs only warm packs goes on without it; one that needs another pack says why it cannot
            java.util.Set<String> warm = new java.util.HashSet<>(tiered.warm().list(TieredBackend.COLD_DIRECTORY));
            long missing = 0;
            for (int p = packs.nextSetBit(0); p >= 0; p = packs.nextSetBit(p + 1)) {
                if (index.packType(p) == BlobType.DATA && !warm.contains(index.packName(p))) {
                    missing++;
                }
            }
            if (missing > 0) {
                throw new HavenException(e.code(), missing + " pack(s) this needs are not in warm storage, and the cold tier"
                        + " cannot be reached: " + e.getMessage(), e);
            }
            return new ThawPlan(packs.cardinality(), 0, 0, 0, 0, 0, Duration.ZERO, List.of());
        }
        long[] bytes = packBytes(index);
        long cold = 0;
        long coldBytes = 0;
        long ready = 0;
        long thawing = 0;
        long requested = 0;
        List<String> pending = new ArrayList<>();
        for (int p = packs.nextSetBit(0); p >= 0; p = packs.nextSetBit(p + 1)) {
            String name = index.packName(p);
            if (!tiered.isCold(name)) {
                continue;
            }
            cold++;
            coldBytes += bytes[p];
            ColdTier.Status st = tiered.cold().status(name, tiered.warm());
            switch (st.state()) {
                case READY -> ready++;
                case THAWING -> {
                    thawing++;
                    pending.add(name);
                }
                case COLD -> {
                    if (request) {
                        tiered.cold().requestThaw(name, tiered.warm());
                        requested++;
                        if (tiered.cold().status(name, tiered.warm()).state() == ColdTier.State.READY) {
                            ready++;
                            continue;
                        }
                    }
                    pending.add(name);
                }
            }
        }
        return new ThawPlan(packs.cardinality(), cold, coldBytes, ready, thawing, requested, tiered.cold().typicalThaw(),
                List.copyOf(pending));
    }
}
