package io.haven.runbook.run;

import java.time.Duration;
import java.time.Instant;

/** The outcome of one action of a run, with its times. {@code endedAt} null means still running (then {@code ok} is false). */
public record Result(Instant startedAt, Instant endedAt, boolean ok, String message) {
    public Result {
        if (startedAt == null) {
            throw new IllegalArgumentException("a result needs its start time");
        }
    }

    /** The message of an action that the run's end (a failure, an abort, a rollback) cancelled before it answered. */
    static final String CANCELLED = "cancelled";

    static Result running(Instant at) {
        return new Result(at, null, false, null);
    }

    Result finish(Instant at, boolean success, String text) {
        return new Result(startedAt, at, success, text);
    }

    public boolean running() {
        return endedAt == null;
    }

    /** True when the run cancelled it before it answered: it neither succeeded nor failed. */
    public boolean cancelled() {
        return endedAt != null && !ok && CANCELLED.equals(message);
    }

    /** How long it took, or null while running. */
    public Duration took() {
        return endedAt == null ? null : Duration.between(startedAt, endedAt);
    }
}
