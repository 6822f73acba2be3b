package io.haven.cli;

import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.maintenance.RetentionPolicy;
import io.haven.repository.tier.TierPolicy;
import io.haven.repository.tier.TieredBackend;
import io.haven.repository.tier.Tiering;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "thaw", mixinStandardHelpOptions = true,
        description = {"Bring a snapshot's cold data back so that it can be restored.",
            "Exits 4 while the thaw is still running (without --wait); run it again, or restore, to continue."})
final class ThawCommand extends RepoCommand {
    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "Snapshot id (or a unique prefix), or 'latest'.")
    String snapshot;

    @Option(names = "--wait", description = "Keep going until every pack is readable.")
    boolean waitForIt;

    @Option(names = "--timeout", paramLabel = "AGE", defaultValue = "2d",
            description = "With --wait: give up after this long (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Override
    public Integer call() {
        try (Repository repo = openRepository()) {
            Repository.SnapshotEntry entry = repo.resolve(snapshot);
            Tiering.ThawPlan plan = thawFor(this, repo, entry, null, waitForIt, timeout, "haven thaw " + snapshot + " --wait");
            if (json()) {
                println(Output.toJson(planJson(entry, plan)));
            } else if (plan == null || plan.packsCold() == 0) {
                println("snapshot " + entry.id().shortHex() + " has no cold data: it restores at once");
            } else {
                println("snapshot " + entry.id().shortHex() + ": all " + plan.packsCold() + " cold pack(s) ("
                        + DataSize.format(plan.bytesCold()) + ") are readable; restore it now");
            }
        }
        return Main.EXIT_OK;
    }

    static Map<String, Object> planJson(Repository.SnapshotEntry entry, Tiering.ThawPlan plan) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("snapshot_id", entry.id().hex());
        out.put("packs_needed", plan == null ? 0 : plan.packsNeeded());
        out.put("packs_cold", plan == null ? 0 : plan.packsCold());
        out.put("bytes_cold", plan == null ? 0 : plan.bytesCold());
        out.put("packs_ready", plan == null ? 0 : plan.packsReady());
        out.put("packs_thawing", plan == null ? 0 : plan.pending().size());
        out.put("packs_requested", plan == null ? 0 : plan.packsRequested());
        out.put("done", plan == null || plan.done());
        return out;
    }

    /**
     * Thaws what {@code entry} needs from the cold tier (only the data blobs {@code only}, when
     * not null): asks once for every cold pack, then with
     * {@code wait} polls until all are readable (or the timeout passes). Without {@code wait}, or on
     * timeout, throws COLD (exit 4) naming how much is pending and {@code resume}. Returns null when
     * the repository has no cold tier.
     */
    static Tiering.ThawPlan thawFor(RepoCommand cmd, Repository repo, Repository.SnapshotEntry entry,
            java.util.Collection<io.haven.repository.BlobId> only, boolean wait, String timeout, String resume) {
        if (!(repo.backend() instanceof TieredBackend tiered)) {
            return null;
        }
        Duration limit;
        try {
            limit = timeoutOf(timeout);
        } catch (HavenException e) {
            throw new HavenException(ErrorCode.USAGE, (cmd instanceof RestoreCommand ? "--thaw-timeout" : "--timeout") + " '"
                    + timeout + "': give a time such as 90s, 30min, 12h or 2d (" + e.getMessage() + ")", e);
        }
        TierPolicy policy = repo.tierPolicy().orElseThrow();
        Tiering tiering = new Tiering(repo, policy, m -> { });
        java.util.function.Supplier<Tiering.ThawPlan> ask = () -> only != null ? tiering.thaw(only, true) : tiering.thaw(entry, null, true);
        Tiering.ThawPlan plan = ask.get();
        if (plan.packsCold() == 0 || plan.done()) {
            if (plan.packsRequested() > 0 && !cmd.main().quiet && !cmd.json()) {
                // a tier that copies back at once (a directory or bucket): say what came back, and for how long
                cmd.env().err().println("haven: thawed " + plan.packsRequested() + " cold pack(s) of snapshot "
                        + entry.id().shortHex() + " from " + tiered.cold().describe() + " (" + DataSize.format(plan.bytesCold())
                        + " cold in all); they stay in warm storage for " + policy.thawDays() + " day(s)");
            }
            return plan;
        }
        String what = plan.pending().size() + " of " + plan.packsCold() + " cold pack(s) of snapshot " + entry.id().shortHex()
                + " (" + DataSize.format(plan.bytesCold()) + " cold in all) are thawing in " + tiered.cold().describe();
        String eta = plan.typicalWait().isZero() ? "" : "; a thaw usually takes " + Output.duration(plan.typicalWait().toSeconds());
        cmd.env().err().println("haven: " + what + (plan.packsRequested() > 0 ? " (asked for " + plan.packsRequested() + " now)" : "") + eta);
        if (!wait) {
            throw new HavenException(ErrorCode.COLD, "the thaw is in progress; run '" + resume + "' to continue when it is done"
                    + " (or now, to wait for it)");
        }
        return new io.haven.repository.tier.ThawWaiter(limit, pollInterval(cmd)).await(plan, ask, p -> {
            if (cmd.showProgress()) {
                cmd.env().err().println("haven: thaw: " + (p.packsCold() - p.pending().size()) + " of " + p.packsCold()
                        + " cold pack(s) readable");
            }
        }, resume);
    }

    /** A timeout: {@code 90s}, {@code 30min}, or an age such as {@code 12h}, {@code 2d}. */
    static Duration timeoutOf(String s) {
        var short_ = java.util.regex.Pattern.compile("(\\d+)(s|min)").matcher(s.trim());
        if (short_.matches()) {
            long n = Long.parseLong(short_.group(1));
            return short_.group(2).equals("s") ? Duration.ofSeconds(n) : Duration.ofMinutes(n);
        }
        RetentionPolicy.Within w = RetentionPolicy.Within.parse(s);
        Instant now = Instant.now();
        return Duration.between(TierPolicy.cutoff(w, now), now);
    }

    static Duration pollInterval(RepoCommand cmd) {
        String v = cmd.env().get("HAVEN_THAW_POLL");
        if (v == null) {
            return Duration.ofSeconds(60);
        }
        try {
            return Duration.ofMillis(Math.max(10, (long) (Double.parseDouble(v.trim()) * 1000)));
        } catch (NumberFormatException e) {
            throw new HavenException(ErrorCode.USAGE, "HAVEN_THAW_POLL must be a number of seconds, not '" + v + "'");
        }
    }
}
