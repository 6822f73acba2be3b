package io.haven.runbook.run;

/**
 * Where a run is. The order of a kind's phases:
 *
 * <ul>
 *   <li>TEST: CREATED, PREPARING, RUNNING_STEPS, CLEANING_UP, then SUCCEEDED, FAILED or ABORTED.
 *   <li>PLANNED: CREATED, PREPARING, STOPPING, FENCING, FINAL_SNAPSHOT, APPLYING, RUNNING_STEPS, FAILED_OVER.
 *   <li>FORCED: CREATED, FENCING, PREPARING, RUNNING_STEPS, FAILED_OVER.
 *   <li>FAILBACK: CREATED, REPROTECTING, then as PLANNED with the sites swapped.
 *   <li>From FAILED_OVER: COMMITTED, or ROLLING_BACK then ROLLED_BACK. A failover that FAILED or was
 *       ABORTED can be rolled back too.
 * </ul>
 *
 * docs/runbooks.md has the full transition table.
 */
public enum Phase {
    CREATED,
    /** Failback: replicating from the recovery site back to the protected site until in sync. */
    REPROTECTING,
    /** Early preparations: every workload's copy at the target site made ready in parallel. */
    PREPARING,
    /** Graceful kinds: the source site's workloads stopped, boot steps in reverse order. */
    STOPPING,
    /** The source site fenced (its agents will not start the plan's workloads); for a failback, the target unfenced. */
    FENCING,
    /** Graceful kinds: a final snapshot of each stopped workload. */
    FINAL_SNAPSHOT,
    /** Graceful kinds: the final snapshots applied to the prepared copies. */
    APPLYING,
    /** The runbook, step by step. */
    RUNNING_STEPS,
    /** Drills: the sandbox removed, whatever happened before. */
    CLEANING_UP,
    /** The service runs at the target site; waits for commit or rollback (not an end). */
    FAILED_OVER,
    /** Undoing what the run did, newest first. */
    ROLLING_BACK,
    /** A drill that passed and cleaned up. */
    SUCCEEDED,
    COMMITTED,
    ROLLED_BACK,
    FAILED,
    ABORTED;

    /** True for the phases a run ends in (a failed or aborted failover may still be rolled back). */
    public boolean ended() {
        return switch (this) {
            case SUCCEEDED, COMMITTED, ROLLED_BACK, FAILED, ABORTED -> true;
            case CREATED, REPROTECTING, PREPARING, STOPPING, FENCING, FINAL_SNAPSHOT, APPLYING, RUNNING_STEPS, CLEANING_UP,
                    FAILED_OVER, ROLLING_BACK -> false;
        };
    }
}
