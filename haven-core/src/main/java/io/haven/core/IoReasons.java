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
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotLinkException) {
            return "not a symbolic link";
        }
        if (e instanceof FileSystemLoopException) {
            return "a loop of symbolic links";
        }
        if (e instanceof FileSystemException f) {
            if (f.getReason() != null) {
                return f.getReason().contains("No space left") ? "no space left on device" : f.getReason();
            }
            return f.getClass().getSimpleName(); // its message is only the path
        }
        if (e.getMessage() == null) {
            return e.getClass().getSimpleName();
        }
        // FileChannel.write reports a full disk as a plain IOException
        return e.getMessage().contains("No space left") ? "no space left on device" : e.getMessage();
    }
}
