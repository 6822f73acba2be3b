package io.haven.runbook.run;

/** What a run does. Commit and roll back are not kinds: they are what an operator does to a failed-over run. */
public enum RunKind {
    /** A drill: sandbox copies at the recovery site, production and replication untouched, always cleaned up. */
    TEST,
    /** The protected site is up: stop it gracefully, take and apply a final snapshot, boot at the recovery site. No data lost. */
    PLANNED,
    /** The protected site is gone: fence it, boot the chosen recovery point at the recovery site. Needs explicit confirmation. */
    FORCED,
    /** Back home after a committed failover: reprotect (replicate in reverse), then a planned failover to the protected site. */
    FAILBACK;

    /** True when the run works on sandbox copies and ends by removing them. */
    public boolean drill() {
        return this == TEST;
    }

    /** True when the run stops the source site's workloads and moves a final snapshot (no data loss). */
    public boolean graceful() {
        return this == PLANNED || this == FAILBACK;
    }
}
