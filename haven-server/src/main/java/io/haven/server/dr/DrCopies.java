package io.haven.server.dr;

import io.haven.core.HavenException;
import io.haven.protocol.Codec;
import io.haven.runbook.DrPlan;
import io.haven.runbook.Mode;
import io.haven.runbook.Workload;
import io.haven.server.agent.Agents;
import io.haven.server.db.Columns;
import io.haven.server.inventory.Inventory;
import io.haven.server.job.Jobs;
import io.haven.server.plan.Plans;
import io.haven.repository.Repository;
import io.haven.repository.maintenance.Retention;
import io.haven.repository.maintenance.RetentionPolicy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.jdbi.v3.core.Jdbi;

/**
 * Keeps every plan's workloads recoverable: replicates them every {@code rpo} (the plan's RPO
 * target is its replication frequency) and, in continuous mode, applies each new snapshot to the
 * copy at the other site as it lands. Also answers how recoverable each workload is.
 *
 * <ul>
 *   <li>A {@code process} workload is backed up at the site it runs at (a {@code dr} job, op
 *       {@code backup}, tags {@code plan:P}, {@code workload:W}); in continuous mode the new
 *       snapshot is then applied to its volumes at the other site (op {@code hydrate}: a sync
 *       restore, only what changed). In as-needed mode the snapshot waits in the repository.
 *   <li>A {@code postgres} workload's copy is always a streaming standby (what PostgreSQL offers
 *       for a consistent copy); every {@code rpo} the keeper asks the copy's agent to make sure it
 *       exists and streams (op {@code hydrate}, which seeds it the first time), and records the
 *       time of its newest replayed transaction as its point.
 * </ul>
 *
 * Replication snapshots are forgotten by the copies' own retention (the plan's {@code retention:}, {@link #DEFAULT_RETENTION} unless it says otherwise;
 * see {@link #forgetOld}), so a short RPO does not fill the repository with points.
 *
 * Replication pauses while a run of the plan is open (a failover in progress owns the sites), and
 * follows the plan's active site: after a committed failover it runs from the recovery site back
 * to the protected one. Of several servers exactly one starts each replication (a conditional
 * update of its due time).
 */
public final class DrCopies {
    /**
     * Where a workload's copy stands against its RPO target: {@code MET} (a point at most 2 × RPO old);
     * {@code PENDING} while a new plan (or one that just moved) has no point yet and two RPOs have not
     * passed; else {@code MISSED}, which is what the breach notification reports.
     */
    public enum Rpo {
        MET, PENDING, MISSED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How a workload's copy is doing. */
    public record Status(String plan, String workload, String driver, String mode, String activeSite, String copySite, String snapshot,
            Instant pointAt, Long ageSeconds, long rpoSeconds, Rpo rpo, boolean recoverable, String why, String copySnapshot,
            Instant copyPointAt, Long jobId, String replication, Instant nextDueAt) {
        public boolean meetsRpo() {
            return rpo == Rpo.MET;
        }
    }

    /** What the keeper reports: a workload that no longer meets its RPO target (breach) or meets it again. */
    public interface Listener {
        void rpo(Status status, boolean breach);
    }

    private record Row(String plan, String workload, String snapshot, Long pointAt, String copySite, String copySnapshot,
            Long copyPointAt, long nextDueAt, Long jobId, boolean breach, String message, Long movedAt) {}

    private final Jdbi jdbi;
    private final Plans plans;
    private final Runs runs;
    private final Jobs jobs;
    private final Agents agents;
    private final Inventory inventory;
    private final RunExecutor executor;
    private final InstantSource clock;
    private final Listener listener;
    private final Consumer<String> log;

    public DrCopies(Jdbi jdbi, Plans plans, Runs runs, Jobs jobs, Agents agents, Inventory inventory, RunExecutor executor,
            InstantSource clock, Listener listener, Consumer<String> log) {
        this.jdbi = jdbi;
        this.plans = plans;
        this.runs = runs;
        this.jobs = jobs;
        this.agents = agents;
        this.inventory = inventory;
        this.executor = executor;
        this.clock = clock;
        this.listener = listener;
        this.log = log;
    }

