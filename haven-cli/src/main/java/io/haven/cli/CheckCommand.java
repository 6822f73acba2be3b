package io.haven.cli;

import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.check.Checker;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "check", mixinStandardHelpOptions = true, description = "Verify the repository's structure; with --read-data, every byte.")
final class CheckCommand extends RepoCommand {
    @Option(names = "--read-data", description = "Read every pack and authenticate every blob.")
    boolean readData;

    @Option(names = "--read-data-subset", paramLabel = "N%|K/M",
            description = "Read only part of the packs: N%% of them chosen at random (at least one), or part K of M (run 1/M … M/M to cover all; M at most 256).")
    String subset;

    @Override
    public Integer call() {
        if (readData && subset != null) {
            throw new HavenException(ErrorCode.USAGE, "--read-data reads every pack and --read-data-subset only part of them:"
                    + " give one of the two");
        }
        if (readData || subset != null) {
            // read the repository itself, not the local copy of its metadata
            main().noCache = true;
        }
        try (Repository repo = openRepository()) {
            Checker.Subset sub = subset != null ? Checker.Subset.parse(subset, new java.security.SecureRandom())
                    : readData ? Checker.Subset.ALL : null;
            boolean reading = sub != null;
            Checker checker = new Checker(repo, sub, threads());
            Checker.Result r;
            try (Progress p = new Progress(showProgress() && reading, env().err(), "check", "packs", checker::packsRead,
                    checker::bytesRead, checker::packsTotal, checker::bytesTotal)) {
                r = checker.run();
            }
            if (json()) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("ok", r.errors().isEmpty());
                out.put("read_data", reading);
                out.put("read_data_subset", subset);
                out.put("snapshots", r.snapshots());
                out.put("trees", r.trees());
                out.put("packs", r.packs());
                out.put("blobs", r.blobs());
                out.put("bytes_read", r.bytesRead());
                out.put("errors", r.errors());
                out.put("warnings", r.warnings());
                println(Output.toJson(out));
            } else {
                for (String w : r.warnings()) {
                    println("warning: " + w);
                }
                for (String e : r.errors()) {
                    println("error: " + e);
                }
                println(String.format("checked %d snapshots, %d trees, %d packs, %d blobs%s", r.snapshots(), r.trees(),
                        r.packs(), r.blobs(), reading ? ", read " + DataSize.format(r.bytesRead()) : ""));
            }
            if (!r.errors().isEmpty()) {
                throw new HavenException(ErrorCode.CORRUPT, "the repository has " + r.errors().size() + " error(s)"
                        + (json() ? "" : "; see above"));
            }
            if (!json()) {
                println("no errors found");
            }
        }
        return Main.EXIT_OK;
    }
}
