package io.haven.cli;

import io.haven.core.DataSize;
import io.haven.repository.Repository;
import io.haven.repository.restorer.RestoreCounters;
import io.haven.repository.restorer.RestoreOptions;
import io.haven.repository.restorer.Restorer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "restore", mixinStandardHelpOptions = true, description = "Restore a snapshot, or a path in it (SNAPSHOT:PATH), into a directory.")
final class RestoreCommand extends RepoCommand {
    @Parameters(index = "0", paramLabel = "SNAPSHOT[:PATH]", description = "Snapshot id (prefix) or 'latest', optionally :/path/inside"
            + " (as 'haven ls' shows it, \\xHH for a byte that is not UTF-8 and \\\\ for a backslash, or as its bytes).")
    String what;

    @Option(names = "--target", required = true, paramLabel = "DIR", description = "Directory to restore into (created if missing).")
    String target;

    @Option(names = {"--include", "-i"}, paramLabel = "PATTERN", description = "Restore only matching entries (glob; repeatable; \\xHH as 'haven ls' shows names).")
    List<String> includes = new ArrayList<>();

    @Option(names = {"--exclude", "-e"}, paramLabel = "PATTERN", description = "Skip matching entries (glob; repeatable; \\xHH as 'haven ls' shows names).")
    List<String> excludes = new ArrayList<>();

    @Option(names = "--dry-run", description = "Check and report what would be restored (with --sync: list what would be written, deleted or get its metadata set); write nothing.")
    boolean dryRun;

    @Option(names = "--sync", description = "Make DIR equal to the snapshot (path): write only files that differ, set metadata that"
            + " differs, delete what the snapshot does not have. Not with --include/--exclude.")
    boolean sync;

    @Option(names = "--verify", description = "With --sync: compare file content by hashing the files in DIR against the snapshot's"
            + " chunk ids instead of trusting size and modification time.")
    boolean verify;

    @Option(names = "--owner-by-name", description = "Map owners by user and group name instead of numeric id.")
    boolean ownerByName;