    /**
     * What a plan's replication snapshots keep (docs/runbooks.md, "Retention of DR copies"): the
     * newest 10 points (the last minutes at any RPO), the newest of each of the last 48 hours that
     * have one, and of each of the last 30 days, in UTC. So a failover to a chosen point finds one
     * within an hour of it for two days back and within a day of it for a month, and a plan with a
     * 15 s RPO keeps about 90 points instead of 5,760 more a day. Points a copy holds or the
     * repository's newest are kept whatever the rules say, and nothing is forgotten while a run of
     * the plan is open (a failover under way or failed over, waiting for commit or rollback).
     */
    public static final RetentionPolicy DEFAULT_RETENTION = rules(io.haven.runbook.CopyRetention.DEFAULT);

    /** A plan's {@code retention:} as the rules {@code forget} applies (periods in UTC). */
    static RetentionPolicy rules(io.haven.runbook.CopyRetention r) {
        return new RetentionPolicy(r.last(), r.hourly(), r.daily(), r.weekly(), r.monthly(), 0, null, List.of());
    }

    /** How often each plan's replication snapshots are looked at for forgetting. */
    static final Duration RETENTION_EVERY = Duration.ofMinutes(10);

    private final Map<String, Long> retentionDue = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Set<String> forgetting = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** One pass over every plan: finished replications recorded, due ones started, breaches reported, old points forgotten. */
    public void tick() {
        for (Plans.Current current : plans.current()) {
            DrPlan plan = current.plan();
            boolean paused = runs.openRunOf(plan.name()).isPresent();
            for (Workload w : plan.workloads()) {
                try {
                    keep(plan, w, paused, current.appliedAt());
                } catch (RuntimeException e) {
                    note(plan.name(), w.name(), e.getMessage());
                }
            }
            if (!paused) {
                retentionIfDue(plan);
            }
        }
    }

    private void retentionIfDue(DrPlan plan) {
        long now = clock.millis();
        Long due = retentionDue.get(plan.name());
        if ((due != null && now < due) || !forgetting.add(plan.name())) {
            return;
        }
        retentionDue.put(plan.name(), now + RETENTION_EVERY.toMillis());
        Thread.ofVirtual().name("haven-dr-retention-" + plan.name()).start(() -> {
            try {
                List<String> gone = forgetOld(plan);
                if (!gone.isEmpty()) {
                    log.accept("plan " + plan.name() + ": forgot " + gone.size() + " old replication snapshot(s)");
                }
            } catch (RuntimeException e) {
                log.accept("plan " + plan.name() + ": cannot forget old replication snapshots: " + e.getMessage());
            } finally {
                forgetting.remove(plan.name());
            }
        });
    }

    /**
     * Forgets the plan's replication snapshots (tags {@code haven-dr} and {@code plan:P}) that
     * the plan's {@code retention:} ({@link #DEFAULT_RETENTION} when it has none) does not keep, per workload, host and paths; never while a run of
     * the plan is open, and never a point a copy holds. Deletes only snapshot files: the data they
     * alone held is freed by the repository's next prune. Returns the ids forgotten.
     */
    public List<String> forgetOld(DrPlan plan) {
        if (runs.openRunOf(plan.name()).isPresent()) {
            return List.of();
        }
        java.util.Set<String> inUse = new java.util.HashSet<>();
        jdbi.useHandle(h -> h.createQuery("SELECT snapshot, copy_snapshot FROM dr_copies WHERE plan_name = :p").bind("p", plan.name())
                .map((rs, c) -> {
                    if (rs.getString("snapshot") != null) {
                        inUse.add(rs.getString("snapshot"));
                    }
                    if (rs.getString("copy_snapshot") != null) {
                        inUse.add(rs.getString("copy_snapshot"));
                    }
                    return 0;
                }).list());
        List<String> removed = new ArrayList<>();
        try (Repository repo = executor.repositories().open(executor.repository(plan))) {
            List<Repository.SnapshotEntry> mine = repo.snapshots().stream()
                    .filter(e -> e.snapshot().tags().contains("haven-dr") && e.snapshot().tags().contains("plan:" + plan.name())).toList();
            for (Repository.SnapshotEntry e : toForget(mine, rules(plan.retention()), inUse)) {
                if (runs.openRunOf(plan.name()).isPresent()) {
                    break; // a run started meanwhile: it may be choosing among these points
                }
                repo.backend().delete("snapshots/" + e.id().hex());
                removed.add(e.id().hex());
            }
        }
        return removed;
    }

