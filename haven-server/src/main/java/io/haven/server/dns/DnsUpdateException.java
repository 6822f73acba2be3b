package io.haven.server.dns;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/**
 * A DNS update that did not happen, or did not take effect. {@link #failure()} says which case
 * it is; {@link #isTransient()} whether trying again later may succeed. The message names the
 * record, the server and what to do.
 */
public final class DnsUpdateException extends HavenException {
    /** Why an update failed. */
    public enum Failure {
        /** The server did not accept the TSIG signature: BADSIG (wrong secret or algorithm), BADKEY (unknown key name) or BADTIME (clocks apart). */
        TSIG_REJECTED(ErrorCode.UNAUTHENTICATED, false),
        /** The server refused: its update-policy or allow-update does not grant the key this name and type. */
        REFUSED(ErrorCode.FORBIDDEN, false),
        /** The server is not authoritative for the zone, or the zone does not exist there. */
        NO_SUCH_ZONE(ErrorCode.NOT_FOUND, false),
        /** The prerequisite did not hold: the record is not what the change expected, and nothing was changed. */
        PREREQUISITE_FAILED(ErrorCode.CONFLICT, false),
        /** No answer within the timeout, connection refused, or the server's name did not resolve. */
        UNREACHABLE(ErrorCode.IO, true),
        /** The server answered SERVFAIL (a zone not loaded, a journal it cannot write). */
        SERVER_FAILURE(ErrorCode.IO, true),
        /** The server accepted the update, but a query afterwards shows other values or TTL. */
        NOT_APPLIED(ErrorCode.IO, false),
        /** The answer was unsigned, did not verify, or was an error such as FORMERR or NOTIMP. */
        BAD_RESPONSE(ErrorCode.IO, false);

        private final ErrorCode code;
        private final boolean transientFailure;

        Failure(ErrorCode code, boolean transientFailure) {
            this.code = code;
            this.transientFailure = transientFailure;
        }
    }

    private final Failure failure;

    DnsUpdateException(Failure failure, String message) {
        super(failure.code, message);
        this.failure = failure;
    }

    DnsUpdateException(Failure failure, String message, Throwable cause) {
        super(failure.code, message, cause);
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }

    /** True when the same update may succeed if tried again later (UNREACHABLE, SERVER_FAILURE). */
    public boolean isTransient() {
        return failure.transientFailure;
    }
}
