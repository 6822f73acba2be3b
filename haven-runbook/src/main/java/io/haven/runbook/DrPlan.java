package io.haven.runbook;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A DR plan: which workloads of the protected site are kept recoverable at the recovery site,
 * how (mode, RPO target), and how to bring them up there (the runbook). Immutable and valid by
 * construction: the constructor checks every field and the cross rules (unique workload names,
 * every workload in exactly one boot step, boot steps naming only the plan's workloads) and throws
 * {@link PlanValidationException} with all problems. Plans change only by {@link PlanEdit}s,
 * each of which makes a new plan with {@code version + 1}.
 *
 * @param rpo the RPO target, which is also the replication frequency
 * @param autoRollbackAfter when set, a planned failover (or failback) that is neither committed
 *     nor rolled back this long after it finished is rolled back automatically; null for never.
 *     Forced failovers are never rolled back automatically.
 * @param version 1 for a new plan, +1 per edit
 * @param drills when the server runs a drill by itself; null for never
 * @param repository the server's repository that holds the workloads' recovery points; null for the server's only one
 * @param retention which of the plan's replication snapshots the server keeps; null for {@link CopyRetention#DEFAULT}
 */
public record DrPlan(String name, String protectedSite, String recoverySite, Mode mode, Duration rpo, List<Workload> workloads,
        Runbook runbook, Duration autoRollbackAfter, int version, String repository, DrillSchedule drills,
        CopyRetention retention) {
    public static final Duration MIN_RPO = Duration.ofSeconds(10);
    public static final Duration MAX_RPO = Duration.ofDays(7);
    public static final Duration MIN_AUTO_ROLLBACK = Duration.ofMinutes(1);
    public static final Duration MAX_AUTO_ROLLBACK = Duration.ofDays(30);

    public DrPlan {
        Checks c = new Checks();
        checkFields(c, false, name, protectedSite, recoverySite, mode, rpo, autoRollbackAfter, version, repository);
        boolean listed = c.list("workloads", workloads);
        if (listed && workloads.isEmpty()) {
            c.add("workloads", "a plan protects at least one workload");
        }
        if (c.present("runbook", runbook) && listed) {
            checkMembership(c, workloads.stream().map(Workload::name).toList(),
                    runbook.steps().stream().map(StepShape::of).toList());
        }
        c.done();
        workloads = List.copyOf(workloads);
        retention = retention == null ? CopyRetention.DEFAULT : retention;
    }

    /**
     * The checks of the plan's own fields (not its workloads, runbook or cross rules). With
     * {@code onlyGiven}, fields that are null are skipped rather than reported as missing: the
     * reader uses that for a plan it cannot build because of problems elsewhere, so that the plan's
     * own problems are reported beside them (its missing fields it reports itself).
     */
    static void checkFields(Checks c, boolean onlyGiven, String name, String protectedSite, String recoverySite, Mode mode,
            Duration rpo, Duration autoRollbackAfter, Integer version, String repository) {
        if (!onlyGiven || name != null) {
            c.name("name", name);
        }
        boolean sites = (!onlyGiven || protectedSite != null ? c.name("protectedSite", protectedSite) : false)
                & (!onlyGiven || recoverySite != null ? c.name("recoverySite", recoverySite) : false);
        if (sites && protectedSite.equals(recoverySite)) {
            c.add("recoverySite", "must differ from the protected site (" + protectedSite + ")");
        }
        if (!onlyGiven) {
            c.present("mode", mode);
        }
        if (!onlyGiven || rpo != null) {
            c.range("rpo", rpo, MIN_RPO, MAX_RPO);
        }
        if (autoRollbackAfter != null) {
            c.range("autoRollbackAfter", autoRollbackAfter, MIN_AUTO_ROLLBACK, MAX_AUTO_ROLLBACK);
        }
        if (version != null && version < 1) {
            c.add("version", "must be 1 or more, not " + version);
        }
        if (repository != null) {
            c.name("repository", repository);
        }
    }

    /** A plan that leaves the repository to the server (its only one) and schedules no drills. */
    public DrPlan(String name, String protectedSite, String recoverySite, Mode mode, Duration rpo, List<Workload> workloads,
            Runbook runbook, Duration autoRollbackAfter, int version) {
        this(name, protectedSite, recoverySite, mode, rpo, workloads, runbook, autoRollbackAfter, version, null, null, null);
    }

    /** A plan that schedules no drills. */
    public DrPlan(String name, String protectedSite, String recoverySite, Mode mode, Duration rpo, List<Workload> workloads,
            Runbook runbook, Duration autoRollbackAfter, int version, String repository) {
        this(name, protectedSite, recoverySite, mode, rpo, workloads, runbook, autoRollbackAfter, version, repository, null, null);
    }

    /** A plan whose copies keep the default points ({@link CopyRetention#DEFAULT}). */
    public DrPlan(String name, String protectedSite, String recoverySite, Mode mode, Duration rpo, List<Workload> workloads,
            Runbook runbook, Duration autoRollbackAfter, int version, String repository, DrillSchedule drills) {
        this(name, protectedSite, recoverySite, mode, rpo, workloads, runbook, autoRollbackAfter, version, repository, drills, null);
    }

    /** A new plan (version 1) with the default runbook: one boot step with all its workloads. */
    public static DrPlan create(String name, String protectedSite, String recoverySite, Mode mode, Duration rpo,
            List<Workload> workloads) {
        List<String> names = workloads == null ? List.of() : workloads.stream().map(w -> w == null ? null : w.name()).toList();
        return new DrPlan(name, protectedSite, recoverySite, mode, rpo, workloads, Runbook.defaultFor(names), null, 1);
    }

    public Optional<Workload> workload(String name) {
        return workloads.stream().filter(w -> w.name().equals(name)).findFirst();
    }

    public List<String> workloadNames() {
        return workloads.stream().map(Workload::name).toList();
    }

    /** This plan with another runbook, same version (for edits, which then bump it). */
    public DrPlan withRunbook(Runbook newRunbook) {
        return new DrPlan(name, protectedSite, recoverySite, mode, rpo, workloads, newRunbook, autoRollbackAfter, version, repository, drills, retention);
    }

    public DrPlan withWorkloads(List<Workload> newWorkloads, Runbook newRunbook) {
        return new DrPlan(name, protectedSite, recoverySite, mode, rpo, newWorkloads, newRunbook, autoRollbackAfter, version, repository, drills, retention);
    }

    public DrPlan withVersion(int newVersion) {
        return new DrPlan(name, protectedSite, recoverySite, mode, rpo, workloads, runbook, autoRollbackAfter, newVersion, repository, drills, retention);
    }

    /**
     * The plan's cross rules over workload names and step shapes (nulls in either list are
     * skipped; when a step is unusable, "in no boot step" is not reported, as it may be there).
     */
    static void checkMembership(Checks c, List<String> workloadNames, List<StepShape> shapes) {
        Runbook.check(c, "runbook", shapes);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < workloadNames.size(); i++) {
            String w = workloadNames.get(i);
            if (w == null) {
                continue;
            }
            Integer first = index.putIfAbsent(w, i);
            if (first != null) {
                c.add("workloads[" + i + "].name", "workload name '" + w + "' is taken by workloads[" + first + "]; workload names are unique");
            }
        }
        Set<String> booted = new HashSet<>();
        boolean complete = true;
        for (int i = 0; i < shapes.size(); i++) {
            StepShape s = shapes.get(i);
            if (s == null) {
                complete = false;
                continue;
            }
            if (s.bootWorkloads() == null) {
                continue;
            }
            for (int j = 0; j < s.bootWorkloads().size(); j++) {
                String w = s.bootWorkloads().get(j);
                if (w == null) {
                    complete = false;
                    continue;
                }
                booted.add(w);
                if (!index.containsKey(w) && !workloadNames.contains(null)) {
                    c.add("runbook[" + i + "].workloads[" + j + "]", "no workload named '" + w + "' in this plan (it has: "
                            + String.join(", ", index.keySet().stream().sorted().toList()) + ")");
                }
            }
        }
        if (complete) {
            for (int i = 0; i < workloadNames.size(); i++) {
                String w = workloadNames.get(i);
                if (w != null && !booted.contains(w) && index.get(w) == i) {
                    c.add("workloads[" + i + "]", "workload '" + w + "' is in no boot step; add it to one (a boot step's workloads list)");
                }
            }
        }
    }
}