    /**
     * Which of a plan's replication snapshots {@code policy} lets go: grouped by workload (its
     * {@code workload:} tag), host and paths, so each workload at each site keeps its own points;
     * a snapshot in {@code inUse} (ids as hex) is always kept. Pure.
     */
    static List<Repository.SnapshotEntry> toForget(List<Repository.SnapshotEntry> snapshots, RetentionPolicy policy,
            java.util.Set<String> inUse) {
        Map<String, List<Repository.SnapshotEntry>> byWorkload = new LinkedHashMap<>();
        for (Repository.SnapshotEntry e : snapshots) {
            String w = e.snapshot().tags().stream().filter(t -> t.startsWith("workload:")).findFirst().orElse("");
            byWorkload.computeIfAbsent(w, k -> new ArrayList<>()).add(e);
        }
        List<Repository.SnapshotEntry> out = new ArrayList<>();
        for (List<Repository.SnapshotEntry> group : byWorkload.values()) {
            for (Retention.Group g : Retention.apply(group, policy, java.util.EnumSet.of(Retention.GroupBy.HOST, Retention.GroupBy.PATHS),
                    java.time.ZoneOffset.UTC)) {
                g.remove().stream().filter(e -> !inUse.contains(e.id().hex())).forEach(out::add);
            }
        }
        return out;
    }

    private void keep(DrPlan plan, Workload w, boolean paused, Instant applied) {
        long now = clock.millis();
        Row row = row(plan.name(), w.name()).orElse(null);
        if (row == null) {
            insert(plan, w, now);
            row = row(plan.name(), w.name()).orElseThrow();
        }
        String active = executor.activeSite(plan);
        String copySite = active.equals(plan.protectedSite()) ? plan.recoverySite() : plan.protectedSite();
        if (row.jobId() != null) {
            Jobs.Job job = jobs.find(row.jobId()).orElse(null);
            if (job != null && !job.state().done()) {
                report(plan, w, row, applied);
                return;
            }
            finished(plan, w, row, job, copySite);
            row = row(plan.name(), w.name()).orElseThrow();
        }
        if (!paused && now >= row.nextDueAt() && claim(row, now + plan.rpo().toMillis())) {
            start(plan, w, active, copySite);
            row = row(plan.name(), w.name()).orElseThrow();
        }
        report(plan, w, row, applied);
    }

    private void start(DrPlan plan, Workload w, String active, String copySite) {
        Instances.Instance from = Instances.at(plan, w, active, false, inventory);
        Instances.Instance to = Instances.at(plan, w, copySite, false, inventory);
        String key = "copy:" + plan.name() + "/" + w.name();
        Jobs.Job job;
        if (Instances.postgres(w) && takeRejoin(plan.name(), w.name())) {
            Instances.Spec spec = Instances.spec("rejoin", null, key, plan, w, to);
            spec.primary = Instances.postgresEndpoint(w, from);
            job = jobs.createDr("dr", "dr copies", null, key, agents.get(to.host()).id(), null, spec.build(),
                    "make the copy of " + w.name() + " at site " + copySite + ", promoted by an earlier run, a standby of site " + active
                            + " again (pg_rewind)");
        } else if (Instances.postgres(w)) {
            Instances.Spec spec = Instances.spec("hydrate", null, key, plan, w, to);
            spec.primary = Instances.postgresEndpoint(w, from);
            job = jobs.createDr("dr", "dr copies", null, key, agents.get(to.host()).id(), null, spec.build(),
                    "keep the standby of " + w.name() + " at site " + copySite + " streaming from site " + active);
        } else {
            Instances.Spec spec = Instances.spec("backup", null, key, plan, w, from);
            String repo = executor.repository(plan);
            job = jobs.createDr("dr", "dr copies", null, key, agents.get(from.host()).id(), inventory.repository(repo).id(), spec.build(),
                    "replicate " + w.name() + " of plan " + plan.name() + ": snapshot at site " + active);
        }
        setJob(plan.name(), w.name(), job.id(), copySite);
    }

