package io.haven.repository.restorer;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Path;
import java.util.List;

/**
 * How to restore.
 *
 * @param target the directory to restore into (created when missing)
 * @param subpath the path inside the snapshot to restore ("/" for all)
 * @param includes restore only entries matching (or inside, or on the way to) these patterns
 * @param excludes skip entries matching these patterns, and all inside them
 * @param ownerByName map owners by user and group name instead of numeric id
 */
public record RestoreOptions(Path target, String subpath, List<String> includes, List<String> excludes, boolean dryRun,
        boolean ownerByName, int threads) {
    public RestoreOptions {
        if (target == null) {
            throw new HavenException(ErrorCode.USAGE, "a restore needs a target directory (--target DIR)");
        }
        target = target.toAbsolutePath().normalize();
        subpath = subpath == null || subpath.isEmpty() ? "/" : subpath;
        includes = includes == null ? List.of() : List.copyOf(includes);
        excludes = excludes == null ? List.of() : List.copyOf(excludes);
        if (threads < 1) {
            throw new HavenException(ErrorCode.USAGE, "threads must be at least 1");
        }
    }
}
