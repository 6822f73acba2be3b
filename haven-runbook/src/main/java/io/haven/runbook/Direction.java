package io.haven.runbook;

/** Which way a run moves a plan's service, and so which value a DNS update writes. */
public enum Direction {
    /** From the protected site to the recovery site (failover). */
    TO_RECOVERY,
    /** From the recovery site back to the protected site (failback, or rolling a failover back). */
    TO_PROTECTED;

    public Direction reverse() {
        return this == TO_RECOVERY ? TO_PROTECTED : TO_RECOVERY;
    }
}
