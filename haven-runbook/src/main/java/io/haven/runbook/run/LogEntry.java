package io.haven.runbook.run;

import java.time.Instant;

/** One line of a run's history. */
public record LogEntry(Instant at, String message) {}
