package io.haven.core;

/**
 * What kind of failure a {@link HavenException} reports. Scripts see the code in {@code --json}
 * error output; people see the message.
 */
public enum ErrorCode {
    /** The command line or a configuration value is wrong. */
    USAGE,
    /** No repository at the given location. */
    REPOSITORY_NOT_FOUND,
    /** {@code init} on a location that already holds something. */
    REPOSITORY_EXISTS,
    /** No key of the repository opens with the given password. */
    WRONG_PASSWORD,
    /** Stored data failed authentication, a hash check or decoding. */
    CORRUPT,
    /** A named snapshot, key or path does not exist. */
    NOT_FOUND,
    /** The target of a restore is unusable (not a directory, not writable, not enough room). */
    TARGET_UNUSABLE,
    /** An entry would be written outside the restore target. */
    UNSAFE_PATH,
    /** The operating system refused an operation. */
    IO,
    /** A bug: Haven reached a state it should not. */
    INTERNAL,
    /** Another process holds the operation back (another prune is running); the message names it. */
    BUSY,
    /** The data is in the cold tier and must be thawed first; the message says what to run. */
    COLD,
    /** A server request carried no valid credentials (HTTP 401). */
    UNAUTHENTICATED,
    /** The caller is known but its role does not allow the operation (HTTP 403). */
    FORBIDDEN,
    /** The thing to create already exists (a user name, say; HTTP 409). */
    CONFLICT
}