    @SuppressWarnings("unchecked")
    private void finished(DrPlan plan, Workload w, Row row, Jobs.Job job, String copySite) {
        if (job == null) {
            setJob(plan.name(), w.name(), null, copySite);
            return;
        }
        Map<String, Object> r = job.result() == null ? Map.of() : Codec.read(job.result().getBytes(StandardCharsets.UTF_8), Map.class);
        String snapshot = null;
        Long time = null;
        if (r.get("point") instanceof Map<?, ?> p && p.get("snapshot") != null && p.get("time") != null) {
            snapshot = String.valueOf(p.get("snapshot"));
            time = Instant.parse(String.valueOf(p.get("time"))).toEpochMilli();
        }
        String op = job.spec().dr() == null ? "" : job.spec().dr().op();
        if (op.equals("hydrate") && job.state() != Jobs.State.SUCCEEDED && Boolean.TRUE.equals(r.get("promoted"))
                && copySite.equals(plan.recoverySite()) && executor.activeSite(plan).equals(plan.protectedSite())) {
            // the recovery site's copy was promoted by a run that was rolled back (or failed): the plan runs at its
            // protected site, so that copy holds nothing production needs (a rollback does not carry writes back,
            // docs/runbooks.md), and the next round makes it rejoin as a standby
            jdbi.useHandle(h -> h.createUpdate("UPDATE dr_copies SET rejoin = TRUE WHERE plan_name = :p AND workload = :w")
                    .bind("p", plan.name()).bind("w", w.name()).execute());
        }
        if (job.state() != Jobs.State.SUCCEEDED || snapshot == null) {
            jdbi.useHandle(h -> h.createUpdate("UPDATE dr_copies SET job_id = NULL, message = :m, updated_at = :now WHERE plan_name = :p "
                            + "AND workload = :w").bind("m", op + " job " + job.id() + " " + job.state().label() + ": " + job.message())
                    .bind("now", clock.millis()).bind("p", plan.name()).bind("w", w.name()).execute());
            return;
        }
        if (op.equals("backup")) {
            String snap = snapshot;
            Long t = time;
            jdbi.useHandle(h -> h.createUpdate("UPDATE dr_copies SET snapshot = :s, point_at = :t, job_id = NULL, message = :m, "
                            + "updated_at = :now WHERE plan_name = :p AND workload = :w")
                    .bind("s", snap).bind("t", t).bind("m", "snapshot " + snap.substring(0, Math.min(12, snap.length())) + " taken")
                    .bind("now", clock.millis()).bind("p", plan.name()).bind("w", w.name()).execute());
            if (plan.mode() == Mode.CONTINUOUS) {
                String active = executor.activeSite(plan);
                Instances.Instance from = Instances.at(plan, w, active, false, inventory);
                Instances.Instance to = Instances.at(plan, w, copySite, false, inventory);
                String key = "copy:" + plan.name() + "/" + w.name();
                Instances.Spec spec = Instances.spec("hydrate", null, key, plan, w, to);
                spec.snapshot = snap;
                spec.snapshotPaths = from.volumes();
                String repo = executor.repository(plan);
                Jobs.Job h = jobs.createDr("dr", "dr copies", null, key, agents.get(to.host()).id(), inventory.repository(repo).id(),
                        spec.build(), "apply snapshot " + snap.substring(0, Math.min(12, snap.length())) + " of " + w.name()
                                + " to its copy at site " + copySite);
                setJob(plan.name(), w.name(), h.id(), copySite);
            }
            return;
        }
        // hydrate: the copy at copySite now holds this point
        String snap = snapshot;
        Long t = time;
        jdbi.useHandle(h -> h.createUpdate("UPDATE dr_copies SET copy_site = :cs, copy_snapshot = :s, copy_point_at = :t, job_id = NULL, "
                        + "message = :m, updated_at = :now WHERE plan_name = :p AND workload = :w")
                .bind("cs", copySite).bind("s", snap).bind("t", t).bind("m", "copy at site " + copySite + " holds " + snap)
                .bind("now", clock.millis()).bind("p", plan.name()).bind("w", w.name()).execute());
    }

