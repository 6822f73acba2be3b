package io.haven.cli;

import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.archiver.BackupCounters;
import io.haven.repository.archiver.BackupOptions;
import io.haven.repository.snapshot.Snapshot;
import io.haven.repository.fs.FileNames;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "backup", mixinStandardHelpOptions = true, description = "Take a snapshot of paths. Exit code 3: snapshot written, some files missed.")
final class BackupCommand extends RepoCommand {
    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files or directories to back up.")
    List<String> paths;

    @Option(names = "--tag", paramLabel = "TAG", description = "Tag the snapshot (repeatable; 'a,b' is two tags).")
    List<String> tags = new ArrayList<>();

    @Option(names = "--host", paramLabel = "HOST", description = "Host name to record (default: this host).")
    String host;

    @Option(names = {"--exclude", "-e"}, paramLabel = "PATTERN",
            description = "Skip entries matching a glob; without '/' it matches names, with '/' whole paths (repeatable).")
    List<String> excludes = new ArrayList<>();

    @Option(names = "--force", description = "Read every file, even those unchanged since the parent snapshot.")
    boolean force;

    @Option(names = "--parent", paramLabel = "SNAPSHOT", description = "Compare with this snapshot instead of the latest of the same host and paths.")
    String parent;

    @Option(names = "--time", paramLabel = "TIMESTAMP", description = "Record the snapshot at this time (ISO-8601, e.g. 2026-01-31T02:00:00Z).")
    String time;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: number of cores, at least 2).")
    Integer threads;

    @Override
    public Integer call() {
        List<Path> resolved = paths.stream().map(this::backupPath).toList();
        Instant at = parseTime(time);
        try (Repository repo = openRepositoryWithIndexCache()) {
            // text, not paths: a byte that is not UTF-8 (carried as in FileNames.string) is U+FFFD
            String h = host != null ? text(host) : SystemFacts.hostname();
            if (h.isEmpty()) {
                throw new HavenException(ErrorCode.USAGE, "--host is empty");
            }
            List<String> tags = Tags.parse(this.tags.stream().map(BackupCommand::text).toList());
            repo.register("backup", h);
            repo.loadIndexInBackground();
            Repository.SnapshotEntry parentSnap = findParent(repo, h, resolved);
            BackupOptions options = new BackupOptions(resolved, h, SystemFacts.username(), SystemFacts.uid(),
                    SystemFacts.gid(), tags, excludes, force, at, threads != null ? threads : threads(), showProgress(),
                    Main.version());
            Archiver archiver = new Archiver(repo, options);
            BackupCounters c = archiver.counters();
            Archiver.Result r;
            try (Progress p = new Progress(showProgress(), env().err(), "backup", c::filesDone, c::bytesDone,
                    c::estimatedFiles, c::estimatedBytes)) {
                r = archiver.run(parentSnap);
            }
            Snapshot.Summary s = r.snapshot().summary();
            if (json()) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("snapshot_id", r.snapshotId().hex());
                out.put("parent", r.snapshot().parent());
                out.put("files_new", s.filesNew());
                out.put("files_changed", s.filesChanged());
                out.put("files_unmodified", s.filesUnmodified());
                out.put("dirs", s.dirs());
                out.put("bytes_processed", s.bytesProcessed());
                out.put("bytes_added", s.bytesAdded());
                out.put("total_files", s.totalFiles());
                out.put("total_bytes", s.totalBytes());
                out.put("duration_seconds", s.durationSeconds());
                out.put("missed", s.missed());
                println(Output.toJson(out));
            } else {
                println("snapshot " + r.snapshotId().shortHex() + " saved"
                        + (parentSnap != null ? " (parent " + parentSnap.id().shortHex() + (force ? "; every file read again" : "") + ")"
                                : " (first backup of these paths: full)"));
                println(String.format("  files: %,d new, %,d changed, %,d unmodified; %,d directories",
                        s.filesNew(), s.filesChanged(), s.filesUnmodified(), s.dirs()));
                println("  read " + DataSize.format(s.bytesProcessed()) + " of " + DataSize.format(s.totalBytes())
                        + ", added " + DataSize.format(s.bytesAdded()) + " to the repository in " + Output.duration(s.durationSeconds()));
                if (!s.missed().isEmpty()) {
                    println("  missed " + s.missed().size() + " path(s):");
                    for (Snapshot.Missed m : s.missed()) {
                        println("    " + m.path() + ": " + m.reason());
                    }
                }
            }
            return s.missed().isEmpty() ? Main.EXIT_OK : Main.EXIT_PARTIAL;
        }
    }

    /**
     * A PATH argument. One ending in '/' or '/.' names a directory, as in POSIX: a symbolic link
     * to a directory so given is backed up as that directory (recorded under its real path);
     * without the slash the link itself is backed up. Anything else so given must be a directory.
     */
    private Path backupPath(String arg) {
        Path p = env().resolve(arg);
        if (arg.endsWith("/") || arg.endsWith("/.")) {
            if (Files.isSymbolicLink(p)) {
                try {
                    p = p.toRealPath();
                } catch (java.io.IOException e) {
                    throw new HavenException(ErrorCode.NOT_FOUND, "cannot back up " + shown(arg) + ": the symbolic link leads nowhere ("
                            + io.haven.core.IoReasons.of(e) + ")");
                }
            }
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new HavenException(ErrorCode.USAGE, "cannot back up " + shown(arg) + ": not a directory");
            }
        }
        return p;
    }

    private static String shown(String arg) {
        return FileNames.display(FileNames.bytes(arg));
    }

    private static String text(String arg) {
        return new String(FileNames.bytes(arg), java.nio.charset.StandardCharsets.UTF_8);
    }

    private Repository.SnapshotEntry findParent(Repository repo, String h, List<Path> resolved) {
        if (parent != null) {
            return repo.resolve(parent);
        }
        List<String> want = resolved.stream().map(p -> p.toAbsolutePath().normalize().toString()).sorted().distinct().toList();
        Repository.SnapshotEntry best = null;
        for (Repository.SnapshotEntry e : repo.snapshots()) {
            if (e.snapshot().host().equals(h) && e.snapshot().paths().stream().sorted().toList().equals(want)) {
                best = e;
            }
        }
        return best;
    }

    static Instant parseTime(String t) {
        if (t == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(t);
            } catch (DateTimeParseException e2) {
                throw new HavenException(ErrorCode.USAGE, "not a timestamp: '" + t + "' (use ISO-8601, e.g. 2026-01-31T02:00:00Z)");
            }
        }
    }
}
