package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/**
 * A backend failure that may go away if the same operation is tried again: a refused or reset
 * connection, a timeout, an HTTP 5xx or a throttling answer. Its code is {@link ErrorCode#IO}, so
 * code that does not retry treats it like any other I/O failure; {@link RetryingBackend} retries
 * it. Every other {@link HavenException} from a backend is permanent.
 *
 * <p>A subclass rather than a new {@link ErrorCode}: the code says what kind of failure a person or
 * script sees (an I/O failure either way), while "worth another try" matters only between a backend
 * and its retry decorator, and must not leak into {@code --json} output once retries are spent.
 */
public class TransientBackendException extends HavenException {
    public TransientBackendException(String message) {
        super(ErrorCode.IO, message);
    }

    public TransientBackendException(String message, Throwable cause) {
        super(ErrorCode.IO, message, cause);
    }
}
