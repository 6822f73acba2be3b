package io.haven.runbook;

/** How a plan keeps the DR copies at the recovery site. */
public enum Mode {
    /** Hydrated at failover time from the repository: cheapest, slower recovery. */
    AS_NEEDED("as-needed"),
    /** Kept hydrated as each new snapshot lands, by applying what changed: near-zero RTO. */
    CONTINUOUS("continuous");

    private final String text;

    Mode(String text) {
        this.text = text;
    }

    /** The plan file's word for it. */
    public String text() {
        return text;
    }
}