    /** How recoverable each workload of {@code plan}, whose version in force was applied at {@code applied}, is now. */
    public List<Status> status(DrPlan plan, Instant applied) {
        List<Status> out = new ArrayList<>();
        for (Workload w : plan.workloads()) {
            out.add(status(plan, w, row(plan.name(), w.name()).orElse(null), applied));
        }
        return out;
    }

    private Status status(DrPlan plan, Workload w, Row row, Instant applied) {
        Instant now = clock.instant();
        String active = executor.activeSite(plan);
        String copySite = active.equals(plan.protectedSite()) ? plan.recoverySite() : plan.protectedSite();
        boolean copyPoint = Instances.postgres(w) || plan.mode() == Mode.CONTINUOUS;
        String snapshot = row == null ? null : copyPoint ? row.copySnapshot() : row.snapshot();
        Long at = row == null ? null : copyPoint ? row.copyPointAt() : row.pointAt();
        if (copyPoint && row != null && row.copySite() != null && !row.copySite().equals(copySite)) {
            snapshot = null; // a copy made in the other direction
            at = null;
        }
        Instant pointAt = at == null ? null : Instant.ofEpochMilli(at);
        Long age = pointAt == null ? null : Math.max(0, Duration.between(pointAt, now).toSeconds());
        long rpo = plan.rpo().toSeconds();
        boolean meets = age != null && age <= 2 * rpo;
        String why = null;
        boolean recoverable = pointAt != null;
        if (!recoverable) {
            why = "no recoverable point yet";
        }
        try {
            Instances.Instance target = Instances.at(plan, w, copySite, false, inventory);
            Agents.Agent a = agents.get(target.host());
            if (a.state() != Agents.State.ACTIVE) {
                recoverable = false;
                why = "its agent " + a.name() + " at site " + copySite + " is " + a.state().label();
            } else if (!a.online(now, agents.offlineAfter())) {
                recoverable = false;
                why = "its agent " + a.name() + " at site " + copySite + " is offline";
            }
        } catch (HavenException e) {
            recoverable = false;
            why = e.getMessage();
        }
        String replication = row == null ? "not started" : row.jobId() != null ? "running (job " + row.jobId() + ")"
                : row.message() == null ? "waiting" : row.message();
        // a new plan's workload (or one whose plan just moved) misses its RPO once two RPOs passed without a point
        long since = Math.max(applied.toEpochMilli(), row == null || row.movedAt() == null ? 0 : row.movedAt());
        Rpo state = meets ? Rpo.MET : pointAt == null && now.toEpochMilli() - since <= 2 * plan.rpo().toMillis() ? Rpo.PENDING : Rpo.MISSED;
        return new Status(plan.name(), w.name(), w.driver().text(), plan.mode().text(), active, copySite, snapshot, pointAt, age, rpo, state,
                recoverable, why, row == null ? null : row.copySnapshot(), row == null || row.copyPointAt() == null ? null
                        : Instant.ofEpochMilli(row.copyPointAt()), row == null ? null : row.jobId(), replication,
                row == null ? null : Instant.ofEpochMilli(row.nextDueAt()));
    }

    private void report(DrPlan plan, Workload w, Row row, Instant applied) {
        Status s = status(plan, w, row, applied);
        boolean breach = s.rpo() == Rpo.MISSED;
        if (breach != row.breach()) {
            jdbi.useHandle(h -> h.createUpdate("UPDATE dr_copies SET breach = :b WHERE plan_name = :p AND workload = :w")
                    .bind("b", breach).bind("p", plan.name()).bind("w", w.name()).execute());
            try {
                listener.rpo(s, breach);
            } catch (RuntimeException e) {
                log.accept("cannot notify the RPO of " + plan.name() + "/" + w.name() + ": " + e.getMessage());
            }
        }
    }

    // --- rows

