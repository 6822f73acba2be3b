package io.haven.repository.maintenance;

import java.util.List;

/**
 * What a process that writes to a repository announces in {@code writers/<id>} while it runs
 * (docs/repository-format.md §9). The object is rewritten at every heartbeat; its
 * last-modified time, on the backend's clock, is what tells a live writer from a dead one.
 *
 * @param kind {@code backup}, {@code prune}, {@code repair} …
 * @param condemnedSeen ids of the condemned sets this writer loaded with its index: it will not
 *     rely on any pack they name
 */
public record WriterMarker(int version, String kind, String host, long pid, String started, String heartbeat,
        List<String> condemnedSeen) {
    public WriterMarker {
        condemnedSeen = condemnedSeen == null ? List.of() : List.copyOf(condemnedSeen);
    }

    /** Whether this writer may still be running an operation of the maintenance kind (prune, repair). */
    public boolean isMaintenance() {
        // a cache sync writes like a backup (data, index, snapshot) and prune waits for it the same way
        return !"backup".equals(kind) && !"sync".equals(kind);
    }
}
