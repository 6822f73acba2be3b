package io.haven.runbook.run;

/** Where one runbook step is in a run. */
public enum StepStatus {
    PENDING,
    RUNNING,
    SUCCEEDED,
    /** Failed and ended the run. */
    FAILED,
    /** Failed without {@code abortOnFailure}: reported, the run went on. */
    FAILED_IGNORED,
    /** Not run: left out of a drill. */
    SKIPPED,
    /** Was running when the run failed elsewhere or was aborted. */
    CANCELLED
}
