package io.haven.repository.archiver;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * What to back up and how.
 *
 * @param paths absolute paths to back up
 * @param time the snapshot time, or null for now
 * @param threads workers that read and pack files
 * @param estimate whether to count files and bytes ahead, for progress with an ETA
 */
public record BackupOptions(List<Path> paths, String host, String username, long uid, long gid, List<String> tags,
        List<String> excludes, boolean force, Instant time, int threads, boolean estimate, String programVersion) {
    public BackupOptions {
        if (paths == null || paths.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "nothing to back up: give at least one path");
        }
        paths = paths.stream().map(p -> p.toAbsolutePath().normalize()).distinct().toList();
        tags = tags == null ? List.of() : List.copyOf(tags);
        excludes = excludes == null ? List.of() : List.copyOf(excludes);
        if (threads < 1) {
            throw new HavenException(ErrorCode.USAGE, "threads must be at least 1");
        }
    }
}
