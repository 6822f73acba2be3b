package io.haven.runbook.run;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/**
 * An event the run cannot take in its phase (commit before the failover finished, a forced
 * failover without confirmation, an answer of the wrong type). The state is unchanged. Code
 * {@link ErrorCode#CONFLICT} for "not now", {@link ErrorCode#USAGE} for a request that is wrong
 * in itself.
 */
public class RunRejectedException extends HavenException {
    private final Phase phase;

    public RunRejectedException(ErrorCode code, Phase phase, String message) {
        super(code, message);
        this.phase = phase;
    }

    /** The phase the run was in. */
    public Phase phase() {
        return phase;
    }
}
