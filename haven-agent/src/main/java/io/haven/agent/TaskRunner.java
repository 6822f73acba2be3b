package io.haven.agent;

import io.haven.core.ErrorCode;
import io.haven.core.FileTrees;
import io.haven.core.HavenException;
import io.haven.protocol.Messages;
import io.haven.repository.Repository;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.archiver.BackupCounters;
import io.haven.repository.archiver.BackupOptions;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.RestBackend;
import io.haven.repository.backend.RetryPolicy;
import io.haven.repository.backend.RetryingBackend;
import io.haven.repository.restorer.RestoreCounters;
import io.haven.repository.restorer.RestoreOptions;
import io.haven.repository.restorer.Restorer;
import io.haven.repository.snapshot.Snapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Runs one task on this host with the repository engine, reading and writing the repository only
 * through the server's REST backend (append-only for agents). Reports counters through
 * {@link #counters()} while it runs.
 */
final class TaskRunner {
    /** Live counters of the running task. */
    record Counters(LongSupplier bytesDone, LongSupplier bytesTotal, LongSupplier filesDone, LongSupplier filesTotal) {
        static final Counters NONE = new Counters(() -> 0, () -> 0, () -> 0, () -> 0);
    }

    /** How a task ended. */
    record Outcome(String status, String message, Map<String, Object> result) {}

    /**
     * The repository is reached through the server, so a server restart (an upgrade, a crash) must
     * not fail the task: its requests are retried for one and a half to three minutes (16
     * attempts, waits doubling from 0.5 s up to 15 s), not the few seconds that suit a storage
     * service. Refusals (the job was settled, the repository is unknown) still end it at once.
     */
    static final RetryPolicy SERVER_AWAY = new RetryPolicy(16, Duration.ofMillis(500), Duration.ofSeconds(15));

    private final Identity identity;
    private final Messages.Task task;
    private final JobLog log;
    private final int threads;
    private final Fences fences;
    private final BooleanSupplier cancelled;
    private volatile Counters counters = Counters.NONE;

    /**
     * @param fences the DR plans fenced at this agent's site ({@code dr} tasks refuse to start their workloads)
     * @param cancelled raised when the server cancels the job; long DR operations check it and stop
     */
    TaskRunner(Identity identity, Messages.Task task, JobLog log, int threads, Fences fences, BooleanSupplier cancelled) {
        this.identity = identity;
        this.task = task;
        this.log = log;
        this.threads = threads;
        this.fences = fences;
        this.cancelled = cancelled;
    }

    Counters counters() {
        return counters;
    }

    Outcome run() {
        return switch (task.type()) {
            case "backup" -> backup(task.backup());
            case "restore" -> restore(task.restore());
            case "dr" -> new DrTasks(identity.dir(), identity.site(), fences, () -> open(0), log, cancelled, threads,
                    c -> counters = c, InstantSource.system()).run(task.dr());
            default -> throw new HavenException(ErrorCode.USAGE, "this agent cannot run '" + task.type() + "' tasks; upgrade it");
        };
    }

    private Repository open(long bytesPerSecond) {
        Messages.RepositoryRef ref = task.repository();
        if (ref == null) {
            throw new HavenException(ErrorCode.USAGE, "the task names no repository");
        }
        Backend b = new RetryingBackend(new RestBackend(identity.server().resolve(ref.url()), identity.sslContext(), Duration.ofMinutes(2)),
                SERVER_AWAY, RetryingBackend.Sleeper.REAL, () -> ThreadLocalRandom.current().nextLong());
        if (bytesPerSecond > 0) {
            b = new ThrottledBackend(b, bytesPerSecond);
        }
        log.info("repository " + ref.name() + " via " + identity.server().resolve(ref.url()));
        return Repository.open(b, ref.password().toCharArray(), InstantSource.system(), new SecureRandom());
    }

    private Outcome backup(Messages.BackupSpec s) {
        try (Repository repo = open(s.bandwidthBytesPerSecond())) {
            return backup(repo, s, log, threads, c -> counters = c).outcome();
        }
    }

    /** A backup's snapshot and the task outcome that reports it. */
    record Backup(Archiver.Result result, Outcome outcome) {}

    /**
     * A backup of {@code s.paths()} into {@code repo}, incremental against the newest snapshot of
     * the same host and paths ({@code s.force()}: every file is read, the parent still recorded). Status {@code partial} when paths were
     * missed. The live counters go to {@code counters} when the archiver has them.
     */
    static Backup backup(Repository repo, Messages.BackupSpec s, JobLog log, int threads, Consumer<Counters> counters) {
        List<Path> paths = s.paths().stream().map(Path::of).toList();
        for (Path p : paths) {
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                log.warn("path " + p + " does not exist on this host");
            }
        }
        repo.register("backup", s.host());
        Repository.SnapshotEntry parent = parent(repo, s.host(), paths);
        log.info(parent == null ? "first backup of these paths: reading every file"
                : (s.force() ? "--force: reading every file, comparing with snapshot " : "incremental: comparing with snapshot ")
                        + parent.id().shortHex() + " of " + parent.snapshot().time());
        BackupOptions o = new BackupOptions(paths, s.host(), System.getProperty("user.name"), uid(), gid(), s.tags(), s.excludes(),
                s.force(), null, threads, true, Version.get());
        Archiver archiver = new Archiver(repo, o);
        BackupCounters c = archiver.counters();
        counters.accept(new Counters(c::bytesDone, c::estimatedBytes, c::filesDone, c::estimatedFiles));
        Archiver.Result r = archiver.run(parent);
        Snapshot.Summary sum = r.snapshot().summary();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("snapshot_id", r.snapshotId().hex());
        out.put("parent", r.snapshot().parent());
        out.put("files_new", sum.filesNew());
        out.put("files_changed", sum.filesChanged());
        out.put("files_unmodified", sum.filesUnmodified());
        out.put("dirs", sum.dirs());
        out.put("bytes_processed", sum.bytesProcessed());
        out.put("bytes_added", sum.bytesAdded());
        out.put("duration_seconds", sum.durationSeconds());
        out.put("missed", sum.missed());
        for (Snapshot.Missed m : sum.missed()) {
            log.warn("missed " + m.path() + ": " + m.reason());
        }
        String msg = "snapshot " + r.snapshotId().shortHex() + ": " + sum.filesNew() + " new, " + sum.filesChanged() + " changed, "
                + sum.filesUnmodified() + " unmodified file(s); " + sum.bytesAdded() + " bytes added";
        log.info(msg);
        return new Backup(r, new Outcome(sum.missed().isEmpty() ? "succeeded" : "partial", msg
                + (sum.missed().isEmpty() ? "" : "; " + sum.missed().size() + " path(s) missed"), out));
    }

    private static Repository.SnapshotEntry parent(Repository repo, String host, List<Path> paths) {
        List<String> want = paths.stream().map(p -> p.toAbsolutePath().normalize().toString()).sorted().distinct().toList();
        Repository.SnapshotEntry best = null;
        for (Repository.SnapshotEntry e : repo.snapshots()) {
            if (e.snapshot().host().equals(host) && e.snapshot().paths().stream().sorted().toList().equals(want)
                    && (best == null || e.snapshot().time().compareTo(best.snapshot().time()) >= 0)) {
                best = e;
            }
        }
        return best;
    }

    /**
     * A restore. The target is checked (a directory or creatable, with room) before a byte is
     * written; when the restore fails, what it created is removed: the whole target when it did
     * not exist, else the entries at its top that were not there before. Files it replaced inside
     * existing directories cannot be put back (the repository still holds them).
     */
    private Outcome restore(Messages.RestoreSpec s) {
        Path target = Path.of(s.targetPath()).toAbsolutePath().normalize();
        if (s.sync() && target.getParent() == null) {
            // defence in depth: the server refuses this too, but a sync into / would delete everything the snapshot lacks
            throw new HavenException(ErrorCode.USAGE, "refusing a sync restore into " + target + " (target '" + s.targetPath()
                    + "'): it would delete everything on this host that the snapshot lacks; sync one directory instead");
        }
        if (!s.sync() && s.sourcePath() != null && target.getParent() != null
                && target.equals(Path.of(s.sourcePath()).toAbsolutePath().normalize())) {
            // in place, one path: a directory is restored onto itself, a file into its directory
            // (never into the root the path sits under, which would put its contents at /)
            try (Repository repo = open(0)) {
                if (!Restorer.isDirectoryAt(repo, repo.resolve(s.snapshot()), s.sourcePath())) {
                    target = target.getParent();
                }
            }
        }
        boolean existed = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
        Set<Path> before = new HashSet<>();
        if (existed && Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> l = Files.list(target)) {
                l.forEach(before::add);
            } catch (IOException e) {
                throw new HavenException(ErrorCode.TARGET_UNUSABLE, "cannot read the restore target " + target + ": " + e.getMessage(), e);
            }
        }
        try (Repository repo = open(0)) {
            Repository.SnapshotEntry entry = repo.resolve(s.snapshot());
            RestoreOptions options = new RestoreOptions(target, s.sourcePath(), s.includes(), List.of(), false, false,
                    Math.max(2, threads * 2), false, false, s.noSpaceCheck());
            Restorer restorer = new Restorer(repo, s.sync() ? options.withSync(false) : options);
            RestoreCounters c = restorer.counters();
            counters = new Counters(c::bytesDone, c::totalBytes, c::filesDone, c::totalFiles);
            log.info("restoring snapshot " + entry.id().shortHex() + " of " + entry.snapshot().time()
                    + (s.sourcePath() == null ? "" : " path " + s.sourcePath()) + " into " + target);
            Restorer.Result r = restorer.run(entry);
            r.warnings().forEach(log::warn);
            if (r.skipped() > 0) {
                throw new HavenException(ErrorCode.IO, "restore into " + target + " is incomplete: " + r.warnings().get(0));
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("snapshot_id", entry.id().hex());
            out.put("target", target.toString());
            out.put("files", r.files());
            out.put("dirs", r.dirs());
            out.put("bytes", r.bytes());
            out.put("sync", s.sync());
            out.put("files_written", r.filesWritten());
            out.put("files_kept", r.filesKept());
            out.put("deleted", r.deleted());
            String msg = s.sync() ? "synced " + target + ": " + r.filesWritten() + " file(s) written, " + r.filesKept() + " kept, "
                    + r.deleted() + " entr" + (r.deleted() == 1 ? "y" : "ies") + " deleted"
                    : "restored " + r.files() + " file(s), " + r.bytes() + " bytes into " + target;
            log.info(msg);
            return new Outcome("succeeded", msg, out);
        } catch (RuntimeException e) {
            List<Path> removed = cleanUp(target, existed, before);
            if (!removed.isEmpty()) {
                log.warn("restore failed: removed what it had created (" + removed.size() + " top-level entr"
                        + (removed.size() == 1 ? "y" : "ies") + (existed ? "" : ", and the target itself") + ")");
            }
            if (e instanceof io.haven.repository.restorer.Restorer.NotEnoughRoom room) {
                // the option has another home here: the operator's command, not the agent's
                throw room.withHint("free some room, or queue it again with 'haven workload restore --no-space-check', which restores anyway");
            }
            throw e;
        }
    }

    private List<Path> cleanUp(Path target, boolean existed, Set<Path> before) {
        List<Path> removed = new ArrayList<>();
        try {
            if (!existed) {
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    FileTrees.deleteTree(target);
                    removed.add(target);
                }
            } else if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> l = Files.list(target)) {
                    for (Path p : l.filter(p -> !before.contains(p)).toList()) {
                        FileTrees.deleteTree(p);
                        removed.add(p);
                    }
                }
            }
        } catch (IOException e) {
            log.error("could not remove everything the failed restore created: " + e.getMessage());
        }
        return removed;
    }

    private static long uid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long gid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:gid")).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
