package io.haven.runbook;

import java.time.Duration;

/**
 * A command run on a workload's host after its probe turned green, before the workload counts
 * as ready. With {@code abortOnFailure} a failure (non-zero exit, or still running at the
 * timeout) fails the workload and so the run; without it the failure is reported and the run
 * goes on.
 */
public record PostBootScript(String command, Duration timeout, boolean abortOnFailure) {
    public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);
    public static final Duration MAX_TIMEOUT = Duration.ofHours(24);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    public PostBootScript {
        Checks c = new Checks();
        c.text("command", command);
        c.range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
        c.done();
    }
}
