package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.maintenance.Pruner;
import io.haven.repository.maintenance.Retention;
import io.haven.repository.maintenance.RetentionPolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "forget", mixinStandardHelpOptions = true,
        description = {"Remove snapshots: the ones named, or those a retention policy does not keep.",
            "Data goes only with 'haven prune' (or --prune)."})
final class ForgetCommand extends RepoCommand {
    @Parameters(paramLabel = "SNAPSHOT", arity = "0..*", description = "Snapshots to remove (ids or unique prefixes).")
    List<String> ids = new ArrayList<>();

    @Option(names = "--keep-last", paramLabel = "N", description = "Keep the newest N snapshots.")
    int last;
    @Option(names = "--keep-hourly", paramLabel = "N", description = "Keep the newest snapshot of each of the last N hours that have one.")
    int hourly;
    @Option(names = "--keep-daily", paramLabel = "N", description = "… of each of the last N days.")
    int daily;
    @Option(names = "--keep-weekly", paramLabel = "N", description = "… of each of the last N ISO weeks.")
    int weekly;
    @Option(names = "--keep-monthly", paramLabel = "N", description = "… of each of the last N months.")
    int monthly;
    @Option(names = "--keep-yearly", paramLabel = "N", description = "… of each of the last N years.")
    int yearly;
    @Option(names = "--keep-within", paramLabel = "DURATION", description = "Keep all snapshots within DURATION of the group's newest (e.g. 7d, 1y6m, 36h).")
    String within;
    @Option(names = "--keep-tag", paramLabel = "TAG", description = "Keep every snapshot with this tag (repeatable; 'a,b': with both).")
    List<String> keepTags = new ArrayList<>();

    @Option(names = "--group-by", paramLabel = "host,paths,tags", split = ",",
            description = "Apply the policy to each group of snapshots with equal values (default: host,paths; '' for one group).")
    List<String> groupBy;

    @Option(names = "--host", paramLabel = "HOST", description = "Only consider snapshots of this host.")
    String host;
    @Option(names = "--tag", paramLabel = "TAG", description = "Only consider snapshots with this tag ('a,b': with both).")
    String tag;

    @Option(names = {"-n", "--dry-run"}, description = "Show what would be removed and why each kept snapshot is kept; change nothing.")
    boolean dryRun;

    @Option(names = "--prune", description = "Run 'haven prune' afterwards.")
    boolean prune;

    @Mixin
    PruneCommand.PruneOptions pruneOptions = new PruneCommand.PruneOptions();

    @Override
    public Integer call() {
        RetentionPolicy policy = new RetentionPolicy(last, hourly, daily, weekly, monthly, yearly,
                within == null ? null : RetentionPolicy.Within.parse(within), keepTags);
        if (policy.isEmpty() && ids.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "give snapshot ids or a policy (--keep-last, --keep-daily, … , --keep-within, --keep-tag);"
                    + " forget never removes every snapshot by default");
        }
        if (!policy.isEmpty() && !ids.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "give either snapshot ids or a policy, not both");
        }
        try (Repository repo = openRepositoryNotCache("forget")) {
            List<Map<String, Object>> groupsOut = new ArrayList<>();
            List<Repository.SnapshotEntry> remove = new ArrayList<>();
            if (!ids.isEmpty()) {
                for (String id : ids) {
                    remove.add(repo.resolve(id));
                }
            } else {
                List<Repository.SnapshotEntry> all = new ArrayList<>();
                for (Repository.SnapshotEntry e : repo.snapshots()) {
                    if ((host == null || e.snapshot().host().equals(host)) && (tag == null || e.snapshot().hasTags(tag))) {
                        all.add(e);
                    }
                }
                for (Retention.Group g : Retention.apply(all, policy, groupBy(), ZoneId.systemDefault())) {
                    remove.addAll(g.remove());
                    groupsOut.add(describe(g));
                }
            }
            if (!dryRun) {
                for (Repository.SnapshotEntry e : remove) {
                    repo.backend().delete("snapshots/" + e.id().hex());
                }
            }
            Map<String, Object> pruneOut = null;
            Pruner.Result pr = null;
            if (prune && !dryRun) {
                pr = PruneCommand.runPrune(this, repo, pruneOptions, false);
                pruneOut = PruneCommand.toJson(pr);
            }
            if (json()) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("dry_run", dryRun);
                out.put("groups", groupsOut);
                // a dry run removes nothing: what it would remove is in each group's "remove"
                out.put("removed", dryRun ? List.of() : remove.stream().map(e -> e.id().hex()).toList());
                out.put("prune", pruneOut);
                println(Output.toJson(out));
            } else {
                for (Map<String, Object> g : groupsOut) {
                    printGroup(g);
                }
                println((dryRun ? "would remove " : "removed ") + remove.size() + " snapshot(s)"
                        + (ids.isEmpty() ? "" : ": " + String.join(" ", remove.stream().map(e -> e.id().shortHex()).toList())));
                if (pr != null) {
                    PruneCommand.printResult(this, pr, false);
                }
            }
        }
        return Main.EXIT_OK;
    }

    private Set<Retention.GroupBy> groupBy() {
        if (groupBy == null) {
            return EnumSet.of(Retention.GroupBy.HOST, Retention.GroupBy.PATHS);
        }
        Set<Retention.GroupBy> out = EnumSet.noneOf(Retention.GroupBy.class);
        for (String g : groupBy) {
            if (g.isBlank()) {
                continue;
            }
            try {
                out.add(Retention.GroupBy.valueOf(g.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new HavenException(ErrorCode.USAGE, "cannot group by '" + g + "': use host, paths, tags or ''");
            }
        }
        return out;
    }

    private static Map<String, Object> describe(Retention.Group g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("group", g.key());
        List<Map<String, Object>> keep = new ArrayList<>();
        for (Retention.Kept k : g.keep()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("id", k.snapshot().id().hex());
            x.put("time", k.snapshot().snapshot().time());
            x.put("reasons", k.reasons());
            keep.add(x);
        }
        m.put("keep", keep);
        List<Map<String, Object>> remove = new ArrayList<>();
        for (Repository.SnapshotEntry e : g.remove()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("id", e.id().hex());
            x.put("time", e.snapshot().time());
            remove.add(x);
        }
        m.put("remove", remove);
        return m;
    }

    @SuppressWarnings("unchecked")
    private void printGroup(Map<String, Object> g) {
        List<Map<String, Object>> keep = (List<Map<String, Object>>) g.get("keep");
        List<Map<String, Object>> remove = (List<Map<String, Object>>) g.get("remove");
        println(g.get("group") + ": keep " + keep.size() + ", remove " + remove.size());
        for (Map<String, Object> k : keep) {
            println(String.format("  keep    %s  %s  %s", k.get("id").toString().substring(0, 8),
                    Output.localTime(Instant.parse((String) k.get("time"))), String.join(", ", (List<String>) k.get("reasons"))));
        }
        for (Map<String, Object> r : remove) {
            println(String.format("  remove  %s  %s", r.get("id").toString().substring(0, 8),
                    Output.localTime(Instant.parse((String) r.get("time")))));
        }
    }

}
