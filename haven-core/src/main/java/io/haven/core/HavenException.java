package io.haven.core;

/**
 * The one unchecked error root of Haven. The message is written for an operator: what failed,
 * on what, and what to do. The CLI prints it on one line (with the stack only under
 * {@code --debug}).
 */
public class HavenException extends RuntimeException {
    private final ErrorCode code;

    public HavenException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public HavenException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
