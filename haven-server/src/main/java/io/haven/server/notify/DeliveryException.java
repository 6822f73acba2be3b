package io.haven.server.notify;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/**
 * One failed attempt to deliver: code IO, a message fit for the delivery record (it never holds
 * a secret or a webhook's path), and whether another attempt may succeed.
 */
public final class DeliveryException extends HavenException {
    private final boolean retryable;

    DeliveryException(String message, boolean retryable, Throwable cause) {
        super(ErrorCode.IO, message, cause);
        this.retryable = retryable;
    }

    /** True for failures that may pass (no connection, time-outs, 5xx, 429); false for refusals (4xx, bad login). */
    public boolean retryable() {
        return retryable;
    }

    /** The distinct messages of a cause chain, outermost first, or the type when there is none. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m == null || m.isBlank()) {
                continue;
            }
            m = m.strip();
            if (sb.indexOf(m) < 0) {
                sb.append(sb.length() == 0 ? "" : ": ").append(m);
            }
        }
        return sb.length() == 0 ? e.getClass().getSimpleName() : sb.toString();
    }
}
