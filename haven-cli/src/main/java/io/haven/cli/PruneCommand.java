package io.haven.cli;

import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.maintenance.Pruner;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Remove data no snapshot needs; safe while backups run.",
            "Packs are condemned first and deleted once every backup that started earlier has finished (see docs/maintenance.md)."})
final class PruneCommand extends RepoCommand {
    /** Options shared with forget --prune. */
    static final class PruneOptions {
        @Option(names = "--repack-threshold", paramLabel = "PERCENT", defaultValue = "20",
                description = "Rewrite a pack when at least this share of its bytes is unused (default: ${DEFAULT-VALUE}%%).")
        String repackThreshold = "20";

        @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "0",
                description = "Wait up to this long for backups that started before the deletion was planned (default: do not wait; the next prune deletes).")
        long waitSeconds;

        double threshold() {
            String s = repackThreshold.endsWith("%") ? repackThreshold.substring(0, repackThreshold.length() - 1) : repackThreshold;
            try {
                double v = Double.parseDouble(s);
                if (v < 0 || v > 100) {
                    throw new NumberFormatException();
                }
                return v / 100;
            } catch (NumberFormatException e) {
                throw new HavenException(ErrorCode.USAGE, "--repack-threshold must be a percentage from 0 to 100, not '" + repackThreshold + "'");
            }
        }
    }

    @Mixin
    PruneOptions options = new PruneOptions();

    @Option(names = {"-n", "--dry-run"}, description = "Only report what would be removed and rewritten.")
    boolean dryRun;

    @Override
    public Integer call() {
        try (Repository repo = openRepositoryNotCache("prune")) {
            Pruner.Result r = runPrune(this, repo, options, dryRun);
            if (json()) {
                Map<String, Object> out = toJson(r);
                out.put("dry_run", dryRun);
                println(Output.toJson(out));
            } else {
                printResult(this, r, dryRun);
            }
        }
        return Main.EXIT_OK;
    }

    static Pruner.Result runPrune(RepoCommand cmd, Repository repo, PruneOptions o, boolean dryRun) {
        if (o.waitSeconds < 0) {
            throw new HavenException(ErrorCode.USAGE, "--wait cannot be negative");
        }
        Pruner.Options po = new Pruner.Options(o.threshold(), dryRun, Duration.ofSeconds(o.waitSeconds), Math.max(2, cmd.threads()),
                SystemFacts.hostname());
        boolean show = cmd.showProgress();
        return new Pruner(repo, po, msg -> {
            if (show) {
                cmd.env().err().println("haven: " + msg);
            }
        }).run();
    }

    static Map<String, Object> toJson(Pruner.Result r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("snapshots", r.snapshots());
        out.put("blobs_used", r.blobsUsed());
        out.put("packs_total", r.packsTotal());
        out.put("bytes_total", r.bytesTotal());
        out.put("packs_unused", r.packsUnused());
        out.put("packs_repacked", r.packsRepacked());
        out.put("bytes_unused", r.bytesUnused());
        out.put("bytes_repack_written", r.bytesRepackWritten());
        out.put("packs_deleted", r.packsDeleted());
        out.put("bytes_deleted", r.bytesDeleted());
        out.put("orphans_deleted", r.orphansDeleted());
        out.put("blobs_rescued", r.blobsRescued());
        out.put("pending_sets", r.pendingSets());
        out.put("cold_packs_kept", r.coldPacksKept());
        out.put("stale_writer_markers_removed", r.staleWriterMarkersRemoved());
        out.put("waiting_for", r.waitingFor().stream().map(Object::toString).toList());
        return out;
    }

    static void printResult(RepoCommand cmd, Pruner.Result r, boolean dryRun) {
        cmd.println(String.format("%d snapshot(s) need %d blob(s); %d pack(s), %s", r.snapshots(), r.blobsUsed(), r.packsTotal(),
                DataSize.format(r.bytesTotal())));
        if (dryRun) {
            cmd.println(String.format("would delete %d unused pack(s) and rewrite %d partly used one(s) (writing %s): %s freed",
                    r.packsUnused(), r.packsRepacked(), DataSize.format(r.bytesRepackWritten()), DataSize.format(r.bytesUnused())));
            return;
        }
        cmd.println(String.format("rewrote %d partly used pack(s) (%s written); deleted %d pack(s) and %d unindexed pack(s): %s freed",
                r.packsRepacked(), DataSize.format(r.bytesRepackWritten()), r.packsDeleted(), r.orphansDeleted(),
                DataSize.format(r.bytesDeleted())));
        if (r.coldPacksKept() > 0) {
            cmd.println("left " + r.coldPacksKept() + " cold pack(s) as they are (partly used, or within the class's minimum storage time)");
        }
        if (r.staleWriterMarkersRemoved() > 0) {
            cmd.println("removed " + r.staleWriterMarkersRemoved() + " writer marker(s) of killed processes");
        }
        if (r.blobsRescued() > 0) {
            cmd.println("kept " + r.blobsRescued() + " blob(s) that snapshots saved meanwhile still need");
        }
        if (!r.pendingSets().isEmpty()) {
            cmd.println("deletion of " + r.pendingSets().size() + " condemned set(s) waits for writers that started before it:");
            for (Pruner.Blocker b : r.waitingFor()) {
                cmd.println("  " + b);
            }
            cmd.println("run 'haven prune' again when they finish, or use --wait SECONDS");
        }
    }
}