    private Optional<Row> row(String plan, String workload) {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM dr_copies WHERE plan_name = :p AND workload = :w")
                .bind("p", plan).bind("w", workload)
                .map((rs, c) -> new Row(rs.getString("plan_name"), rs.getString("workload"), rs.getString("snapshot"),
                        Columns.nullableLong(rs, "point_at"), rs.getString("copy_site"), rs.getString("copy_snapshot"),
                        Columns.nullableLong(rs, "copy_point_at"), rs.getLong("next_due_at"), Columns.nullableLong(rs, "job_id"),
                        rs.getBoolean("breach"), rs.getString("message"), Columns.nullableLong(rs, "moved_at")))
                .findOne());
    }

    private void insert(DrPlan plan, Workload w, long now) {
        // the repository may already hold a point (snapshots taken before the plan was applied)
        String snap = null;
        Long at = null;
        if (!Instances.postgres(w)) {
            try {
                Instances.Instance from = Instances.at(plan, w, executor.activeSite(plan), false, inventory);
                Repository.SnapshotEntry e = executor.newestPoint(executor.repository(plan), plan, w, from.host(), null);
                if (e != null) {
                    snap = e.id().hex();
                    at = e.time().toEpochMilli();
                }
            } catch (HavenException e) {
                // no repository yet, or none chosen: the first replication says why
            }
        }
        String s = snap;
        Long t = at;
        try {
            jdbi.useHandle(h -> h.createUpdate("INSERT INTO dr_copies (plan_name, workload, snapshot, point_at, next_due_at, updated_at) "
                            + "VALUES (:p, :w, :s, :t, :now, :now)")
                    .bind("p", plan.name()).bind("w", w.name()).bind("s", s).bind("t", t).bind("now", now).execute());
        } catch (RuntimeException e) {
            if (row(plan.name(), w.name()).isEmpty()) {
                throw e; // not another server inserting it first
            }
        }
    }

    /** True once for a copy marked to rejoin (the mark is cleared by the same statement, so one server sends it). */
    private boolean takeRejoin(String plan, String workload) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE dr_copies SET rejoin = FALSE WHERE plan_name = :p AND workload = :w AND rejoin = TRUE")
                .bind("p", plan).bind("w", workload).execute()) == 1;
    }

    private boolean claim(Row row, long next) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE dr_copies SET next_due_at = :n WHERE plan_name = :p AND workload = :w "
                        + "AND next_due_at = :old AND job_id IS NULL")
                .bind("n", next).bind("p", row.plan()).bind("w", row.workload()).bind("old", row.nextDueAt()).execute()) == 1;
    }

    private void setJob(String plan, String workload, Long jobId, String copySite) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE dr_copies SET job_id = :j, updated_at = :now WHERE plan_name = :p AND workload = :w")
                .bind("j", jobId).bind("now", clock.millis()).bind("p", plan).bind("w", workload).execute());
    }

    private void note(String plan, String workload, String message) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE dr_copies SET message = :m, updated_at = :now WHERE plan_name = :p AND workload = :w")
                .bind("m", message == null ? null : message.length() > 2000 ? message.substring(0, 2000) : message)
                .bind("now", clock.millis()).bind("p", plan).bind("w", workload).execute());
    }

    /** Forgets a plan's rows (the plan was deleted). */
    public void forget(String plan) {
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM dr_copies WHERE plan_name = :p").bind("p", plan).execute());
    }

    static Map<String, Object> view(Status s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("workload", s.workload());
        m.put("driver", s.driver());
        m.put("mode", s.mode());
        m.put("activeSite", s.activeSite());
        m.put("copySite", s.copySite());
        m.put("recoverable", s.recoverable());
        m.put("why", s.why());
        m.put("point", s.snapshot());
        m.put("pointAt", s.pointAt() == null ? null : s.pointAt().toString());
        m.put("ageSeconds", s.ageSeconds());
        m.put("rpoSeconds", s.rpoSeconds());
        m.put("meetsRpo", s.meetsRpo());
        m.put("rpo", s.rpo().label());
        m.put("replication", s.replication());
        m.put("nextReplicationAt", s.nextDueAt() == null ? null : s.nextDueAt().toString());
        return m;
    }
}
