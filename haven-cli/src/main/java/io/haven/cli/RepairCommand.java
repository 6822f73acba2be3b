package io.haven.cli;

import io.haven.repository.Repository;
import io.haven.repository.maintenance.Repairer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "repair", mixinStandardHelpOptions = true, description = "Repair a damaged repository.",
        subcommands = {RepairCommand.Index.class, RepairCommand.Snapshots.class})
final class RepairCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name what to repair: index or snapshots");
    }

    @Command(name = "index", mixinStandardHelpOptions = true,
            description = {"Rebuild the index from the pack headers (when index files are lost or damaged).",
                "With --read-data, read every pack and leave blobs that fail authentication out of the index."})
    static final class Index extends RepoCommand {
        @Option(names = "--read-data", description = {"Read every pack whole and authenticate every blob and its id. A damaged"
                + " blob is left out of the index (a new backup stores it again; 'repair snapshots' drops what used it); the good"
                + " blobs of its pack are copied to a new pack, and prune removes the damaged pack."})
        boolean readData;

        @Override
        public Integer call() {
            try (Repository repo = openRepositoryNotCache("repair")) {
                Repairer.IndexResult r = new Repairer(repo, SystemFacts.hostname(), threads(), this::progress).rebuildIndex(readData);
                if (json()) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("read_data", readData);
                    out.put("packs", r.packs());
                    out.put("blobs", r.blobs());
                    out.put("index_files_removed", r.oldFiles());
                    out.put("index_files_written", r.newFiles());
                    out.put("unreadable_packs", r.unreadable());
                    out.put("packs_read", r.packsRead());
                    out.put("cold_packs_not_read", r.coldNotRead());
                    List<Map<String, Object>> damaged = new ArrayList<>();
                    for (Repairer.DamagedPack d : r.damaged()) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("pack", d.pack());
                        m.put("damaged_blobs", d.damaged());
                        m.put("good_blobs_copied", d.salvaged());
                        m.put("hash_mismatch", d.hashMismatch());
                        damaged.add(m);
                    }
                    out.put("damaged_packs", damaged);
                    println(Output.toJson(out));
                } else {
                    for (String u : r.unreadable()) {
                        println("warning: left out " + u);
                    }
                    for (Repairer.DamagedPack d : r.damaged()) {
                        println("pack " + d.pack() + ": left " + d.damaged().size() + " damaged blob(s) out of the index"
                                + (d.hashMismatch() ? " (the pack does not match its hash)" : "") + "; copied " + d.salvaged()
                                + " good blob(s) to a new pack; 'haven prune' removes the damaged pack");
                        for (String b : d.damaged()) {
                            println("  " + b);
                        }
                    }
                    println(String.format("indexed %d pack(s) with %d blob(s) in %d new index file(s); removed %d old index file(s)",
                            r.packs(), r.blobs(), r.newFiles(), r.oldFiles()));
                    if (readData) {
                        println("read " + r.packsRead() + " pack(s) whole"
                                + (r.coldNotRead() > 0 ? "; " + r.coldNotRead() + " cold pack(s) were not read (kept as indexed)" : ""));
                    }
                    if (r.damagedBlobs() > 0) {
                        println(r.damagedBlobs() + " damaged blob(s) are no longer in the index: a new backup stores them again;"
                                + " run 'haven repair snapshots' for the snapshots that used them");
                    }
                }
            }
            return Main.EXIT_OK;
        }

        private void progress(String msg) {
            if (showProgress()) {
                env().err().println("haven: " + msg);
            }
        }
    }

    @Command(name = "snapshots", mixinStandardHelpOptions = true,
            description = {"Write new snapshots without the files and directories whose data is lost, tagged 'repaired'.",
                "Every removed entry is listed. The damaged originals stay unless --forget is given."})
    static final class Snapshots extends RepoCommand {
        @Option(names = {"-n", "--dry-run"}, description = "Only list what would be removed.")
        boolean dryRun;

        @Option(names = "--forget", description = "Remove each damaged original after its repaired copy is saved.")
        boolean forget;

        @Override
        public Integer call() {
            try (Repository repo = openRepositoryNotCache("repair")) {
                List<Repairer.RepairedSnapshot> r = new Repairer(repo, SystemFacts.hostname(), threads(), m -> {}).repairSnapshots(dryRun, forget);
                if (json()) {
                    List<Map<String, Object>> out = new ArrayList<>();
                    for (Repairer.RepairedSnapshot s : r) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("snapshot", s.oldId());
                        m.put("repaired_as", s.newId());
                        m.put("removed", s.removed());
                        out.add(m);
                    }
                    println(Output.toJson(Map.of("dry_run", dryRun, "snapshots", out)));
                } else {
                    for (Repairer.RepairedSnapshot s : r) {
                        println("snapshot " + s.oldId().substring(0, Math.min(8, s.oldId().length()))
                                + (s.newId() == null ? "" : " → " + s.newId().substring(0, 8)) + ":");
                        for (String x : s.removed()) {
                            println("  " + (dryRun ? "would remove " : "removed ") + x);
                        }
                    }
                    println(r.isEmpty() ? "no snapshot references missing data" : (dryRun ? "would repair " : "repaired ") + r.size()
                            + " snapshot(s)" + (forget || dryRun ? "" : "; the damaged originals remain: remove them with 'haven forget ID'"));
                }
            }
            return Main.EXIT_OK;
        }
    }
}
