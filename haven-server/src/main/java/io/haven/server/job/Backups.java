package io.haven.server.job;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Messages;
import io.haven.server.agent.Agents;
import io.haven.server.inventory.Inventory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Handle;

/**
 * Makes backup jobs, by hand ({@code backup now}) or from a policy's schedule, applying the
 * scheduler's rules:
 * <ul>
 *   <li>a <b>scheduled</b> backup whose agent is offline (for a pool: no eligible agent online) is
 *       not queued but recorded as {@code missed};
 *   <li>a <b>backup now</b> whose agent is offline is queued and starts when the agent returns;
 *   <li>a pooled workload's job waits unassigned and goes to the least-loaded eligible agent
 *       ({@link Jobs#claimFor}).
 * </ul>
 * Snapshots are tagged {@code workload:NAME} and {@code policy:NAME} and carry the workload's name
 * as their host, so a pooled workload backed up by different agents keeps one chain of parents
 * (the first backup is full, the later ones read only changed files). Thread-safe.
 */
public final class Backups {
    private final Inventory inventory;
    private final Agents agents;
    private final Jobs jobs;

    public Backups(Inventory inventory, Agents agents, Jobs jobs) {
        this.inventory = inventory;
        this.agents = agents;
        this.jobs = jobs;
    }

    /** A backup-now request. {@code policyName} may be null when exactly one policy covers the workload. */
    public Jobs.Job now(String workloadName, String policyName, boolean force, String requestedBy) {
        Inventory.Workload w = inventory.workload(workloadName);
        Inventory.Policy p = policyFor(w, policyName);
        if (w.agentId() != null) {
            // an offline agent's job waits for it; a disabled or revoked one would never take it (and must not get the password)
            Agents.Agent a = agents.find(w.agentId()).orElseThrow();
            if (a.state() != Agents.State.ACTIVE) {
                throw new HavenException(ErrorCode.CONFLICT, "workload '" + w.name() + "' runs on agent '" + a.name() + "', which is "
                        + a.state().label() + (a.state() == Agents.State.DISABLED ? "; enable it first (haven agent enable " + a.name() + ")"
                        : "; enrol the host again and move the workload to it"));
            }
        }
        return jobs.create(newJob(w, p, "manual", requestedBy, force, Jobs.State.QUEUED, null));
    }

    /** The policy a workload's backups follow. */
    public Inventory.Policy policyFor(Inventory.Workload w, String policyName) {
        List<Inventory.Policy> ps = inventory.policiesFor(w);
        if (policyName != null) {
            return ps.stream().filter(p -> p.name().equals(policyName)).findFirst().orElseThrow(() -> new HavenException(ErrorCode.USAGE,
                    "policy '" + policyName + "' does not cover workload '" + w.name() + "' (its group does not hold the workload's host)"));
        }
        if (ps.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "no policy covers workload '" + w.name() + "': add its host to a group "
                    + "with a policy (the policy names the repository)");
        }
        if (ps.size() > 1) {
            throw new HavenException(ErrorCode.USAGE, "several policies cover workload '" + w.name() + "' ("
                    + String.join(", ", ps.stream().map(Inventory.Policy::name).toList()) + "); name one with 'policy'");
        }
        return ps.get(0);
    }

    /**
     * The jobs of one scheduled tick of a policy, inserted in the caller's transaction (the one that
     * claimed the tick): queued, or missed when no agent that could run it is online.
     */
    public List<Jobs.NewJob> scheduled(Inventory.Policy p, Instant now) {
        List<Jobs.NewJob> out = new ArrayList<>();
        for (Inventory.Workload w : inventory.workloadsOf(p)) {
            String offline = offlineReason(w, now);
            out.add(newJob(w, p, "schedule", "scheduler", false, offline == null ? Jobs.State.QUEUED : Jobs.State.MISSED,
                    offline == null ? null : "missed: " + offline));
        }
        return out;
    }

    /** Inserts jobs in a transaction. */
    public List<Long> insert(Handle h, List<Jobs.NewJob> js) {
        List<Long> ids = new ArrayList<>();
        for (Jobs.NewJob j : js) {
            ids.add(jobs.insert(h, j));
        }
        return ids;
    }

    private String offlineReason(Inventory.Workload w, Instant now) {
        if (w.agentId() != null) {
            Agents.Agent a = agents.find(w.agentId()).orElse(null);
            if (a == null || a.state() != Agents.State.ACTIVE) {
                return "agent " + (a == null ? w.agentId() : a.name()) + " is " + (a == null ? "gone" : a.state().label());
            }
            return a.online(now, agents.offlineAfter()) ? null : "agent " + a.name() + " is offline (last seen "
                    + (a.lastSeenAt() == null ? "never" : a.lastSeenAt().toString()) + ")";
        }
        Inventory.Group g = inventory.group(w.poolGroup());
        for (String member : g.members()) {
            Agents.Agent a = agents.get(member);
            if (a.state() == Agents.State.ACTIVE && a.online(now, agents.offlineAfter())) {
                return null;
            }
        }
        return "no agent of pool '" + g.name() + "' is online";
    }

    private static Jobs.NewJob newJob(Inventory.Workload w, Inventory.Policy p, String origin, String by, boolean force, Jobs.State state,
            String message) {
        List<String> excludes = new ArrayList<>(p.spec().excludes());
        excludes.addAll(w.spec().excludes());
        Messages.BackupSpec spec = new Messages.BackupSpec(w.name(), w.name(), w.spec().paths(), excludes,
                List.of("workload:" + w.name(), "policy:" + p.name()), p.spec().bandwidthLimit(), force);
        return new Jobs.NewJob("backup", state, origin, by, w.id(), p.id(), p.repositoryId(), w.agentId(),
                new JobSpec(spec, null, null, w.poolGroupId()), message);
    }
}
