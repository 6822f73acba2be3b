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

    /**
     * Whether this snapshot matches a tag as selected on the command line or in a policy:
     * {@code a,b} means both tags a and b (backups split such a value into tags); a snapshot
     * whose single tag is literally {@code a,b} (stored before tags were split) matches too.
     */
    public boolean hasTags(String spec) {
        if (tags.contains(spec)) {
            return true;
        }
        for (String t : spec.split(",", -1)) {
            if (!tags.contains(t)) {
                return false;
            }
        }
        return true;
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