    @Option(names = "--no-space-check", description = "Restore even when DIR's free space looks too small (the estimate"
            + " counts holes of sparse files as data unless a whole chunk is zeros).")
    boolean noSpaceCheck;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: 2 per core).")
    Integer threads;

    @Option(names = "--wait", description = "When data is in the cold tier: wait for the thaw, then restore (default: start it and exit 4).")
    boolean waitForThaw;

    @Option(names = "--thaw-timeout", paramLabel = "AGE", defaultValue = "2d",
            description = "With --wait: give up waiting for a thaw after this long (default: ${DEFAULT-VALUE}).")
    String thawTimeout;

    /** The command that resumes this restore once a thaw is done: the same selection, quoted for a shell. */
    String resumeCommand() {
        StringBuilder b = new StringBuilder("haven");
        if (main().repo != null) {
            b.append(" --repo ").append(Output.shellQuote(main().repo));
        }
        if (main().passwordFile != null) {
            b.append(" --password-file ").append(Output.shellQuote(main().passwordFile));
        }
        b.append(" restore ").append(Output.shellQuote(what)).append(" --target ").append(Output.shellQuote(target));
        for (String i : includes) {
            b.append(" --include ").append(Output.shellQuote(i));
        }
        for (String e : excludes) {
            b.append(" --exclude ").append(Output.shellQuote(e));
        }
        b.append(sync ? " --sync" : "").append(verify ? " --verify" : "").append(ownerByName ? " --owner-by-name" : "")
                .append(noSpaceCheck ? " --no-space-check" : "").append(threads != null ? " --threads " + threads : "");
        return b.append(" --wait").toString();
    }

    @Override
    public Integer call() {
        String snap = what;
        String sub = "/";
        int colon = what.indexOf(':');
        if (colon >= 0) {
            snap = what.substring(0, colon);
            sub = what.substring(colon + 1);
        }
        try (Repository repo = openRepositoryWithIndexCache()) {
            Repository.SnapshotEntry entry = repo.resolve(snap);
            RestoreOptions options = new RestoreOptions(env().resolve(target), sub, includes, excludes, dryRun, ownerByName,
                    threads != null ? threads : 2 * threads(), sync, verify, noSpaceCheck);
            Restorer restorer = new Restorer(repo, options);
            io.haven.repository.tier.Tiering.ThawPlan thawed = null;
            if (!dryRun && repo.backend() instanceof io.haven.repository.tier.TieredBackend) {
                // thaw only what this restore reads: its path, includes and excludes applied; a sync:
                // only the files it will write
                thawed = ThawCommand.thawFor(this, repo, entry, restorer.dataNeeded(entry), waitForThaw, thawTimeout,
                        resumeCommand());
            }
            RestoreCounters c = restorer.counters();
            Restorer.Result r;
            try (Progress p = new Progress(showProgress() && !dryRun, env().err(), "restore", c::filesDone, c::bytesDone,
                    c::totalFiles, c::totalBytes)) {
                r = restorer.run(entry);
            }
            if (json()) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("snapshot_id", entry.id().hex());
                out.put("target", options.target().toString());
                out.put("dry_run", dryRun);
                out.put("files", r.files());
                out.put("dirs", r.dirs());
                out.put("symlinks", r.symlinks());
                out.put("others", r.others());
                out.put("hardlinks", r.hardlinks());
                out.put("bytes", r.bytes());
                out.put("sync", sync);
                out.put("verify", verify);
                out.put("files_written", r.filesWritten());
                out.put("files_kept", r.filesKept());
                out.put("cold_packs", thawed == null ? 0 : thawed.packsCold());
                out.put("cold_packs_thawed_now", thawed == null ? 0 : thawed.packsRequested());
                out.put("bytes_written", r.bytesWritten());
                out.put("deleted", r.deleted());
                out.put("metadata_updated", r.metadataUpdated());
                if (sync && dryRun) {
                    List<Map<String, Object>> changes = new ArrayList<>();
                    for (Restorer.Change ch : r.changes()) {
                        changes.add(Map.of("kind", String.valueOf(ch.kind()), "path", ch.path()));
                    }
                    out.put("changes", changes);
                }
                out.put("duration_seconds", r.durationSeconds());
                out.put("skipped", r.skipped());
                out.put("warnings", r.warnings());
                println(Output.toJson(out));
            } else if (sync) {
                for (Restorer.Change ch : r.changes()) {
                    println(ch.kind() + " " + ch.path());
                }
                println((dryRun ? "would sync " : "synced ") + String.format("%,d files: %,d %s (%s), %,d kept; %,d %s %s;"
                        + " metadata %s on %,d", r.files(), r.filesWritten(), dryRun ? "to write" : "written",
                        DataSize.format(r.bytesWritten()), r.filesKept(), r.deleted(), r.deleted() == 1 ? "entry" : "entries",
                        dryRun ? "to delete" : "deleted", dryRun ? "to set again" : "set again", r.metadataUpdated())
                        + " from snapshot " + entry.id().shortHex() + (dryRun ? " into " : " to ") + options.target()
                        + (dryRun ? "" : " in " + Output.duration(r.durationSeconds())));
                for (String w : r.warnings()) {
                    println("  note: " + w);
                }
            } else {
                println((dryRun ? "would restore " : "restored ") + String.format("%,d files (%s), %,d directories, %,d symlinks, %,d other",
                        r.files(), DataSize.format(r.bytes()), r.dirs(), r.symlinks(), r.others())
                        + " from snapshot " + entry.id().shortHex() + (dryRun ? " into " : " to ") + options.target()
                        + (dryRun ? "" : " in " + Output.duration(r.durationSeconds())));
                for (String w : r.warnings()) {
                    println("  note: " + w);
                }
            }
            // entries the target cannot hold were left out (named in the warnings): like a backup
            // with missed files, the restore is incomplete
            return r.skipped() > 0 ? Main.EXIT_PARTIAL : Main.EXIT_OK;
        }
    }
}
