package io.haven.core;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;

/**
 * Why a file operation failed, in words for a one-line message. The JDK's file exceptions often
 * carry only the path as their message ({@code NotDirectoryException}, {@code AccessDeniedException}
 * thrown by {@code Files.createDirectories}): the caller names the path, this names the reason.
 */
public final class IoReasons {
    private IoReasons() {}

    public static String of(IOException e) {
        return switch (e) {
            case AccessDeniedException x -> "permission denied";
            case NoSuchFileException x -> "no such file or directory";
            case NotDirectoryException x -> "not a directory";
            case DirectoryNotEmptyException x -> "directory not empty";
            case FileAlreadyExistsException x -> "already exists";
            case NotLinkException x -> "not a symbolic link";
            case FileSystemLoopException x -> "a loop of symbolic links";
            // without a reason, the message of these is only the path
            case FileSystemException f -> f.getReason() == null ? f.getClass().getSimpleName() : spaceOr(f.getReason());
            // FileChannel.write reports a full disk as a plain IOException
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : spaceOr(e.getMessage());
        };
    }

    private static String spaceOr(String reason) {
        return reason.contains("No space left") ? "no space left on device" : reason;
    }
}
