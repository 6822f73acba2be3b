package io.haven.server.inventory;

import java.util.List;

/** A file-set workload's paths and excludes, stored as JSON in {@code workloads.spec}. */
public record WorkloadSpec(List<String> paths, List<String> excludes) {
    public WorkloadSpec {
        paths = paths == null ? List.of() : List.copyOf(paths);
        excludes = excludes == null ? List.of() : List.copyOf(excludes);
    }
}
