package io.haven.server.job;

import io.haven.server.agent.Agents;
import io.haven.server.inventory.Inventory;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jdbi.v3.core.Jdbi;

/**
 * The server's background work, every {@code tick}: settle jobs whose agent or server is gone
 * (an agent's jobs only once the server has listened for {@code lostAfter} since it started),
 * report agents that went offline, fire due schedules, and run queued maintenance jobs. Safe with
 * several servers on one database: each change is a conditional update that one server wins.
 *
 * <p>Schedules: a policy row holds its next planned tick. A server claims a due tick by moving it
 * forward ({@code UPDATE … WHERE next_backup_at = planned}) in the same transaction that inserts
 * the tick's jobs — so a tick makes its jobs exactly once, or not at all and is retried. The new
 * planned tick is the first one after <em>now</em>, so ticks missed while every server was down
 * run once, not once per missed tick.
 */
public final class ControlLoop implements AutoCloseable {
    private final Jdbi jdbi;
    private final Inventory inventory;
    private final Agents agents;
    private final Jobs jobs;
    private final Backups backups;
    private final Maintenance maintenance;
    private final Ticks ticks;
    private final InstantSource clock;
    private final Duration tick;
    private final Duration lostAfter;
    private final String owner;
    private final Consumer<Agents.Agent> onOffline;
    private final Consumer<Jobs.Job> onMissed;
    private final ScheduledExecutorService timer;
    private final ExecutorService workers;
    /** When {@link #start()} ran; agents cannot have reported to this server before. */
    private volatile long startedAt = Long.MIN_VALUE;

    public ControlLoop(Jdbi jdbi, Inventory inventory, Agents agents, Jobs jobs, Backups backups,
            io.haven.server.repo.Repositories repositories, Ticks ticks, InstantSource clock, Duration tick, Duration lostAfter, String owner,
            Consumer<Agents.Agent> onOffline, Consumer<Jobs.Job> onMissed) {
        this.jdbi = jdbi;
        this.inventory = inventory;
        this.agents = agents;
        this.jobs = jobs;
        this.backups = backups;
        this.maintenance = new Maintenance(repositories, owner);
        this.ticks = ticks;
        this.clock = clock;
        this.tick = tick;
        this.lostAfter = lostAfter;
        this.owner = owner;
        this.onOffline = onOffline;
        this.onMissed = onMissed;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "haven-control"));
        this.workers = Executors.newFixedThreadPool(1, r -> daemon(r, "haven-maintenance"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public void start() {
        startedAt = clock.millis();
        timer.scheduleWithFixedDelay(this::safeRound, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void safeRound() {
        try {
            round();
        } catch (RuntimeException e) {
            // a database hiccup: the next round tries again; nothing here may stop the loop
            System.err.println("haven server: control loop: " + e.getMessage());
        }
    }

    /** One round (public for tests that drive the loop by hand). */
    public void round() {
        jobs.watchQueue();
        // An agent's silence counts only while it could have spoken: a server that was down (longer
        // than lostAfter, say) first gives the agents running jobs lostAfter to report again, rather
        // than failing at once every job they are still running.
        if (startedAt == Long.MIN_VALUE || clock.millis() - startedAt >= lostAfter.toMillis()) {
            jobs.settleLost(lostAfter);
        }
        jobs.settleExpiredLeases();
        jobs.settleForInactiveAgents(null);
        for (Agents.Agent a : agents.takeNewlyOffline()) {
            onOffline.accept(a);
        }
        Instant now = clock.instant();
        for (Inventory.Policy p : inventory.duePolicies(now.toEpochMilli())) {
            if (p.nextBackupAt() != null && !p.nextBackupAt().isAfter(now)) {
                fireBackup(p, now);
            }
            if (p.nextMaintenanceAt() != null && !p.nextMaintenanceAt().isAfter(now)) {
                fireMaintenance(p, now);
            }
        }
        workers.execute(this::runServerJobs);
    }

    private void fireBackup(Inventory.Policy p, Instant now) {
        Instant next = ticks.next(p.spec().schedule(), p.spec().timezone(), now);
        List<Jobs.NewJob> planned = backups.scheduled(p, now);
        List<Long> ids = jdbi.inTransaction(h -> {
            int n = h.createUpdate("UPDATE policies SET next_backup_at = :next WHERE id = :id AND next_backup_at = :planned")
                    .bind("next", next.toEpochMilli()).bind("id", p.id()).bind("planned", p.nextBackupAt().toEpochMilli()).execute();
            return n == 1 ? backups.insert(h, planned) : List.<Long>of();
        });
        for (long id : ids) {
            Jobs.Job j = jobs.get(id);
            if (j.state() == Jobs.State.MISSED) {
                onMissed.accept(j);
            } else {
                jobs.signal().signalFor(j.agentId(), j.spec().pool());
            }
        }
    }

    private void fireMaintenance(Inventory.Policy p, Instant now) {
        Instant next = ticks.next(p.spec().maintenanceSchedule(), p.spec().timezone(), now);
        List<String> tags = inventory.workloadsOf(p).stream().map(w -> "workload:" + w.name()).toList();
        JobSpec spec = new JobSpec(null, null, new JobSpec.Maintenance(p.name(), p.spec().retention(), tags), null);
        boolean fired = jdbi.inTransaction(h -> {
            int n = h.createUpdate("UPDATE policies SET next_maintenance_at = :next WHERE id = :id AND next_maintenance_at = :planned")
                    .bind("next", next.toEpochMilli()).bind("id", p.id()).bind("planned", p.nextMaintenanceAt().toEpochMilli()).execute();
            if (n == 1) {
                jobs.insert(h, new Jobs.NewJob("maintenance", Jobs.State.QUEUED, "schedule", "scheduler", null, p.id(), p.repositoryId(),
                        null, spec, "retention of policy " + p.name()));
            }
            return n == 1;
        });
        if (fired) {
            workers.execute(this::runServerJobs);
        }
    }

    private void runServerJobs() {
        Duration lease = Duration.ofSeconds(Math.max(30, tick.toSeconds() * 6));
        while (true) {
            Jobs.Job j = jobs.claimServerJob(owner, lease).orElse(null);
            if (j == null) {
                return;
            }
            ScheduledExecutorService renew = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "haven-lease"));
            renew.scheduleWithFixedDelay(() -> jobs.renew(j.id(), owner, lease), lease.toMillis() / 3, lease.toMillis() / 3,
                    TimeUnit.MILLISECONDS);
            try {
                Inventory.Repo repo = inventory.repository(j.repositoryId());
                Inventory.Policy p = inventory.policies().stream().filter(x -> x.id() == j.policyId()).findFirst().orElse(null);
                ZoneId zone = ZoneId.of(p == null ? "UTC" : p.spec().timezone());
                var result = maintenance.run(repo.name(), j.spec().maintenance(), zone, line -> jobs.log(j.id(), "info", line));
                jobs.finishServerJob(j.id(), owner, Jobs.State.SUCCEEDED, "retention done", result);
            } catch (RuntimeException e) {
                jobs.log(j.id(), "error", String.valueOf(e.getMessage()));
                jobs.finishServerJob(j.id(), owner, Jobs.State.FAILED, e.getMessage(), null);
            } finally {
                renew.shutdownNow();
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        workers.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
