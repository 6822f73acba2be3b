package io.haven.runbook;

/** What knows how to run a workload on a host (the agent's driver SPI). */
public enum Driver {
    /** A command with its data directories. */
    PROCESS("process"),
    /** A PostgreSQL cluster kept as a streaming standby; failover promotes it. */
    POSTGRES("postgres");

    private final String text;

    Driver(String text) {
        this.text = text;
    }

    /** The plan file's word for it. */
    public String text() {
        return text;
    }
}
