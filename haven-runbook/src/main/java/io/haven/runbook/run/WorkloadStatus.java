package io.haven.runbook.run;

/** Where a workload's copy at the run's target site is. */
public enum WorkloadStatus {
    PENDING,
    PREPARING,
    PREPARED,
    STARTING,
    /** Started; waiting for its probe to turn green. */
    PROBING,
    /** Green; running its post-boot scripts. */
    POST_BOOT,
    READY,
    FAILED,
    /** Was in progress when the run failed elsewhere or was aborted. */
    CANCELLED,
    /** Stopped again by a rollback. */
    STOPPED
}
