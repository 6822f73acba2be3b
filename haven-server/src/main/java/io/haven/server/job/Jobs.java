package io.haven.server.job;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Codec;
import io.haven.protocol.Messages;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Jobs: every operation (backup, restore, maintenance) is a row with a type, a lifecycle, progress,
 * timing and a log.
 *
 * <p>Lifecycle: {@code queued → running → succeeded | partial | failed | cancelled}; a scheduled
 * backup whose agent is offline is created {@code missed}; a queued job can be cancelled.
 * Every state change is a conditional {@code UPDATE … WHERE state = …}: of several servers sharing
 * one database, exactly one wins each change, so a job is never started twice and never lost.
 * Thread-safe; each method is one transaction.
 */
public final class Jobs {
    /** A job's state; the last five are final. */
    public enum State {
        QUEUED, RUNNING, SUCCEEDED, PARTIAL, FAILED, CANCELLED, MISSED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public boolean done() {
            return this != QUEUED && this != RUNNING;
        }

        public static State parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new HavenException(ErrorCode.USAGE, "no job state '" + s + "': use queued, running, succeeded, partial, "
                        + "failed, cancelled or missed");
            }
        }
    }

    /** One job as stored. */
    public record Job(long id, String type, State state, String origin, String requestedBy, Long workloadId, String workload,
            Long policyId, Long repositoryId, Long agentId, String agent, String agentInstance, JobSpec spec, Instant createdAt,
            Instant startedAt, Instant finishedAt, Instant updatedAt, long bytesDone, long bytesTotal, long filesDone,
            long filesTotal, String message, String result, boolean cancelRequested, String runId, String commandId) {}

    /** One log line of a job. */
    public record Log(long id, Instant at, String level, String line) {}

    /** A new job. */
    public record NewJob(String type, State state, String origin, String requestedBy, Long workloadId, Long policyId,
            Long repositoryId, Long agentId, JobSpec spec, String message) {}

    private static final String SELECT = "SELECT j.*, w.name AS workload_name, a.name AS agent_name FROM jobs j "
            + "LEFT JOIN workloads w ON w.id = j.workload_id LEFT JOIN agents a ON a.id = j.agent_id ";

    private final Jdbi jdbi;
    private final InstantSource clock;
    private final JobSignal signal;
    private final Consumer<Job> onEnded;

    /** {@code onEnded} hears of every job that reached a final state (failed ones are notified). */
    public Jobs(Jdbi jdbi, InstantSource clock, JobSignal signal, Consumer<Job> onEnded) {
        this.jdbi = jdbi;
        this.clock = clock;
        this.signal = signal;
        this.onEnded = onEnded;
    }

    public JobSignal signal() {
        return signal;
    }

    /** Inserts a job (inside the caller's transaction) and returns its id. */
    public long insert(Handle h, NewJob j) {
        long now = clock.millis();
        boolean done = j.state().done();
        return h.createUpdate("INSERT INTO jobs (type, state, origin, requested_by, workload_id, policy_id, repository_id, agent_id, "
                        + "spec, created_at, updated_at, finished_at, message) VALUES (:t, :s, :o, :r, :w, :p, :repo, :a, :spec, :now, :now, "
                        + ":fin, :m)")
                .bind("t", j.type()).bind("s", j.state().label()).bind("o", j.origin()).bind("r", j.requestedBy())
                .bind("w", j.workloadId()).bind("p", j.policyId()).bind("repo", j.repositoryId()).bind("a", j.agentId())
                .bind("spec", json(j.spec())).bind("now", now).bind("fin", done ? now : null).bind("m", truncate(j.message(), 2048))
                .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
    }

    /**
     * Queues a DR operation on one agent for a run's command (or, with a null run, for the DR copy
     * keeper). DR jobs do not take task slots: an agent busy with backups still starts, stops and
     * probes workloads at once.
     */
    public Job createDr(String origin, String requestedBy, String runId, String commandId, long agentId, Long repositoryId,
            Messages.DrSpec spec, String message) {
        long now = clock.millis();
        long id = jdbi.inTransaction(h -> h.createUpdate("INSERT INTO jobs (type, state, origin, requested_by, repository_id, agent_id, "
                        + "spec, created_at, updated_at, message, run_id, command_id) VALUES ('dr', 'queued', :o, :r, :repo, :a, :spec, :now, "
                        + ":now, :m, :run, :cmd)")
                .bind("o", origin).bind("r", requestedBy).bind("repo", repositoryId).bind("a", agentId)
                .bind("spec", json(new JobSpec(null, null, null, null, spec))).bind("now", now).bind("m", truncate(message, 2048))
                .bind("run", runId).bind("cmd", commandId).executeAndReturnGeneratedKeys("id").mapTo(Long.class).one());
        signal.signalFor(agentId, null);
        return get(id);
    }

    /** Cancels the DR jobs not started whose command id starts with {@code prefix} (the replication of a plan a run takes over). */
    public void cancelQueuedDr(String prefix, String by) {
        List<Long> ids = jdbi.withHandle(h -> h.createQuery("SELECT id FROM jobs WHERE type = 'dr' AND state = 'queued' AND command_id LIKE :p")
                .bind("p", prefix + "%").mapTo(Long.class).list());
        for (long id : ids) {
            try {
                cancel(id, by);
            } catch (HavenException e) {
                // it started or ended meanwhile
            }
        }
    }

    /** The jobs that carry out command {@code commandId} of run {@code runId}, oldest first. */
    public List<Job> forCommand(String runId, String commandId) {
        return jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE j.run_id = :r AND j.command_id = :c ORDER BY j.id")
                .bind("r", runId).bind("c", commandId).map((rs, c) -> row(rs)).list());
    }

    /** Creates a job in its own transaction and wakes the waiting polls of the agents that may run it. */
    public Job create(NewJob j) {
        long id = jdbi.inTransaction(h -> insert(h, j));
        if (!j.state().done()) {
            signal.signalFor(j.agentId(), j.spec() == null ? null : j.spec().pool());
        }
        Job job = get(id);
        if (job.state().done()) {
            onEnded.accept(job);
        }
        return job;
    }

    public Optional<Job> find(long id) {
        return jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE j.id = :id").bind("id", id).map((rs, c) -> row(rs)).findOne());
    }

    public Job get(long id) {
        return find(id).orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no job " + id));
    }

    /** The job types there are (for filters: an unknown type is an error, as an unknown state is). */
    public static final List<String> TYPES = List.of("backup", "restore", "maintenance", "dr");

    /** The newest jobs first, optionally only in one state, of one workload or of one type. */
    public List<Job> list(State state, Long workloadId, String type, int limit) {
        if (type != null && !TYPES.contains(type)) {
            throw new HavenException(ErrorCode.USAGE, "no job type '" + type + "': use " + String.join(", ", TYPES));
        }
        StringBuilder sql = new StringBuilder(SELECT + "WHERE 1 = 1");
        if (state != null) {
            sql.append(" AND j.state = :s");
        }
        if (workloadId != null) {
            sql.append(" AND j.workload_id = :w");
        }
        if (type != null) {
            sql.append(" AND j.type = :t");
        }
        sql.append(" ORDER BY j.id DESC LIMIT :l");
        return jdbi.withHandle(h -> {
            var q = h.createQuery(sql.toString()).bind("l", limit);
            if (state != null) {
                q.bind("s", state.label());
            }
            if (workloadId != null) {
                q.bind("w", workloadId);
            }
            if (type != null) {
                q.bind("t", type);
            }
            return q.map((rs, c) -> row(rs)).list();
        });
    }

    public List<Log> logs(long jobId, long afterId, int limit) {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM job_logs WHERE job_id = :j AND id > :a ORDER BY id LIMIT :l")
                .bind("j", jobId).bind("a", afterId).bind("l", limit)
                .map((rs, c) -> new Log(rs.getLong("id"), Instant.ofEpochMilli(rs.getLong("at")), rs.getString("level"), rs.getString("line")))
                .list());
    }

    /** Appends a line written by the server (not an agent) to a job's log. */
    public void log(long jobId, String level, String line) {
        jdbi.useHandle(h -> appendLogs(h, jobId, List.of(new Messages.LogLine(clock.millis(), level, line))));
    }

    private void appendLogs(Handle h, long jobId, List<Messages.LogLine> lines) {
        if (lines == null || lines.isEmpty()) {
            return;
        }
        var batch = h.prepareBatch("INSERT INTO job_logs (job_id, at, level, line) VALUES (:j, :at, :lv, :line)");
        for (Messages.LogLine l : lines.subList(Math.max(0, lines.size() - 1000), lines.size())) {
            batch.bind("j", jobId).bind("at", l.at() > 0 ? l.at() : clock.millis())
                    .bind("lv", truncate(l.level() == null ? "info" : l.level(), 8)).bind("line", truncate(l.line() == null ? "" : l.line(), 4096))
                    .add();
        }
        batch.execute();
    }

    // --- dispatch to agents

    private volatile String lastQueue = "";

    /**
     * Wakes waiting task polls when the queue changed since the last look (jobs queued or started by
     * another server sharing the database): one cheap query for all waiting polls, and when it
     * changed, a second one for whom the queued jobs are (their agents, or their pools' members).
     */
    public void watchQueue() {
        String now = jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) || ':' || COALESCE(MAX(id), 0) FROM jobs WHERE state = 'queued'")
                .mapTo(String.class).one());
        if (!now.equals(lastQueue)) {
            lastQueue = now;
            jdbi.useHandle(h -> h.createQuery("SELECT DISTINCT j.agent_id, w.pool_group_id FROM jobs j LEFT JOIN workloads w "
                            + "ON w.id = j.workload_id WHERE j.state = 'queued' AND j.type IN ('backup', 'restore')")
                    .map((rs, c) -> new Long[] {longOrNull(rs, "agent_id"), longOrNull(rs, "pool_group_id")})
                    .forEach(t -> signal.signalFor(t[0], t[1])));
        }
    }

    /**
     * Starts up to {@code free} queued jobs on this agent and returns them: jobs addressed to it,
     * and pooled jobs of groups it belongs to when no other eligible online agent with free capacity
     * is less loaded (running ÷ max tasks). Each start is a conditional update, so two polls (on
     * this or another server) never start the same job. Only the agent's current process
     * ({@code instance}, set by its latest poll or heartbeat, cleared when it says goodbye) starts
     * jobs: a poll that a stopped or restarted process left waiting on the server has no client to
     * take them.
     */
    public List<Job> claimFor(long agentId, String instance, int free, Duration offlineAfter) {
        long now = clock.millis();
        List<Job> candidates = jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE j.state = 'queued' AND (j.type = 'dr' AND j.agent_id = :a "
                        + "OR " + (free > 0 ? "" : "1 = 0 AND ") + "j.type IN ('backup', 'restore') "
                        + "AND (j.agent_id = :a OR (j.agent_id IS NULL AND w.pool_group_id IN "
                        + "(SELECT group_id FROM group_members WHERE agent_id = :a)))) ORDER BY j.id LIMIT 50")
                .bind("a", agentId).map((rs, c) -> row(rs)).list());
        List<Job> started = new ArrayList<>();
        List<String> restoring = null;
        int slots = 0;
        for (Job j : candidates) {
            boolean dr = j.type().equals("dr");
            if (!dr && slots >= free) {
                continue;
            }
            String target = restoreTarget(j);
            if (target != null) {
                if (restoring == null) {
                    restoring = jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE j.state = 'running' AND j.type = 'restore' AND j.agent_id = :a")
                            .bind("a", agentId).map((rs, c) -> row(rs)).list()).stream().map(Jobs::restoreTarget)
                            .filter(java.util.Objects::nonNull).collect(java.util.stream.Collectors.toCollection(ArrayList::new));
                }
                if (restoring.stream().anyMatch(t -> overlaps(t, target))) {
                    // waits for the restore writing there: two at once race on the same files
                    continue;
                }
            }
            if (j.agentId() == null && j.spec().pool() != null && !leastLoaded(agentId, j.spec().pool(), now - offlineAfter.toMillis())) {
                continue;
            }
            int n = jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET state = 'running', agent_id = :a, agent_instance = :i, "
                            + "started_at = :now, updated_at = :now WHERE id = :id AND state = 'queued' AND (agent_id IS NULL OR agent_id = :a) "
                            + "AND EXISTS (SELECT 1 FROM agents WHERE id = :a AND instance = :i AND state = 'active')")
                    // the time it starts, not the poll's: the overlap check above may have seen a restore end
                    // after the poll began, and a start recorded before that end would say they overlapped
                    .bind("a", agentId).bind("i", instance).bind("now", clock.millis()).bind("id", j.id()).execute());
            if (n == 1) {
                started.add(get(j.id()));
                slots += dr ? 0 : 1;
                if (target != null) {
                    restoring.add(target);
                }
            }
        }
        return started;
    }

    /** The directory a restore job writes into (normalised), or null for other jobs. */
    private static String restoreTarget(Job j) {
        if (!j.type().equals("restore") || j.spec() == null || j.spec().restore() == null) {
            return null;
        }
        String t = j.spec().restore().targetPath();
        return t == null ? "/" : JobEndpoints.normalize(t);
    }

    /**
     * Whether two restore targets share files: the same directory, or one inside the other. Two
     * restores into them at once race (one deletes or replaces what the other is writing), so an
     * agent starts such a restore only after the other has ended.
     */
    static boolean overlaps(String a, String b) {
        return a.equals(b) || a.equals("/") || b.equals("/") || a.startsWith(b + "/") || b.startsWith(a + "/");
    }

    /** Whether {@code agentId} is (one of) the least-loaded online, active members of {@code group} with room. */
    private boolean leastLoaded(long agentId, long group, long onlineSince) {
        record Load(long agent, long running, int max) {
            double ratio() {
                return (double) running / Math.max(1, max);
            }
        }
        List<Load> loads = jdbi.withHandle(h -> h.createQuery("SELECT a.id, a.max_tasks, (SELECT COUNT(*) FROM jobs j WHERE j.agent_id = a.id "
                        + "AND j.state = 'running' AND j.type <> 'dr') AS running FROM agents a JOIN group_members m ON m.agent_id = a.id "
                        + "WHERE m.group_id = :g AND a.state = 'active' AND a.instance IS NOT NULL AND a.last_seen_at >= :since")
                .bind("g", group).bind("since", onlineSince)
                .map((rs, c) -> new Load(rs.getLong("id"), rs.getLong("running"), rs.getInt("max_tasks"))).list());
        Load me = loads.stream().filter(l -> l.agent() == agentId).findFirst().orElse(null);
        if (me == null) {
            return true; // it polls, so it is online; its heartbeat row may lag
        }
        if (me.running() >= me.max()) {
            return false;
        }
        return loads.stream().filter(l -> l.running() < l.max()).allMatch(l -> l.ratio() >= me.ratio());
    }

    /**
     * Records an agent's progress on its running job; returns whether the job was cancelled.
     *
     * @throws HavenException NOT_FOUND when the job is not this agent's, CONFLICT when it already ended
     */
    public boolean progress(long agentId, long jobId, Messages.Progress p) {
        Job j = own(agentId, jobId);
        if (j.state() == State.CANCELLED) {
            return true;
        }
        if (j.state() != State.RUNNING) {
            throw new HavenException(ErrorCode.CONFLICT, "job " + jobId + " is " + j.state().label() + ", not running");
        }
        jdbi.useTransaction(h -> {
            h.createUpdate("UPDATE jobs SET bytes_done = :bd, bytes_total = :bt, files_done = :fd, files_total = :ft, updated_at = :now "
                            + "WHERE id = :id AND state = 'running'")
                    .bind("bd", p.bytesDone()).bind("bt", p.bytesTotal()).bind("fd", p.filesDone()).bind("ft", p.filesTotal())
                    .bind("now", clock.millis()).bind("id", jobId).execute();
            appendLogs(h, jobId, p.log());
        });
        return j.cancelRequested();
    }

    /**
     * Records how an agent's job ended. A job the server already settled (for example as failed
     * because its agent was gone too long) takes the agent's late outcome: the agent knows better.
     *
     * @throws HavenException NOT_FOUND when the job is not this agent's, USAGE for an unknown status,
     *     CONFLICT when the job already ended by the agent's own word
     */
    public Job finish(long agentId, long jobId, Messages.Finish f) {
        Job j = own(agentId, jobId);
        State to = State.parse(f.status() == null ? "" : f.status());
        if (!to.done() || to == State.MISSED) {
            throw new HavenException(ErrorCode.USAGE, "a job ends succeeded, partial, failed or cancelled, not " + to.label());
        }
        String settled = j.state() == State.FAILED && j.message() != null && j.message().startsWith(SETTLED) ? j.message() : null;
        if (j.state() != State.RUNNING && j.state() != State.CANCELLED && settled == null) {
            throw new HavenException(ErrorCode.CONFLICT, "job " + jobId + " ended already (" + j.state().label() + ")");
        }
        String from = settled != null ? "failed" : j.state().label();
        int n = jdbi.inTransaction(h -> {
            int c = h.createUpdate("UPDATE jobs SET state = :s, finished_at = :now, updated_at = :now, message = :m, result = :r "
                            + "WHERE id = :id AND state = :from")
                    .bind("s", to.label()).bind("now", clock.millis()).bind("m", truncate(f.message(), 2048))
                    .bind("r", f.result() == null ? null : json(f.result())).bind("id", jobId).bind("from", from).execute();
            if (c == 1) {
                appendLogs(h, jobId, f.log());
            }
            return c;
        });
        if (n != 1) {
            throw new HavenException(ErrorCode.CONFLICT, "job " + jobId + " changed state meanwhile; its outcome was not recorded");
        }
        // a slot of this agent is free again; no other agent's claim depends on it (its load only fell)
        signal.signalAgent(agentId);
        Job done = get(jobId);
        onEnded.accept(done);
        return done;
    }

    private Job own(long agentId, long jobId) {
        Job j = find(jobId).orElse(null);
        if (j == null || j.agentId() == null || j.agentId() != agentId) {
            throw new HavenException(ErrorCode.NOT_FOUND, "no job " + jobId + " for this agent");
        }
        return j;
    }

    /** Prefix of messages of jobs the server settled itself (an agent's late report may replace them). */
    public static final String SETTLED = "settled by the server: ";

    /**
     * Cancels a job: a queued one at once, a running one by asking its agent (it stops and reports
     * {@code cancelled}). CONFLICT when it has ended.
     */
    public Job cancel(long jobId, String by) {
        Job j = get(jobId);
        if (j.state().done()) {
            throw new HavenException(ErrorCode.CONFLICT, "job " + jobId + " has ended (" + j.state().label() + "); nothing to cancel");
        }
        long now = clock.millis();
        int n = jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET state = 'cancelled', finished_at = :now, updated_at = :now, "
                        + "message = :m WHERE id = :id AND state = 'queued'")
                .bind("now", now).bind("m", "cancelled by " + by + " before it started").bind("id", jobId).execute());
        if (n == 0) {
            jdbi.useHandle(h -> h.createUpdate("UPDATE jobs SET cancel_requested = TRUE, updated_at = :now WHERE id = :id AND state = 'running'")
                    .bind("now", now).bind("id", jobId).execute());
            log(jobId, "warn", "cancel requested by " + by);
        } else {
            Job done = get(jobId);
            onEnded.accept(done);
        }
        signal.signalFor(j.agentId(), j.spec().pool());
        return get(jobId);
    }

    /** Whether an agent runs a job that uses a repository right now (what lets it reach that repository). */
    public boolean runsJobOn(long agentId, long repositoryId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM jobs WHERE agent_id = :a AND repository_id = :r AND state = 'running'")
                .bind("a", agentId).bind("r", repositoryId).mapTo(Long.class).one()) > 0;
    }

    /** Ids among {@code running} whose cancellation was asked for. */
    public List<Long> cancelRequested(long agentId, List<Long> running) {
        if (running == null || running.isEmpty()) {
            return List.of();
        }
        return jdbi.withHandle(h -> h.createQuery("SELECT id FROM jobs WHERE agent_id = :a AND cancel_requested = TRUE AND id IN (<ids>)")
                .bind("a", agentId).bindList("ids", running).mapTo(Long.class).list());
    }

    /**
     * Settles the running jobs of an agent's earlier process ({@code instance} is the new one): that
     * process is gone, and its jobs with it.
     */
    public List<Job> settleOtherInstances(long agentId, String instance) {
        List<Job> lost = jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE j.agent_id = :a AND j.state = 'running' "
                        + "AND (j.agent_instance IS NULL OR j.agent_instance <> :i)")
                .bind("a", agentId).bind("i", instance).map((rs, c) -> row(rs)).list());
        return settle(lost, "the agent restarted while running it (its process stopped); run it again");
    }

    /** Settles running agent jobs whose agent has not been heard from since {@code lostAfter}. */
    public List<Job> settleLost(Duration lostAfter) {
        long cutoff = clock.millis() - lostAfter.toMillis();
        List<Job> lost = jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE j.state = 'running' AND j.agent_id IS NOT NULL "
                        + "AND (a.last_seen_at IS NULL OR a.last_seen_at < :c) AND j.updated_at < :c")
                .bind("c", cutoff).map((rs, c) -> row(rs)).list());
        return settle(lost, "its agent has not been heard from for " + (lostAfter.toSeconds() < 120 ? lostAfter.toSeconds() + " s"
                : lostAfter.toMinutes() + " min"));
    }

    /**
     * Ends the jobs of agents that are disabled or revoked ({@code agentId}: of that agent only; null:
     * of every agent): queued ones assigned to such an agent fail at once, running ones are settled
     * failed (the agent can no longer report, nor reach the repository). Pooled jobs that wait
     * unassigned stay queued for the pool's other members. Called when an agent is disabled or
     * revoked, and by the control loop (for a job another server queued in the same instant).
     * Returns the jobs it ended.
     */
    public List<Job> settleForInactiveAgents(Long agentId) {
        record Mine(long job, String state, String agent, String agentState) {}
        List<Mine> mine = jdbi.withHandle(h -> h.createQuery("SELECT j.id, j.state, a.name, a.state AS agent_state FROM jobs j "
                        + "JOIN agents a ON a.id = j.agent_id WHERE j.state IN ('queued', 'running') AND a.state <> 'active' "
                        + "AND (:all OR a.id = :a)")
                .bind("all", agentId == null).bind("a", agentId == null ? -1 : agentId)
                .map((rs, c) -> new Mine(rs.getLong("id"), rs.getString("state"), rs.getString("name"), rs.getString("agent_state"))).list());
        List<Job> out = new ArrayList<>();
        for (Mine m : mine) {
            String why = "agent " + m.agent() + " is " + m.agentState() + (m.agentState().equals("disabled")
                    ? "; enable it (haven agent enable " + m.agent() + ") and run the job again" : "; enrol the host again and run the job again");
            String message = m.state().equals("queued") ? "not started: " + why : SETTLED + why;
            int n = jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET state = 'failed', finished_at = :now, updated_at = :now, "
                            + "message = :m WHERE id = :id AND state = :s")
                    .bind("now", clock.millis()).bind("m", message).bind("id", m.job()).bind("s", m.state()).execute());
            if (n == 1) {
                log(m.job(), "error", message);
                Job done = get(m.job());
                onEnded.accept(done);
                out.add(done);
            }
        }
        if (agentId != null) {
            signal.signalAgent(agentId);
        }
        return out;
    }

    /** Settles server-side jobs whose lease ran out (the server running them stopped). */
    public List<Job> settleExpiredLeases() {
        List<Job> lost = jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE j.state = 'running' AND j.agent_id IS NULL "
                + "AND j.lease_until < :now").bind("now", clock.millis()).map((rs, c) -> row(rs)).list());
        return settle(lost, "the server running it stopped (its lease ran out); the next scheduled run redoes the work");
    }

    private List<Job> settle(List<Job> jobs, String why) {
        List<Job> out = new ArrayList<>();
        for (Job j : jobs) {
            int n = jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET state = 'failed', finished_at = :now, updated_at = :now, "
                            + "message = :m WHERE id = :id AND state = 'running' AND updated_at = :u")
                    .bind("now", clock.millis()).bind("m", SETTLED + why).bind("id", j.id()).bind("u", j.updatedAt().toEpochMilli()).execute());
            if (n == 1) {
                log(j.id(), "error", SETTLED + why);
                Job done = get(j.id());
                onEnded.accept(done);
                out.add(done);
            }
        }
        if (!out.isEmpty()) {
            signal.signalAll();
        }
        return out;
    }

    // --- server-side jobs (maintenance)

    /** Claims the oldest queued server-side job for {@code owner} with a lease; empty when none. */
    public Optional<Job> claimServerJob(String owner, Duration lease) {
        List<Long> ids = jdbi.withHandle(h -> h.createQuery("SELECT id FROM jobs WHERE state = 'queued' AND type = 'maintenance' ORDER BY id LIMIT 5")
                .mapTo(Long.class).list());
        for (long id : ids) {
            long now = clock.millis();
            int n = jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET state = 'running', started_at = :now, updated_at = :now, "
                            + "lease_owner = :o, lease_until = :u WHERE id = :id AND state = 'queued'")
                    .bind("now", now).bind("o", owner).bind("u", now + lease.toMillis()).bind("id", id).execute());
            if (n == 1) {
                return Optional.of(get(id));
            }
        }
        return Optional.empty();
    }

    /** Extends a lease; false when this owner lost the job (it was settled). */
    public boolean renew(long jobId, String owner, Duration lease) {
        long now = clock.millis();
        return jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET lease_until = :u, updated_at = :now WHERE id = :id AND lease_owner = :o "
                        + "AND state = 'running'")
                .bind("u", now + lease.toMillis()).bind("now", now).bind("id", jobId).bind("o", owner).execute()) == 1;
    }

    /** Ends a server-side job this owner holds. */
    public Job finishServerJob(long jobId, String owner, State to, String message, Map<String, Object> result) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE jobs SET state = :s, finished_at = :now, updated_at = :now, message = :m, result = :r "
                        + "WHERE id = :id AND lease_owner = :o AND state = 'running'")
                .bind("s", to.label()).bind("now", clock.millis()).bind("m", truncate(message, 2048))
                .bind("r", result == null ? null : json(result)).bind("id", jobId).bind("o", owner).execute());
        Job done = get(jobId);
        onEnded.accept(done);
        return done;
    }

    // --- rows

    private Job row(ResultSet rs) throws SQLException {
        return new Job(rs.getLong("id"), rs.getString("type"), State.parse(rs.getString("state")), rs.getString("origin"),
                rs.getString("requested_by"), longOrNull(rs, "workload_id"), rs.getString("workload_name"), longOrNull(rs, "policy_id"),
                longOrNull(rs, "repository_id"), longOrNull(rs, "agent_id"), rs.getString("agent_name"), rs.getString("agent_instance"),
                Codec.read(rs.getString("spec").getBytes(StandardCharsets.UTF_8), JobSpec.class), instant(rs, "created_at"),
                instant(rs, "started_at"), instant(rs, "finished_at"), instant(rs, "updated_at"), rs.getLong("bytes_done"),
                rs.getLong("bytes_total"), rs.getLong("files_done"), rs.getLong("files_total"), rs.getString("message"),
                rs.getString("result"), rs.getBoolean("cancel_requested"), rs.getString("run_id"), rs.getString("command_id"));
    }

    private static Long longOrNull(ResultSet rs, String col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : v;
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    static String json(Object o) {
        return new String(Codec.write(o), StandardCharsets.UTF_8);
    }

    static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
