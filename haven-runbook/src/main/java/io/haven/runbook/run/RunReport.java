package io.haven.runbook.run;

import io.haven.runbook.DurationText;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a run did, for people: every step and workload with times and results, the RTO and RPO
 * achieved, and what was skipped or failed. Derived from a {@link RunState} at any time (a run in
 * progress gives a partial report); {@link #render()} is the text {@code haven drill} prints.
 *
 * @param rto from the start of the run until every workload's probe was green; null unless all were
 * @param rpo how much data the recovery may have lost: zero for graceful kinds whose final
 *     snapshots were all taken, otherwise the age, at the start of the run, of the oldest recovery
 *     point used; null when not known
 * @param skipped steps left out (drills) or never reached, and workloads never started
 * @param failed everything that failed, with the reason
 * @param autoRollbackAt when a failed-over run is rolled back by itself unless committed first; null when never
 */
public record RunReport(String runId, String plan, int planVersion, RunKind kind, Phase phase, String sourceSite, String targetSite,
        String startedBy, Instant startedAt, Instant failedOverAt, Instant endedAt, String failure, Duration rto, Duration rpo,
        List<StepLine> steps, List<WorkloadLine> workloads, List<String> skipped, List<String> failed, Instant autoRollbackAt) {
    public RunReport {
        steps = List.copyOf(steps);
        workloads = List.copyOf(workloads);
        skipped = List.copyOf(skipped);
        failed = List.copyOf(failed);
    }

    /** One step: {@code number} counts from 1; {@code revert} is a rollback's undoing of a DNS step. */
    public record StepLine(int number, String name, String kind, StepStatus status, Instant startedAt, Instant endedAt, Duration took,
            String message, Result revert) {}

    /**
     * One workload.
     *
     * @param pointAge age of its recovery point at the start of the run; null for a final snapshot
     *     (taken after the workload stopped, so nothing was lost)
     * @param upAfter from the start of the run until its probe was green
     */
    public record WorkloadLine(String name, String bootStep, WorkloadStatus status, RecoveryPoint point, Duration pointAge,
            Result preparation, Result sourceStop, Result finalSnapshot, Result apply, Result start, Result probe, Duration upAfter,
            List<Result> postBoot, Result rollbackStop, Result rollbackStart, String failure) {
        public WorkloadLine {
            postBoot = List.copyOf(postBoot);
        }
    }

    public static RunReport from(RunState s) {
        List<StepLine> steps = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        boolean over = s.ended() || s.phase() == Phase.FAILED_OVER || s.phase() == Phase.ROLLING_BACK || s.phase() == Phase.CLEANING_UP;
        for (StepRun r : s.steps()) {
            Duration took = r.startedAt() != null && r.endedAt() != null ? Duration.between(r.startedAt(), r.endedAt()) : null;
            steps.add(new StepLine(r.index() + 1, r.name(), r.kind(), r.status(), r.startedAt(), r.endedAt(), took, r.message(), r.revert()));
            String label = "step " + (r.index() + 1) + " '" + r.name() + "' (" + r.kind() + ")";
            switch (r.status()) {
                case SKIPPED -> skipped.add(label + ": " + r.message());
                case PENDING -> {
                    if (over) {
                        skipped.add(label + ": not reached");
                    }
                }
                case FAILED, FAILED_IGNORED -> failed.add(label + ": " + r.message()
                        + (r.status() == StepStatus.FAILED_IGNORED ? " (the run went on)" : ""));
                case CANCELLED -> failed.add(label + ": cancelled");
                case RUNNING, SUCCEEDED -> { }
            }
            if (r.revert() != null && !r.revert().ok() && !r.revert().running()) {
                failed.add(label + ", rollback: " + r.revert().message());
            }
        }
        List<WorkloadLine> workloads = new ArrayList<>();
        boolean allGreen = !s.workloads().isEmpty();
        Instant lastGreen = null;
        Duration oldestPoint = Duration.ZERO;
        boolean pointsKnown = s.startedAt() != null && !s.kind().graceful();
        boolean finalSnapshots = s.kind().graceful();
        for (WorkloadRun w : s.workloads()) {
            // a database standby that had replayed everything reports the time it was prepared, after the run began
            // (and an agent's clock may run a little ahead of the server's): such a point is no older than the start
            Duration age = w.point() != null && s.startedAt() != null && w.finalSnapshot() == null
                    ? max0(Duration.between(w.point().time(), s.startedAt())) : null;
            Duration up = w.greenAt() != null && s.startedAt() != null ? Duration.between(s.startedAt(), w.greenAt()) : null;
            workloads.add(new WorkloadLine(w.name(), s.steps().get(w.bootStep()).name(), w.status(), w.point(), age, w.prepare(), w.sourceStop(),
                    w.finalSnapshot(), w.apply(), w.start(), w.probe(), up, w.postBoot(), w.rollbackStop(), w.rollbackStart(), w.failure()));
            if (w.greenAt() == null) {
                allGreen = false;
            } else if (lastGreen == null || w.greenAt().isAfter(lastGreen)) {
                lastGreen = w.greenAt();
            }
            if (age == null) {
                pointsKnown = false;
            } else if (age.compareTo(oldestPoint) > 0) {
                oldestPoint = age;
            }
            if (w.finalSnapshot() == null || !w.finalSnapshot().ok()) {
                finalSnapshots = false;
            }
            if (w.failure() != null) {
                failed.add("workload " + w.name() + ": " + w.failure());
            }
            for (int k = 0; k < w.postBoot().size(); k++) {
                Result r = w.postBoot().get(k);
                if (!r.running() && !r.ok() && w.failure() == null) {
                    failed.add("workload " + w.name() + ", post-boot script " + (k + 1) + ": " + r.message() + " (the run went on)");
                }
            }
            if (over && w.start() == null && w.status() != WorkloadStatus.FAILED) {
                skipped.add("workload " + w.name() + ": not started at site " + s.targetSite());
            }
        }
        Duration rto = allGreen && s.startedAt() != null ? Duration.between(s.startedAt(), lastGreen) : null;
        Duration rpo = finalSnapshots ? Duration.ZERO : pointsKnown ? oldestPoint : null;
        return new RunReport(s.runId(), s.plan().name(), s.plan().version(), s.kind(), s.phase(), s.sourceSite(), s.targetSite(),
                s.startedBy(), s.startedAt(), s.failedOverAt(), s.endedAt(), s.failure(), rto, rpo, steps, workloads, skipped, failed,
                s.outstanding().stream().filter(Command.StartTimer.class::isInstance).map(Command.StartTimer.class::cast)
                        .filter(t -> t.id().equals(RunMachine.AUTO_ROLLBACK)).map(Command.StartTimer::at).findFirst().orElse(null));
    }

    /** The report as text, one screen for a typical plan. */
    public String render() {
        StringBuilder b = new StringBuilder();
        String what = switch (kind) {
            case TEST -> "Test failover (drill)";
            case PLANNED -> "Planned failover";
            case FORCED -> "Forced failover";
            case FAILBACK -> "Failback";
        };
        b.append(what).append(" of plan ").append(plan).append(" v").append(planVersion).append(", site ").append(sourceSite).append(" -> site ")
                .append(targetSite).append(" (run ").append(runId).append(")\n");
        b.append("Outcome:   ").append(phase.name().toLowerCase(Locale.ROOT).replace('_', ' '));
        if (failure != null) {
            b.append(" - ").append(failure);
        }
        b.append('\n');
        if (startedAt != null) {
            b.append("Started:   ").append(startedAt).append(startedBy != null ? " by " + startedBy : "").append('\n');
        }
        if (endedAt != null) {
            b.append("Ended:     ").append(endedAt).append(startedAt != null ? " (" + d(Duration.between(startedAt, endedAt)) + ")" : "").append('\n');
        }
        b.append("RTO:       ").append(rto != null ? d(rto) + " (start to all probes green)" : "not reached").append('\n');
        b.append("RPO:       ").append(rpo == null ? "unknown" : rpo.isZero() && kind.graceful() ? "0s (final snapshots after a graceful stop)"
                : d(rpo) + " (age of the oldest recovery point at the start)").append('\n');
        if (phase == Phase.FAILED_OVER) {
            b.append("Next:      commit or roll back; ").append(autoRollbackAt != null ? "rolled back automatically at " + autoRollbackAt
                    + " unless committed before" : kind.graceful() ? "no automatic rollback (the plan sets no autoRollbackAfter)"
                    : "a forced failover is never rolled back automatically").append('\n');
        }
        b.append("\nEarly preparations (in parallel)\n");
        for (WorkloadLine w : workloads) {
            b.append(String.format("  %-16s %-10s %s", w.name(), result(w.preparation()), took(w.preparation())).stripTrailing()).append('\n');
        }
        b.append("\nSteps\n");
        for (StepLine s : steps) {
            b.append(String.format("  %2d %-24s %-9s %-15s %-8s %s", s.number(), s.name(), s.kind(), s.status().name().toLowerCase(Locale.ROOT),
                    s.took() != null ? d(s.took()) : "", s.message() != null ? s.message() : "").stripTrailing()).append('\n');
            if (s.revert() != null) {
                // what a rollback did with this step (a DNS record put back), beside what the run did
                b.append(String.format("  %2s %-24s %-9s %-15s %-8s %s", "", "", "", s.revert().running() ? "rolling back"
                        : s.revert().ok() ? "rolled back" : "rollback failed", "", s.revert().message() != null ? s.revert().message() : "")
                        .stripTrailing()).append('\n');
            }
        }
        b.append("\nWorkloads\n");
        for (WorkloadLine w : workloads) {
            String point = w.point() == null ? "" : "point " + w.point().snapshot() + " of " + w.point().time()
                    + (w.pointAge() != null ? " (" + d(w.pointAge()) + " old)" : w.finalSnapshot() != null ? " (final snapshot)" : "");
            String state = w.upAfter() != null ? "up after " + d(w.upAfter()) : w.failure() != null ? w.failure() : "";
            String detail = state.isEmpty() || point.isEmpty() ? state + point : state + "; " + point;
            b.append(String.format("  %-16s %-10s %-20s %s", w.name(), w.status().name().toLowerCase(Locale.ROOT), "step '" + w.bootStep() + "'",
                    detail).stripTrailing()).append('\n');
        }
        if (!skipped.isEmpty()) {
            b.append("\nSkipped\n");
            skipped.forEach(s -> b.append("  ").append(s).append('\n'));
        }
        if (!failed.isEmpty()) {
            b.append("\nFailed\n");
            failed.forEach(s -> b.append("  ").append(s).append('\n'));
        }
        return b.toString();
    }

    private static Duration max0(Duration d) {
        return d.isNegative() ? Duration.ZERO : d;
    }

    private static String result(Result r) {
        // an action the run's end cancelled did not fail: say so, as the workloads list does
        return r == null ? "-" : r.running() ? "running" : r.ok() ? "ok" : r.cancelled() ? "cancelled" : "failed";
    }

    private static String took(Result r) {
        return r == null || r.took() == null ? "" : d(r.took());
    }

    private static String d(Duration x) {
        if (x.isNegative()) {
            return "-" + d(x.negated());
        }
        if (x.getSeconds() == 0) {
            return x.toMillis() + "ms";
        }
        return DurationText.format(Duration.ofSeconds(x.getSeconds()));
    }
}
