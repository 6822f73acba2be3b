package io.haven.server.dr;

import java.time.InstantSource;
import java.util.List;
import org.jdbi.v3.core.Jdbi;

/**
 * Fences: a DR plan fenced at a site may not start its workloads there. A forced or planned
 * failover fences the site it leaves, so a site that comes back after a disaster cannot start the
 * plan's workloads beside the recovered ones (no split brain); a rollback or failback lifts it.
 * The executor refuses to start a workload at a fenced site, and every agent of the site hears of
 * the fence with each task batch and heartbeat reply and refuses too (docs/runbooks.md).
 */
public final class Fences {
    private final Jdbi jdbi;
    private final InstantSource clock;

    public Fences(Jdbi jdbi, InstantSource clock) {
        this.jdbi = jdbi;
        this.clock = clock;
    }

    /** Fences {@code plan} at {@code site} (again: no change). */
    public void fence(String plan, String site, String runId) {
        jdbi.useTransaction(h -> {
            int n = h.createUpdate("UPDATE dr_fences SET run_id = :r WHERE plan_name = :p AND site_name = :s")
                    .bind("p", plan).bind("s", site).bind("r", runId).execute();
            if (n == 0) {
                h.createUpdate("INSERT INTO dr_fences (plan_name, site_name, run_id, created_at) VALUES (:p, :s, :r, :now)")
                        .bind("p", plan).bind("s", site).bind("r", runId).bind("now", clock.millis()).execute();
            }
        });
    }

    /** Lifts the fence of {@code plan} at {@code site} (none: no change). */
    public void lift(String plan, String site) {
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM dr_fences WHERE plan_name = :p AND site_name = :s")
                .bind("p", plan).bind("s", site).execute());
    }

    public boolean fenced(String plan, String site) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM dr_fences WHERE plan_name = :p AND site_name = :s")
                .bind("p", plan).bind("s", site).mapTo(Integer.class).one()) > 0;
    }

    /** The sites where {@code plan} is fenced. */
    public List<String> sitesOf(String plan) {
        return jdbi.withHandle(h -> h.createQuery("SELECT site_name FROM dr_fences WHERE plan_name = :p ORDER BY site_name")
                .bind("p", plan).mapTo(String.class).list());
    }

    /** The plans fenced at the site of agent {@code agentId} (none when it has no site). */
    public List<String> fencedFor(long agentId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT f.plan_name FROM dr_fences f JOIN sites s ON s.name = f.site_name "
                        + "JOIN agents a ON a.site_id = s.id WHERE a.id = :a ORDER BY f.plan_name")
                .bind("a", agentId).mapTo(String.class).list());
    }
}
