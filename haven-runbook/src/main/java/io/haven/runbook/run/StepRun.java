package io.haven.runbook.run;

import java.time.Instant;

/**
 * One runbook step in a run. {@code revert} is set when a rollback put a DNS update's record
 * back.
 */
public record StepRun(int index, String name, String kind, StepStatus status, Instant startedAt, Instant endedAt, String message,
        Result revert) {}
