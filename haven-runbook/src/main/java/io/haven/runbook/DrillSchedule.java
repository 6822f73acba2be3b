package io.haven.runbook;

import java.time.DateTimeException;
import java.time.ZoneId;

/**
 * When the server starts a drill of a plan by itself ({@code drills:} in the plan file): a
 * 5-field cron expression or {@code every N} with a unit {@code m}, {@code h} or {@code d}, in a
 * time zone (UTC when left out). The server checks the expression itself (its scheduler is the
 * backup policies' one) when the plan is applied; this record checks only that both are given.
 */
public record DrillSchedule(String schedule, String timeZone) {
    public DrillSchedule {
        Checks c = new Checks();
        c.text("schedule", schedule);
        if (timeZone != null) {
            try {
                ZoneId.of(timeZone);
            } catch (DateTimeException e) {
                c.add("timeZone", "must be a time zone such as Europe/Berlin or UTC, not \"" + timeZone + "\"");
            }
        }
        c.done();
    }

    /** The zone's name, UTC when none was given. */
    public String zone() {
        return timeZone == null ? "UTC" : timeZone;
    }
}
