package io.haven.runbook.run;

import java.time.Instant;
import java.util.List;

/**
 * One workload in a run: its status at the target site and the result of every action taken
 * on it, for the report and for undoing them.
 *
 * @param bootStep index in the runbook of the boot step that starts it
 * @param point the recovery point its copy holds (from preparation, or the final snapshot)
 * @param sourceStop stopping it at the source site (graceful kinds)
 * @param start starting it at the target site
 * @param probe its probe, from start until green (or given up)
 * @param greenAt when its probe turned green
 * @param targetStarted the run started it at the target site and no rollback stopped it since
 * @param sourceStopped the run stopped it at the source site and no rollback restarted it since
 * @param rollbackStop stopping it at the target site in a rollback
 * @param rollbackStart starting it at the source site again in a rollback, until its probe there is green
 */
public record WorkloadRun(String name, int bootStep, WorkloadStatus status, Result prepare, RecoveryPoint point, Result sourceStop,
        Result finalSnapshot, Result apply, Result start, Result probe, String lastProbeMessage, Instant greenAt, List<Result> postBoot,
        boolean targetStarted, boolean sourceStopped, Result rollbackStop, Result rollbackStart, String failure) {
    public WorkloadRun {
        postBoot = List.copyOf(postBoot);
    }
}
