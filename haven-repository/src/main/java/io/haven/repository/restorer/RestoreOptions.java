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
 * @param sync make the target equal to the snapshot (path) by changing only what differs:
 *     files already there with the same size and modification time are kept, entries the
 *     snapshot does not have are deleted (see docs/fidelity.md, "Sync restore")
 * @param verify with {@code sync}: decide whether a file is unchanged by hashing its chunks
 *     against the snapshot's chunk ids instead of by its modification time
 * @param noSpaceCheck restore even when the free space of the target looks too small: the
 *     estimate counts a file's holes only where a whole chunk is zeros, so it can exceed what a
 *     sparse file really takes (a failed write still stops the restore with a clear error)
 */
public record RestoreOptions(Path target, String subpath, List<String> includes, List<String> excludes, boolean dryRun,
        boolean ownerByName, int threads, boolean sync, boolean verify, boolean noSpaceCheck) {
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
        if (verify && !sync) {
            throw new HavenException(ErrorCode.USAGE, "--verify applies to a sync restore only (add --sync)");
        }
        if (sync && (!includes.isEmpty() || !excludes.isEmpty())) {
            // a sync deletes what the snapshot does not have; with filters, "not in the snapshot"
            // and "filtered out" cannot be told apart
            throw new HavenException(ErrorCode.USAGE, "a sync restore cannot be combined with --include or --exclude:"
                    + " it deletes what the snapshot does not have, and filtered-out entries would count as such;"
                    + " sync a path instead (SNAPSHOT:PATH)");
        }
    }

    /** With the free-space check. */
    public RestoreOptions(Path target, String subpath, List<String> includes, List<String> excludes, boolean dryRun,
            boolean ownerByName, int threads, boolean sync, boolean verify) {
        this(target, subpath, includes, excludes, dryRun, ownerByName, threads, sync, verify, false);
    }

    /** A full restore: every entry is written, nothing is deleted. */
    public RestoreOptions(Path target, String subpath, List<String> includes, List<String> excludes, boolean dryRun,
            boolean ownerByName, int threads) {
        this(target, subpath, includes, excludes, dryRun, ownerByName, threads, false, false);
    }

    /** These options as a sync restore, verifying content by hashing when {@code verify}. */
    public RestoreOptions withSync(boolean verify) {
        return new RestoreOptions(target, subpath, includes, excludes, dryRun, ownerByName, threads, true, verify, noSpaceCheck);
    }
}
