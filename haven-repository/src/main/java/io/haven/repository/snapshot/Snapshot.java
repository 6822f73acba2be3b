package io.haven.repository.snapshot;

import java.util.List;

/**
 * A snapshot as stored (docs/repository-format.md §8). Times are RFC 3339 strings with
 * nanoseconds; ids are hex.
 */
public record Snapshot(int version, String time, String tree, List<String> paths, String host, String username,
        long uid, long gid, List<String> tags, List<String> excludes, String parent, String programVersion,
        Summary summary) {

    public Snapshot {
        paths = paths == null ? List.of() : List.copyOf(paths);
        tags = tags == null ? List.of() : List.copyOf(tags);
        excludes = excludes == null ? List.of() : List.copyOf(excludes);
    }

    /** What a backup did, stored with the snapshot and printed by {@code backup --json}. */
    public record Summary(long filesNew, long filesChanged, long filesUnmodified, long dirs, long bytesProcessed,
            long bytesAdded, long totalFiles, long totalBytes, double durationSeconds, List<Missed> missed) {
        public Summary {
            missed = missed == null ? List.of() : List.copyOf(missed);
        }
    }

    /** A path the backup could not read, and why. */
    public record Missed(String path, String reason) {}
}
