package io.haven.runbook.run;

import io.haven.runbook.Direction;
import io.haven.runbook.DrPlan;
import io.haven.runbook.Step;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Everything known about one run of a plan, as an immutable value that {@link RunCodec} writes as
 * JSON. The executor stores it after every transition; a server that restarts reads it back and
 * sends {@link Event.Resumed}. The plan is copied in at creation, so editing the plan never
 * changes a run under way.
 *
 * @param sourceSite where the service runs before the run (the recovery site for a failback)
 * @param targetSite where the run brings it up
 * @param direction which DNS values the run writes
 * @param pointAt the recovery point asked for at start (null: newest)
 * @param stepIndex the runbook step running, -1 before the steps, the step count after them
 * @param outstanding commands issued and not yet answered, in issue order
 * @param sourceFenced this run fenced the source site and no rollback lifted it since
 * @param targetFenceLifted this run (a failback) lifted the target site's fence and no rollback restored it
 * @param endAfterCleanup drills: the phase to end in once the sandbox is gone
 * @param failure why the run failed or was aborted (the latest reason), or null
 * @param rollbackAttempt how many rollbacks were started (command ids of a retried rollback differ)
 */
public record RunState(String runId, RunKind kind, DrPlan plan, String sourceSite, String targetSite, Direction direction,
        Phase phase, Instant createdAt, String startedBy, Instant startedAt, Instant pointAt, Instant failedOverAt, Instant endedAt,
        int stepIndex, List<StepRun> steps, List<WorkloadRun> workloads, List<Command> outstanding, boolean sourceFenced,
        boolean targetFenceLifted, Phase endAfterCleanup, String failure, int rollbackAttempt, List<LogEntry> log) {
    public RunState {
        if (runId == null || runId.isBlank() || kind == null || plan == null || phase == null || createdAt == null) {
            throw new IllegalArgumentException("a run needs an id, a kind, a plan, a phase and its creation time");
        }
        steps = List.copyOf(steps);
        workloads = List.copyOf(workloads);
        outstanding = List.copyOf(outstanding);
        log = List.copyOf(log);
    }

    /** A new run of {@code plan}, not started: send {@link Event.Started}. */
    public static RunState create(String runId, DrPlan plan, RunKind kind, Instant at) {
        boolean back = kind == RunKind.FAILBACK;
        List<StepRun> steps = new ArrayList<>();
        List<Step> all = plan.runbook().steps();
        for (int i = 0; i < all.size(); i++) {
            steps.add(new StepRun(i, all.get(i).name(), all.get(i).kind(), StepStatus.PENDING, null, null, null, null));
        }
        List<WorkloadRun> workloads = new ArrayList<>();
        for (String w : plan.workloadNames()) {
            Step.BootStep boot = plan.runbook().bootStepOf(w).orElseThrow();
            workloads.add(new WorkloadRun(w, plan.runbook().indexOf(boot.name()), WorkloadStatus.PENDING, null, null, null, null, null, null,
                    null, null, null, List.of(), false, false, null, null, null));
        }
        return new RunState(runId, kind, plan, back ? plan.recoverySite() : plan.protectedSite(),
                back ? plan.protectedSite() : plan.recoverySite(), back ? Direction.TO_PROTECTED : Direction.TO_RECOVERY, Phase.CREATED,
                at, null, null, null, null, null, -1, steps, workloads, List.of(), false, false, null, null, 0,
                List.of(new LogEntry(at, kind.name().toLowerCase(Locale.ROOT) + " run of plan " + plan.name() + " v" + plan.version() + " created")));
    }

    public Optional<WorkloadRun> workload(String name) {
        return workloads.stream().filter(w -> w.name().equals(name)).findFirst();
    }

    /** True once the run is in an end phase. */
    public boolean ended() {
        return phase.ended();
    }
}
