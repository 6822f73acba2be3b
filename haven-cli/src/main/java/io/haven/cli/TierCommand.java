package io.haven.cli;

import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.tier.TierPolicy;
import io.haven.repository.tier.TieredBackend;
import io.haven.repository.tier.Tiering;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "tier", mixinStandardHelpOptions = true,
        description = "Move the data of old snapshots to a cold (archive) tier.",
        subcommands = {TierCommand.Set.class, TierCommand.Show.class, TierCommand.Apply.class})
final class TierCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "choose a subcommand: set, show or apply");
    }

    static Map<String, Object> policyJson(TierPolicy p) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cold", p.cold());
        out.put("after", p.after());
        out.put("hosts", p.hosts());
        out.put("tags", p.tags());
        out.put("thaw_days", p.thawDays());
        out.put("retrieval", p.retrieval());
        out.put("set_at", p.setAt());
        return out;
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Set the repository's tier policy (replaces the current one).",
                "Data packs that only snapshots older than the age use move to the cold tier when 'haven tier apply' runs."})
    static final class Set extends RepoCommand {
        @Option(names = "--cold", required = true, paramLabel = "LOCATION",
                description = {"Where cold packs go: a directory, local:PATH or s3:http[s]://HOST/BUCKET[/PREFIX] (a separate bucket);",
                    "or, for a repository in S3, a storage class the packs move to in place: GLACIER, DEEP_ARCHIVE, GLACIER_IR or class:NAME."})
        String cold;

        @Option(names = "--after", paramLabel = "AGE", defaultValue = TierPolicy.DEFAULT_AFTER,
                description = "Snapshots older than this are old (default: ${DEFAULT-VALUE}; e.g. 30d, 6m, 1y).")
        String after;

        @Option(names = "--host-after", paramLabel = "HOST=AGE", description = "Another age for one host (repeatable).")
        java.util.List<String> hostAfter = new java.util.ArrayList<>();

        @Option(names = "--tag-after", paramLabel = "TAG=AGE",
                description = "Another age for snapshots with this tag (repeatable; the longest of a snapshot's tags wins over its host's).")
        java.util.List<String> tagAfter = new java.util.ArrayList<>();

        @Option(names = "--thaw-days", paramLabel = "DAYS", defaultValue = "7",
                description = "How long a thawed pack stays readable (default: ${DEFAULT-VALUE}).")
        int thawDays;

        @Option(names = "--retrieval", paramLabel = "TIER", defaultValue = "Standard",
                description = "Retrieval tier for a thaw from GLACIER or DEEP_ARCHIVE: Standard, Bulk or Expedited (default: ${DEFAULT-VALUE}).")
        String retrieval;

        @Override
        public Integer call() {
            Tiers.checkSupported(cold, location());
            if (thawDays < 1) {
                throw new HavenException(ErrorCode.USAGE, "--thaw-days must be at least 1");
            }
            Map<String, String> hosts = namedAges("--host-after", "HOST", hostAfter);
            Map<String, String> tags = namedAges("--tag-after", "TAG", tagAfter);
            try (Repository repo = openRepositoryNotCache("tier set")) {
                TierPolicy p = new TierPolicy(1, repo.clock().instant().toString(), Tiers.normalize(cold, env()), after, hosts,
                        tags, thawDays, retrieval).validate();
                refuseToLoseColdPacks(repo, p);
                Tiers.checkExists(p, env());
                // fail now, not at the first apply, when the cold location cannot be used; mark it as this repository's
                try (var tier = Tiers.open(p, env(), repo.backend(), repo.config().id())) {
                    Tiers.checkApart(tier, repo.backend());
                    if (tier instanceof io.haven.repository.tier.ArchiveBackendTier a) {
                        a.claim();
                    }
                }
                repo.saveTierPolicy(p);
                if (json()) {
                    println(Output.toJson(policyJson(p)));
                } else {
                    println("tier policy set: data of snapshots older than " + p.after() + " goes to " + p.cold()
                            + (p.hosts().isEmpty() ? "" : "; hosts " + p.hosts()) + (p.tags().isEmpty() ? "" : "; tags " + p.tags())
                            + "; thawed data stays " + p.thawDays() + " day(s)");
                    println("run 'haven tier apply' to move what the policy says now");
                }
            }
            return Main.EXIT_OK;
        }
    }

    /**
     * Parses repeated {@code NAME=AGE} values. A name given twice is refused rather than the
     * last one winning without a word (which of two ages the user meant is not ours to guess).
     */
    static Map<String, String> namedAges(String option, String what, java.util.List<String> values) {
        Map<String, String> out = new TreeMap<>();
        for (String v : values) {
            int eq = v.indexOf('=');
            if (eq <= 0) {
                throw new HavenException(ErrorCode.USAGE, option + " needs " + what + "=AGE, not '" + v + "'"
                        + (eq == 0 ? ": the name before '=' is empty" : ""));
            }
            String name = v.substring(0, eq);
            String age = v.substring(eq + 1);
            String earlier = out.putIfAbsent(name, age);
            if (earlier != null) {
                throw new HavenException(ErrorCode.USAGE, option + " names " + what.toLowerCase(java.util.Locale.ROOT) + " '"
                        + name + "' twice (" + earlier + " and " + age + "); give each once");
            }
        }
        return out;
    }

    /**
     * A new cold location while packs are cold in the current one would leave them where nothing
     * looks: the repository would call them missing. Refused, with the way to bring them back.
     */
    static void refuseToLoseColdPacks(Repository repo, TierPolicy next) {
        var current = repo.tierPolicy();
        if (current.isEmpty() || current.get().cold().equals(next.cold()) || !(repo.backend() instanceof TieredBackend t)) {
            return;
        }
        java.util.Set<String> names;
        try {
            names = t.coldNames();
        } catch (HavenException e) {
            throw new HavenException(ErrorCode.USAGE, "cannot change the cold tier from " + current.get().cold()
                    + ": whether it still holds packs is unknown (" + e.getMessage() + ")", e);
        }
        if (names.isEmpty()) {
            return;
        }
        long bytes = 0;
        for (String n : names) {
            bytes += t.stat(n).map(io.haven.repository.backend.Backend.ObjectInfo::size).orElse(0L);
        }
        throw new HavenException(ErrorCode.USAGE, names.size() + " pack(s) (" + DataSize.format(bytes) + ") are in the current"
                + " cold tier (" + t.cold().describe() + "); with another cold location the repository would lose track of them."
                + " Bring them back first: 'haven tier set --cold " + current.get().cold() + " --after 100y', then 'haven tier"
                + " apply' (again until no pack is cold), then set the new location");
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show the tier policy and how much data is cold.")
    static final class Show extends RepoCommand {
        @Override
        public Integer call() {
            try (Repository repo = openRepository()) {
                var policy = repo.tierPolicy();
                if (policy.isEmpty()) {
                    if (json()) {
                        println("{\"policy\":null}");
                    } else {
                        println("no tier policy: all data is warm (set one with 'haven tier set --cold LOCATION --after AGE')");
                    }
                    return Main.EXIT_OK;
                }
                TieredBackend t = (TieredBackend) repo.backend();
                Long packs = null;
                String unavailable = null;
                try {
                    packs = (long) t.coldNames().size();
                } catch (HavenException e) {
                    unavailable = e.getMessage(); // the policy is still worth showing
                }
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("policy", policyJson(policy.get()));
                out.put("cold_packs", packs);
                out.put("cold_location", t.cold().describe());
                if (unavailable != null) {
                    out.put("cold_error", unavailable);
                }
                if (json()) {
                    println(Output.toJson(out));
                } else {
                    TierPolicy p = policy.get();
                    println("cold tier:   " + t.cold().describe());
                    println("old after:   " + p.after() + (p.hosts().isEmpty() ? "" : ", hosts " + p.hosts())
                            + (p.tags().isEmpty() ? "" : ", tags " + p.tags()));
                    println("thaw:        stays " + p.thawDays() + " day(s), retrieval " + p.retrieval());
                    println("cold packs:  " + (packs != null ? packs : "unknown"));
                    println("set at:      " + p.setAt());
                }
                if (unavailable != null) {
                    throw new HavenException(ErrorCode.IO, "cannot count the cold packs: " + unavailable);
                }
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = "Move to the cold tier what the policy says now, and end thaws whose time is up.")
    static final class Apply extends RepoCommand {
        @Option(names = {"-n", "--dry-run"}, description = "Only report what would move.")
        boolean dryRun;

        @Override
        public Integer call() {
            try (Repository repo = openRepositoryNotCache("tier apply")) {
                var policy = repo.tierPolicy().orElseThrow(() -> new HavenException(ErrorCode.USAGE,
                        "the repository has no tier policy; set one with 'haven tier set --cold LOCATION --after AGE'"));
                boolean show = showProgress();
                Tiering.ApplyResult r = new Tiering(repo, policy, m -> {
                    if (show) {
                        env().err().println("haven: " + m);
                    }
                }).apply(dryRun);
                if (json()) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("dry_run", dryRun);
                    out.put("snapshots_old", r.snapshotsOld());
                    out.put("snapshots_warm", r.snapshotsWarm());
                    out.put("packs_moved", r.packsMoved());
                    out.put("bytes_moved", r.bytesMoved());
                    out.put("packs_cold", r.packsCold());
                    out.put("bytes_cold", r.bytesCold());
                    out.put("thawed_copies_removed", r.thawedCopiesRemoved());
                    out.put("packs_returned", r.packsReturned());
                    out.put("bytes_returned", r.bytesReturned());
                    out.put("packs_returning", r.packsReturning());
                    println(Output.toJson(out));
                } else {
                    println(String.format("%d snapshot(s) older than the policy's age, %d newer", r.snapshotsOld(), r.snapshotsWarm()));
                    println(String.format("%s %d pack(s) (%s) to %s", dryRun ? "would move" : "moved", r.packsMoved(),
                            DataSize.format(r.bytesMoved()), policy.cold()));
                    if (r.packsReturned() + r.packsReturning() > 0) {
                        // the policy changed: newer snapshots use packs that went cold under the old one
                        println(String.format("%s %d cold pack(s) (%s) back to warm storage: newer snapshots use them",
                                dryRun ? "would bring" : "brought", r.packsReturned(), DataSize.format(r.bytesReturned()))
                                + (r.packsReturning() > 0 ? String.format("; %d more wait for their thaw: run 'haven tier apply'"
                                        + " again when it is done", r.packsReturning()) : ""));
                    }
                    if (!dryRun) {
                        println(String.format("cold now: %d pack(s) of old snapshots (%s); %d thawed cop%s removed", r.packsCold(),
                                DataSize.format(r.bytesCold()), r.thawedCopiesRemoved(), r.thawedCopiesRemoved() == 1 ? "y" : "ies"));
                    }
                }
            }
            return Main.EXIT_OK;
        }
    }

}
