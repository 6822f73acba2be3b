package io.haven.server.job;

import io.haven.repository.Repository;
import io.haven.repository.maintenance.Pruner;
import io.haven.repository.maintenance.Retention;
import io.haven.repository.maintenance.RetentionPolicy;
import io.haven.server.inventory.PolicySpec;
import io.haven.server.repo.Repositories;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Retention on the server: {@code forget} by a policy's rules, for each of its workloads (snapshots
 * tagged {@code workload:NAME}, grouped by host and paths), then {@code prune}. Only the server's
 * maintenance deletes from a repository; agents cannot. Both steps are crash-safe in the repository
 * engine, so a server killed in the middle leaves a repository the next run finishes.
 */
final class Maintenance {
    private final Repositories repositories;
    private final String serverName;

    Maintenance(Repositories repositories, String serverName) {
        this.repositories = repositories;
        this.serverName = serverName;
    }

    /** Runs one maintenance job; returns its result object. Lines go to {@code log}. */
    Map<String, Object> run(String repository, JobSpec.Maintenance m, ZoneId zone, Consumer<String> log) {
        PolicySpec.Retention r = m.retention();
        RetentionPolicy policy = r.rules();
        Map<String, Object> out = new LinkedHashMap<>();
        try (Repository repo = repositories.open(repository)) {
            List<Repository.SnapshotEntry> all = repo.snapshots();
            List<String> removed = new ArrayList<>();
            for (String tag : m.workloadTags()) {
                List<Repository.SnapshotEntry> mine = all.stream().filter(e -> e.snapshot().tags().contains(tag)).toList();
                for (Retention.Group g : Retention.apply(mine, policy, EnumSet.of(Retention.GroupBy.HOST, Retention.GroupBy.PATHS), zone)) {
                    for (Repository.SnapshotEntry e : g.remove()) {
                        repo.backend().delete("snapshots/" + e.id().hex());
                        removed.add(e.id().hex());
                    }
                    log.accept(tag + ": kept " + g.keep().size() + ", removed " + g.remove().size());
                }
            }
            out.put("snapshotsRemoved", removed);
            Pruner.Result pr = new Pruner(repo, new Pruner.Options(0.2, false, Duration.ZERO, 2, serverName), log::accept).run();
            out.put("packsDeleted", pr.packsDeleted());
            out.put("bytesDeleted", pr.bytesDeleted());
            out.put("packsRepacked", pr.packsRepacked());
            out.put("waitingFor", pr.waitingFor().size());
            log.accept("prune: deleted " + pr.packsDeleted() + " pack(s), " + pr.bytesDeleted() + " bytes; repacked " + pr.packsRepacked());
        }
        return out;
    }
}
