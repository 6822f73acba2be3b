package io.haven.agent;

import io.haven.agent.driver.Driver;
import io.haven.agent.driver.PostgresDriver;
import io.haven.agent.driver.Probe;
import io.haven.agent.driver.Probes;
import io.haven.agent.driver.ProcessDriver;
import io.haven.agent.driver.WorkloadInstance;
import io.haven.core.ErrorCode;
import io.haven.core.FileTrees;
import io.haven.core.HavenException;
import io.haven.core.process.HostScript;
import io.haven.protocol.Codec;
import io.haven.protocol.Messages;
import io.haven.repository.Repository;
import io.haven.repository.restorer.RestoreCounters;
import io.haven.repository.restorer.RestoreOptions;
import io.haven.repository.restorer.Restorer;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The agent's side of DR runs and of the continuous DR copy keeper: task type {@code dr}, one
 * operation ({@link Messages.DrSpec#op()}) on one workload instance of this host. docs/drivers.md
 * ("DR operations") is the reference: the ops, the directories, the options, the results.
 *
 * <p>Design: {@link DrInstances} places the instance (production or sandbox) and maps the options
 * to driver settings; each op is a method returning an outcome. Expected failures (a fenced
 * plan, a workload that still runs, a probe not green by its deadline, a script exiting non-zero)
 * are outcomes; anything thrown becomes a {@code failed} outcome with its one-line message. Long
 * waits (probes, scripts, applying WAL) check the cancel flag every few hundred milliseconds and
 * end {@code cancelled}; a raised flag turns any other outcome into {@code cancelled} too. Every op
 * is idempotent, so a command issued again after a restart of the agent or the server is safe.
 *
 * <p>One object runs one task on one thread. The drivers' on-disk state makes separate objects
 * (and agent restarts) see the same instances.
 */
final class DrTasks {
    static final Duration PROBE_INTERVAL = Duration.ofMillis(500);
    static final Duration DEFAULT_PROBE_WINDOW = Duration.ofMinutes(2);
    static final Duration DEFAULT_SCRIPT_TIMEOUT = Duration.ofMinutes(5);
    static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(30);
    static final Duration DEFAULT_APPLY_TIMEOUT = Duration.ofMinutes(5);
    static final String INSTANCE_FILE = "instance.json";
    private static final String LSN = "[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}";

    /** One lock per instance (its directory) in this agent process. */
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final DrInstances places;
    private final String site;
    private final Fences fences;
    private final Supplier<Repository> repository;
    private final JobLog log;
    private final BooleanSupplier cancelled;
    private final int threads;
    private final Consumer<TaskRunner.Counters> counters;
    private final InstantSource clock;
    private final ProcessDriver process = new ProcessDriver();
    private final PostgresDriver postgres = new PostgresDriver();
    private final Probes probes = new Probes(Duration.ofSeconds(2));

    /**
     * @param home the agent's directory (its identity's); DR instances live under it
     * @param site this agent's site (for messages; null when unknown)
     * @param repository opens the task's repository (called only by ops that need one; the caller closes it)
     * @param cancelled raised when the job is cancelled
     * @param counters receives live counters of restores and backups
     */
    DrTasks(Path home, String site, Fences fences, Supplier<Repository> repository, JobLog log, BooleanSupplier cancelled,
            int threads, Consumer<TaskRunner.Counters> counters, InstantSource clock) {
        this.places = new DrInstances(home);
        this.site = site;
        this.fences = fences;
        this.repository = repository;
        this.log = log;
        this.cancelled = cancelled;
        this.threads = Math.max(1, threads);
        this.counters = counters;
        this.clock = clock;
    }

    /** Runs one DR op; never throws for a failure of the op (that is the outcome). */
    TaskRunner.Outcome run(Messages.DrSpec s) {
        TaskRunner.Outcome o;
        try {
            if (s == null || s.op() == null) {
                return failed("the task carries no DR operation");
            }
            log.info("DR " + s.op() + (s.workload() == null ? "" : " of " + s.workload()) + (s.plan() == null ? "" : " (plan " + s.plan()
                    + ")") + (s.sandbox() ? " in the sandbox of run " + s.run() : ""));
            o = switch (s.op()) {
                case "prepare", "hydrate" -> locked(s, () -> prepare(s));
                case "start" -> locked(s, () -> start(s));
                case "stop" -> locked(s, () -> stop(s));
                case "probe" -> probe(s);
                case "script" -> script(s);
                case "backup" -> locked(s, () -> backup(s));
                case "apply" -> locked(s, () -> apply(s));
                case "rejoin" -> locked(s, () -> rejoin(s));
                case "cleanup" -> cleanup(s);
                default -> failed("this agent cannot run DR op " + s.op() + "; upgrade it");
            };
        } catch (RuntimeException e) {
            if (cancelled.getAsBoolean()) {
                return new TaskRunner.Outcome("cancelled", "cancelled on request (" + oneLine(e) + ")", null);
            }
            o = failed(oneLine(e));
        }
        if (cancelled.getAsBoolean() && !o.status().equals("cancelled")) {
            return new TaskRunner.Outcome("cancelled", "cancelled on request; " + o.message(), o.result());
        }
        if (o.status().equals("succeeded")) {
            log.info(o.message());
        }
        return o;
    }

    /**
     * Runs {@code op} holding the instance's lock: two DR tasks on one instance (the keeper's
     * hydrate and a run's apply, say) take turns instead of writing its volumes at once. Waiting
     * ends on a cancel.
     */
    private TaskRunner.Outcome locked(Messages.DrSpec s, Supplier<TaskRunner.Outcome> op) {
        ReentrantLock lock = LOCKS.computeIfAbsent(places.workloadDir(s), k -> new ReentrantLock());
        long t0 = System.nanoTime();
        boolean said = false;
        try {
            while (!lock.tryLock(200, TimeUnit.MILLISECONDS)) {
                if (cancelled.getAsBoolean()) {
                    return cancelledOutcome("waited " + took(t0) + " for another DR operation on " + s.workload());
                }
                if (!said) {
                    log.info("waiting for another DR operation on " + s.workload() + " to end");
                    said = true;
                }
            }
        } catch (InterruptedException e) {
            return interrupted("waited " + took(t0) + " for another DR operation on " + s.workload());
        }
        try {
            return op.get();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- prepare, hydrate

    private TaskRunner.Outcome prepare(Messages.DrSpec s) {
        WorkloadInstance w = places.instance(s);
        boolean pg = isPostgres(s);
        if (s.sandbox()) {
            writeInstanceFile(s);
            return pg ? postgresSandbox(s, w) : processCopy(s, w, false);
        }
        return pg ? postgresStandby(s, w) : processCopy(s, w, true);
    }

    /**
     * A process workload's copy from a snapshot: a sync restore into the production volumes (only
     * what differs is written), or a restore into the sandbox volumes.
     */
    private TaskRunner.Outcome processCopy(Messages.DrSpec s, WorkloadInstance w, boolean sync) {
        refuseRunning(process, w, "its copy is hydrated");
        if (w.settings().containsKey("command")) {
            process.prepare(w);
        } else {
            createDirectories(w);
        }
        if (s.snapshot() == null) {
            return failed("no recoverable point for " + s.workload() + ": the task names no snapshot");
        }
        return restoreSnapshot(s, w, sync, sync ? "hydrated" : "restored");
    }

    /**
     * Each {@code snapshotPaths[i]} of the snapshot into volume i. With {@code sync} (or a volume
     * that already holds something, as when a sandbox prepare is issued again) a sync restore.
     */
    private TaskRunner.Outcome restoreSnapshot(Messages.DrSpec s, WorkloadInstance w, boolean sync, String verb) {
        List<String> paths = s.snapshotPaths();
        int n = s.volumes().size();
        if (paths == null || paths.size() != n) {
            throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": the task gives " + (paths == null ? 0 : paths.size())
                    + " snapshot path(s) for " + n + " volume(s)");
        }
        long files = 0;
        long bytes = 0;
        long written = 0;
        long kept = 0;
        long deleted = 0;
        try (Repository repo = repository.get()) {
            Repository.SnapshotEntry entry = repo.resolve(s.snapshot());
            for (int i = 0; i < n; i++) {
                if (cancelled.getAsBoolean()) {
                    return cancelledOutcome(verb + " " + i + " of " + n + " volume(s) before the cancel");
                }
                Path target = w.volumes().get(DrInstances.volumeName(i));
                boolean asSync = sync || !isEmpty(target);
                RestoreOptions o = new RestoreOptions(target, paths.get(i), List.of(), List.of(), false, false, Math.max(2, threads * 2));
                Restorer restorer = new Restorer(repo, asSync ? o.withSync(false) : o);
                RestoreCounters c = restorer.counters();
                counters.accept(new TaskRunner.Counters(c::bytesDone, c::totalBytes, c::filesDone, c::totalFiles));
                log.info((asSync ? "syncing " : "restoring ") + paths.get(i) + " of snapshot " + entry.id().shortHex() + " ("
                        + entry.snapshot().time() + ") into " + target);
                Restorer.Result r = restorer.run(entry);
                r.warnings().forEach(log::warn);
                if (r.skipped() > 0) {
                    // a recovery copy that lacks files is not one
                    throw new HavenException(ErrorCode.IO, "restore of " + paths.get(i) + " is incomplete: " + r.warnings().get(0));
                }
                files += r.files();
                bytes += r.bytes();
                written += r.filesWritten();
                kept += r.filesKept();
                deleted += r.deleted();
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("point", point(entry.id().hex(), instant(entry.snapshot().time())));
            out.put("snapshot_id", entry.id().hex());
            out.put("files", files);
            out.put("bytes", bytes);
            out.put("files_written", written);
            out.put("files_kept", kept);
            out.put("deleted", deleted);
            return new TaskRunner.Outcome("succeeded", verb + " " + s.workload() + " from snapshot " + entry.id().shortHex() + " of "
                    + entry.snapshot().time() + ": " + written + " file(s) written, " + kept + " kept, " + deleted + " deleted", out);
        }
    }

    /**
     * A database's DR copy: a running streaming standby of the primary. Seeded into an empty volume;
     * a standby already there is made sure to run; a stopped old primary that the named primary has
     * everything of ({@code pg_rewind --dry-run}: no rewind required) is made its standby; any other
     * primary there is refused when a primary is named (it must rejoin first), and taken as it is in
     * a forced failover (no primary).
     */
    private TaskRunner.Outcome postgresStandby(Messages.DrSpec s, WorkloadInstance w) {
        postgres.validate(w);
        String how;
        if (!postgres.holdsCluster(w)) {
            if (s.primary() == null) {
                return failed("no recoverable point for " + s.workload() + ": " + data(w) + " holds no copy and the task names no "
                        + "primary to seed one from");
            }
            HostPort p = HostPort.parse(s.primary());
            log.info("seeding a standby of " + s.primary() + " into " + data(w) + " (a base backup)");
            postgres.seedStandby(w, p.host(), p.port(), false);
            how = "seeded a standby of " + s.primary();
        } else if (postgres.configuredAsStandby(w)) {
            boolean ran = postgres.running(w);
            postgres.start(w);
            how = ran ? "its standby runs" : "started its standby";
        } else if (s.primary() != null && postgres.canFollowWithoutRewind(w, HostPort.parse(s.primary()).host(),
                HostPort.parse(s.primary()).port())) {
            // an old primary stopped gracefully after the new one took over everything it had (a committed planned
            // failover or failback): it follows the new primary, nothing is thrown away
            HostPort p = HostPort.parse(s.primary());
            log.info(data(w) + " holds an old primary that " + s.primary() + " has everything of: it follows it as a standby");
            postgres.rejoinAsStandby(w, p.host(), p.port());
            how = "made the stopped old primary a standby of " + s.primary() + " (no rewind required)";
        } else if (s.primary() != null) {
            // "promoted" tells the server's DR-copy keeper that this copy must rejoin (pg_rewind) before it is one again
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("promoted", true);
            return failed("workload " + s.workload() + ": " + data(w) + " holds a primary (promoted by an "
                    + "earlier run), not a standby of " + s.primary() + "; the server makes it rejoin as a standby (pg_rewind) when the "
                    + "plan runs at its protected site, a failback's reprotect does otherwise", out);
        } else {
            // a forced failover finds a copy that an earlier run promoted and that has not rejoined since: its data
            // stopped following the lost site when it was promoted, and holds that run's writes. No honest point in time
            // can be given for it, so it is not offered as a recovery point.
            return failed("workload " + s.workload() + ": " + data(w) + " holds a primary promoted by an earlier run that has not "
                    + "rejoined as a standby since: it stopped following the protected site then, and Haven cannot say how old its "
                    + "data is; start it by hand if it is the best copy left (the run will not present it as a recovery point)");
        }
        Instant at = dataTime(w);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("point", point("postgres-standby", at));
        return new TaskRunner.Outcome("succeeded", s.workload() + ": " + how + "; it holds data as of " + at, out);
    }

    /** A drill's database: a stand-alone copy (not a standby) of the named cluster, on the sandbox address, stopped. */
    private TaskRunner.Outcome postgresSandbox(Messages.DrSpec s, WorkloadInstance w) {
        postgres.validate(w);
        if (s.primary() == null) {
            throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": a sandbox copy of a database needs the cluster it "
                    + "is copied from (primary host:port)");
        }
        HostPort p = HostPort.parse(s.primary());
        // how recent the source's data is now; the copy taken next is at least as recent
        Instant at = dataTime(new WorkloadInstance(w.name(), w.volumes(), p.host(), withPort(w.settings(), p.port()), w.runDir()));
        log.info("copying " + s.primary() + " into the sandbox volume " + data(w) + " (a base backup, then promoted on its own)");
        postgres.seedIsolatedCopy(w, p.host(), p.port());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("point", point("postgres-copy", at));
        return new TaskRunner.Outcome("succeeded", "sandbox copy of " + s.workload() + " from " + s.primary() + " ready at " + data(w)
                + " (data as of " + at + ")", out);
    }

    /**
     * How recent a cluster's data is: now for a primary, and for a standby streaming from a live
     * primary with everything received replayed; otherwise the time of the last transaction it
     * replayed, or, when it replayed none since it started, its last checkpoint's time (older,
     * so the point errs on the safe side).
     */
    private Instant dataTime(WorkloadInstance w) {
        String ms = postgres.sql(w, "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL "
                + "WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') "
                + "AND pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN NULL "
                + "ELSE (EXTRACT(EPOCH FROM COALESCE(pg_last_xact_replay_timestamp(), "
                + "(SELECT checkpoint_time FROM pg_control_checkpoint()))) * 1000)::bigint END");
        return ms.isEmpty() ? clock.instant() : Instant.ofEpochMilli(Long.parseLong(ms));
    }

    // ---------------------------------------------------------------- start, stop

    private TaskRunner.Outcome start(Messages.DrSpec s) {
        if (!s.sandbox()) {
            String refusal = fences.refusal(DrInstances.name("plan", s.plan()), site);
            if (refusal != null) {
                return failed(refusal);
            }
        }
        WorkloadInstance w = places.instance(s);
        if (isPostgres(s)) {
            boolean ran = postgres.running(w);
            postgres.start(w);
            if (postgres.isStandby(w)) {
                log.info("promoting the standby " + s.workload());
                postgres.promote(w);
                return new TaskRunner.Outcome("succeeded", s.workload() + (ran ? " ran as a standby" : " started as a standby")
                        + " and was promoted", new LinkedHashMap<>());
            }
            return new TaskRunner.Outcome("succeeded", s.workload() + (ran ? " already runs" : " started"), new LinkedHashMap<>());
        }
        boolean ran = process.running(w);
        process.start(w);
        return new TaskRunner.Outcome("succeeded", s.workload() + (ran ? " already runs" : " started"), new LinkedHashMap<>());
    }

    private TaskRunner.Outcome stop(Messages.DrSpec s) {
        WorkloadInstance w = places.instance(s);
        Driver d = isPostgres(s) ? postgres : process;
        Duration grace = millis(s.timeoutMillis(), DEFAULT_STOP_GRACE);
        boolean ran = d.running(w);
        d.stop(w, grace);
        return new TaskRunner.Outcome("succeeded", ran ? s.workload() + " stopped" : s.workload() + " was not running here"
                + (d == process ? " (no process Haven started in " + w.runDir() + ")" : ""), new LinkedHashMap<>());
    }

    // ---------------------------------------------------------------- probe

    private TaskRunner.Outcome probe(Messages.DrSpec s) {
        Messages.ProbeSpec spec = s.probe();
        if (spec != null && "command".equals(spec.type()) && spec.command() != null && spec.command().contains("${")) {
            // the workload's placeholders, as in a process's command (${bind}, ${runDir}, ${volume.NAME}), of the
            // instance probed (a drill's sandbox copy, or production); an unknown one is refused, not left to the shell
            spec = new Messages.ProbeSpec(spec.type(), spec.host(), spec.port(), spec.url(), spec.status(),
                    io.haven.agent.driver.ProcessDriver.substitute(spec.command(), places.instance(s)));
        }
        Probe p = probeOf(spec);
        long t0 = System.nanoTime();
        long deadline = s.deadline() != null ? s.deadline() : clock.millis() + DEFAULT_PROBE_WINDOW.toMillis();
        Probe.Result last;
        int attempts = 0;
        while (true) {
            if (cancelled.getAsBoolean()) {
                return cancelledOutcome("probing stopped after " + took(t0));
            }
            last = probes.once(p);
            attempts++;
            if (last.ok()) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("attempts", attempts);
                return new TaskRunner.Outcome("succeeded", "green after " + took(t0) + ": " + last.detail(), out);
            }
            long left = deadline - clock.millis();
            if (left <= 0) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("attempts", attempts);
                out.put("last", last.detail());
                return new TaskRunner.Outcome("failed", "not green by the deadline (probed for " + took(t0) + ", " + attempts
                        + " attempt(s)); last: " + last.detail(), out);
            }
            if (!pause(Math.min(PROBE_INTERVAL.toMillis(), left))) {
                return interrupted("probing stopped after " + took(t0) + "; last: " + last.detail());
            }
        }
    }

    static Probe probeOf(Messages.ProbeSpec p) {
        if (p == null) {
            throw new HavenException(ErrorCode.USAGE, "the probe task names no probe");
        }
        String type = p.type() != null ? p.type() : p.command() != null ? "command" : p.url() != null ? "http" : "tcp";
        return switch (type) {
            case "tcp" -> new Probe.Tcp(p.host(), p.port() == null ? -1 : p.port());
            case "http" -> {
                try {
                    yield new Probe.Http(URI.create(p.url()), p.status() == null ? 200 : p.status());
                } catch (IllegalArgumentException | NullPointerException e) {
                    throw new HavenException(ErrorCode.USAGE, "an HTTP probe needs an http:// or https:// URL, not " + p.url());
                }
            }
            case "command" -> {
                if (p.command() == null || p.command().isBlank()) {
                    throw new HavenException(ErrorCode.USAGE, "a command probe needs a command");
                }
                yield new Probe.Command(List.of("/bin/sh", "-c", p.command()));
            }
            default -> throw new HavenException(ErrorCode.USAGE, "this agent knows tcp, http and command probes, not '" + type
                    + "'; upgrade it");
        };
    }

    // ---------------------------------------------------------------- script

    /** {@code /bin/sh -c SCRIPT} on this host ({@link HostScript}); succeeded when it exits 0. */
    private TaskRunner.Outcome script(Messages.DrSpec s) {
        if (s.script() == null || s.script().isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "the script task names no script");
        }
        Duration timeout = millis(s.timeoutMillis(), DEFAULT_SCRIPT_TIMEOUT);
        Map<String, String> env = new LinkedHashMap<>();
        if (s.env() != null) {
            s.env().forEach((k, v) -> env.put(k, v == null ? "" : v));
        }
        putIfSet(env, "HAVEN_PLAN", s.plan());
        putIfSet(env, "HAVEN_RUN", s.run());
        putIfSet(env, "HAVEN_WORKLOAD", s.workload());
        try {
            Files.createDirectories(places.home());
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot create " + places.home() + ": " + e.getMessage(), e);
        }
        HostScript.Result r = HostScript.run(s.script(), env, places.home(), timeout, cancelled);
        String took = seconds(r.took());
        return switch (r.end()) {
            case EXITED -> {
                String last = r.output().lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("");
                yield scriptOutcome(r.exitCode() == 0 ? "succeeded" : "failed", "exited " + r.exitCode() + " after " + took
                        + (r.exitCode() == 0 || last.isEmpty() ? "" : ": " + last.strip()), r);
            }
            case TIMED_OUT -> scriptOutcome("failed", "still running after " + seconds(timeout) + ": killed", r);
            case CANCELLED -> scriptOutcome("cancelled", "cancelled after " + took + ": killed", r);
            case INTERRUPTED -> scriptOutcome("failed", "interrupted after " + took + " (the agent is stopping): killed", r);
            case NOT_STARTED -> scriptOutcome("failed", "could not be started: " + r.detail(), r);
        };
    }

    private TaskRunner.Outcome scriptOutcome(String status, String message, HostScript.Result r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("exitCode", r.exitCode());
        out.put("output", r.output());
        if (!status.equals("succeeded")) {
            log.warn("script " + message);
        }
        return new TaskRunner.Outcome(status, "script " + message, out);
    }

    // ---------------------------------------------------------------- backup, apply, rejoin

    /** The final snapshot of a stopped workload at the source site. */
    private TaskRunner.Outcome backup(Messages.DrSpec s) {
        if (s.sandbox()) {
            throw new HavenException(ErrorCode.USAGE, "a sandbox is never backed up");
        }
        WorkloadInstance w = places.instance(s);
        if (isPostgres(s)) {
            refuseRunning(postgres, w, "a final snapshot is of a stopped workload");
            if (!postgres.holdsCluster(w)) {
                return failed("workload " + s.workload() + ": " + data(w) + " holds no PostgreSQL cluster");
            }
            Map<String, String> control = postgres.controlData(w);
            String state = control.getOrDefault("Database cluster state", "unknown");
            String lsn = control.get("Latest checkpoint location");
            if (!state.equals("shut down")) {
                return failed("workload " + s.workload() + ": the cluster at " + data(w) + " is not a primary shut down cleanly (state: "
                        + state + "); start it and stop it again, so that its last checkpoint covers all of its WAL");
            }
            if (lsn == null || !lsn.matches(LSN)) {
                return failed("workload " + s.workload() + ": pg_controldata gave no checkpoint location (" + lsn + ")");
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("lsn", lsn);
            out.put("point", point("lsn:" + lsn, clock.instant()));
            return new TaskRunner.Outcome("succeeded", s.workload() + " is stopped at checkpoint " + lsn, out);
        }
        // a run's final snapshot comes after the run stopped the workload; the DR copy keeper's
        // replication snapshots it while it runs, quiesced around the snapshot when it says how
        boolean live = process.running(w);
        if (s.host() == null || s.host().isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": the backup task names no host for the snapshot");
        }
        List<String> paths = w.volumes().entrySet().stream()
                .sorted(Comparator.comparingInt((Map.Entry<String, Path> e) -> volumeIndex(e.getKey())))
                .map(e -> e.getValue().toString()).toList();
        Messages.BackupSpec b = new Messages.BackupSpec(s.workload(), s.host(), paths, List.of(),
                List.of("haven-dr", "plan:" + s.plan(), "workload:" + s.workload()), 0, false);
        if (live) {
            log.info(s.workload() + " runs: its snapshot is taken live" + (w.argv("quiesce").isEmpty() ? " (crash-consistent; set the "
                    + "quiesce option for an application-consistent one)" : ", quiesced"));
            process.quiesce(w);
        }
        try (Repository repo = repository.get()) {
            TaskRunner.Backup r = TaskRunner.backup(repo, b, log, threads, counters);
            if (!r.outcome().status().equals("succeeded")) {
                return failed("the snapshot of " + s.workload() + " missed " + r.result().snapshot().summary().missed().size()
                        + " path(s) (first: " + r.result().snapshot().summary().missed().getFirst().path() + "); the copy would lack them");
            }
            Map<String, Object> out = new LinkedHashMap<>(r.outcome().result());
            out.put("point", point(r.result().snapshotId().hex(), instant(r.result().snapshot().time())));
            out.put("live", live);
            return new TaskRunner.Outcome("succeeded", (live ? "live " : "stopped workload's ") + r.outcome().message(), out);
        } finally {
            if (live) {
                process.unquiesce(w);
            }
        }
    }

    private static int volumeIndex(String name) {
        return name.equals("data") ? 0 : Integer.parseInt(name.substring(1));
    }

    /** The final snapshot onto the prepared copy: a sync restore, or WAL replayed up to the final LSN. */
    private TaskRunner.Outcome apply(Messages.DrSpec s) {
        if (s.sandbox()) {
            throw new HavenException(ErrorCode.USAGE, "nothing is applied to a sandbox");
        }
        WorkloadInstance w = places.instance(s);
        if (!isPostgres(s)) {
            refuseRunning(process, w, "a snapshot is applied to a stopped copy");
            if (s.snapshot() == null) {
                throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": the apply task names no snapshot");
            }
            createDirectories(w);
            return restoreSnapshot(s, w, true, "applied to");
        }
        String lsn = s.lsn();
        if (lsn == null || !lsn.matches(LSN)) {
            throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": the apply task needs a WAL position like 0/3000148, "
                    + "not " + lsn);
        }
        postgres.validate(w);
        if (!postgres.holdsCluster(w) || !postgres.configuredAsStandby(w)) {
            return failed("workload " + s.workload() + ": " + data(w) + " holds no standby; nothing can be applied to it (prepare it first)");
        }
        postgres.start(w);
        Duration timeout = millis(s.timeoutMillis(), DEFAULT_APPLY_TIMEOUT);
        long t0 = System.nanoTime();
        long end = t0 + timeout.toNanos();
        while (true) {
            String[] row = postgres.sql(w, "SELECT pg_wal_lsn_diff('" + lsn + "', COALESCE(pg_last_wal_replay_lsn(), '0/0')), "
                    + "COALESCE(pg_last_wal_replay_lsn()::text, 'nothing')").split("\\|", 2);
            BigDecimal behind = new BigDecimal(row[0].trim());
            String replayed = row.length > 1 ? row[1].trim() : "?";
            if (behind.signum() <= 0) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("lsn", replayed);
                return new TaskRunner.Outcome("succeeded", "the standby of " + s.workload() + " replayed up to " + replayed + ", at or "
                        + "past " + lsn + " (after " + took(t0) + ")", out);
            }
            if (System.nanoTime() >= end) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("lsn", replayed);
                out.put("bytesBehind", behind.longValue());
                return new TaskRunner.Outcome("failed", "the standby of " + s.workload() + " replayed up to " + replayed + " after "
                        + seconds(timeout) + ": still " + behind.toPlainString() + " byte(s) of WAL behind " + lsn, out);
            }
            if (!pause(Math.min(PROBE_INTERVAL.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)))) {
                return interrupted("waited " + took(t0) + " for " + lsn + "; replayed up to " + replayed);
            }
        }
    }

    /** Failback's reprotect: the old primary becomes a standby of the new one. */
    private TaskRunner.Outcome rejoin(Messages.DrSpec s) {
        if (s.sandbox()) {
            throw new HavenException(ErrorCode.USAGE, "a sandbox never rejoins");
        }
        if (!isPostgres(s)) {
            DrInstances.settings(s.driver(), s.options(), s.workload());
            return new TaskRunner.Outcome("succeeded", "nothing to do for the process workload " + s.workload()
                    + ": its reverse copy is made by backups and hydrates", new LinkedHashMap<>());
        }
        if (s.primary() == null) {
            throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": rejoin needs the new primary (host:port)");
        }
        WorkloadInstance w = places.instance(s);
        postgres.validate(w);
        HostPort p = HostPort.parse(s.primary());
        String how = postgres.rejoinAsStandby(w, p.host(), p.port());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("how", how);
        return new TaskRunner.Outcome("succeeded", s.workload() + (how.equals("rewound") ? " rewound with pg_rewind" : " re-seeded from a "
                + "base backup (it could not be rewound)") + " and follows " + s.primary() + " as its standby", out);
    }

    // ---------------------------------------------------------------- cleanup

    /** Stops every sandbox instance of the run and deletes its directory; a missing directory is success. */
    private TaskRunner.Outcome cleanup(Messages.DrSpec s) {
        Path dir = places.sandboxRun(s.run());
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return new TaskRunner.Outcome("succeeded", "no sandbox of run " + s.run() + " here", new LinkedHashMap<>());
        }
        List<String> stopped = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<Path> subs;
        try (Stream<Path> l = Files.list(dir)) {
            subs = l.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot list the sandbox " + dir + ": " + e.getMessage(), e);
        }
        for (Path sub : subs) {
            try {
                if (stopSandbox(s, sub)) {
                    stopped.add(sub.getFileName().toString());
                }
            } catch (RuntimeException e) {
                problems.add(sub.getFileName() + ": " + oneLine(e));
            }
        }
        if (!problems.isEmpty()) {
            return failed("the sandbox of run " + s.run() + " at " + dir + " was kept: cannot stop " + String.join("; ", problems)
                    + "; stop and remove it by hand");
        }
        try {
            FileTrees.deleteTree(dir);
        } catch (IOException e) {
            return failed("cannot remove the sandbox of run " + s.run() + " at " + dir + ": " + e.getMessage() + "; remove it by hand");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("stopped", stopped);
        return new TaskRunner.Outcome("succeeded", "removed the sandbox of run " + s.run() + (stopped.isEmpty() ? "" : "; stopped "
                + String.join(", ", stopped)), out);
    }

    /** Stops the sandbox instance in {@code dir}; whether one ran. */
    private boolean stopSandbox(Messages.DrSpec cleanup, Path dir) {
        Path f = dir.resolve(INSTANCE_FILE);
        if (Files.exists(f)) {
            Messages.DrSpec s;
            try {
                s = Codec.read(Files.readAllBytes(f), Messages.DrSpec.class);
            } catch (IOException e) {
                throw new HavenException(ErrorCode.IO, "cannot read " + f + ": " + e.getMessage(), e);
            }
            WorkloadInstance w = places.instance(s);
            Driver d = isPostgres(s) ? postgres : process;
            boolean ran = d.running(w);
            d.stop(w, DEFAULT_STOP_GRACE);
            return ran;
        }
        // no instance file (a prepare that failed before writing it): whatever may run there
        String name = dir.getFileName().toString();
        WorkloadInstance proc = new WorkloadInstance(name, Map.of(), null, Map.of(), dir.resolve("run"));
        boolean ran = process.running(proc);
        process.stop(proc, DEFAULT_STOP_GRACE);
        if (Files.exists(dir.resolve("v0").resolve("postmaster.pid")) || "postgres".equals(cleanup.driver())) {
            WorkloadInstance pg = new WorkloadInstance(name, Map.of("data", dir.resolve("v0")), DrInstances.DEFAULT_BIND, Map.of(),
                    dir.resolve("run"));
            if (postgres.running(pg)) {
                postgres.stop(pg, DEFAULT_STOP_GRACE);
                ran = true;
            }
        }
        return ran;
    }

    /** A sandbox instance's spec, kept in its directory so cleanup knows its driver and settings. */
    private void writeInstanceFile(Messages.DrSpec s) {
        Path dir = places.workloadDir(s);
        Messages.DrSpec kept = new Messages.DrSpec("prepare", s.run(), null, s.plan(), s.workload(), s.driver(), s.options(), s.volumes(),
                s.bindAddress(), true, null, null, null, null, null, null, null, null, null, null);
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(INSTANCE_FILE + ".tmp");
            Files.write(tmp, Codec.write(kept));
            Files.move(tmp, dir.resolve(INSTANCE_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot write " + dir.resolve(INSTANCE_FILE) + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- small things

    /** A primary's (or standby's) {@code host:port}; IPv6 as {@code [addr]:port}. */
    record HostPort(String host, int port) {
        static HostPort parse(String s) {
            int c = s.lastIndexOf(':');
            String host = c > 0 ? s.substring(0, c) : "";
            String port = c > 0 ? s.substring(c + 1) : "";
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty() || !port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw new HavenException(ErrorCode.USAGE, "a primary is host:port (IPv6 as [addr]:port), not '" + s + "'");
            }
            return new HostPort(host, Integer.parseInt(port));
        }
    }

    private static boolean isPostgres(Messages.DrSpec s) {
        if ("postgres".equals(s.driver())) {
            return true;
        }
        if ("process".equals(s.driver())) {
            return false;
        }
        throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": this agent has no driver '" + s.driver()
                + "' (it has process, postgres); upgrade it");
    }

    private static void refuseRunning(Driver d, WorkloadInstance w, String why) {
        if (d.running(w)) {
            throw new HavenException(ErrorCode.CONFLICT, "workload " + w.name() + " runs here; stop it first (" + why + ")");
        }
    }

    private static Path data(WorkloadInstance w) {
        return w.volumes().get("data");
    }

    private static Map<String, Object> withPort(Map<String, Object> settings, int port) {
        Map<String, Object> m = new LinkedHashMap<>(settings);
        m.put("port", port);
        return m;
    }

    private static void createDirectories(WorkloadInstance w) {
        try {
            Files.createDirectories(w.runDir());
            for (Path v : w.volumes().values()) {
                Files.createDirectories(v);
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": cannot create its directories: " + e.getMessage(), e);
        }
    }

    private static boolean isEmpty(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        try (Stream<Path> l = Files.list(dir)) {
            return l.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static Map<String, Object> point(String snapshot, Instant time) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("snapshot", snapshot);
        m.put("time", time.toString());
        return m;
    }

    /** A snapshot's time (written as an instant; an offset date-time is taken too). */
    private static Instant instant(String time) {
        try {
            return Instant.parse(time);
        } catch (java.time.format.DateTimeParseException e) {
            return java.time.OffsetDateTime.parse(time).toInstant();
        }
    }

    private static void putIfSet(Map<String, String> env, String key, String value) {
        if (value != null) {
            env.put(key, value);
        }
    }

    private static Duration millis(Long ms, Duration otherwise) {
        return ms == null || ms <= 0 ? otherwise : Duration.ofMillis(ms);
    }

    /** Sleeps; false when the job was cancelled (or the thread interrupted) meanwhile. */
    private boolean pause(long ms) {
        try {
            Thread.sleep(Math.max(1, ms));
        } catch (InterruptedException e) {
            if (!cancelled.getAsBoolean()) {
                Thread.currentThread().interrupt(); // the agent is stopping: let the caller see it
            }
            return false;
        }
        return !cancelled.getAsBoolean();
    }

    private TaskRunner.Outcome failed(String message) {
        return failed(message, null);
    }

    private TaskRunner.Outcome failed(String message, Map<String, Object> result) {
        log.error(message);
        return new TaskRunner.Outcome("failed", message, result);
    }

    /** After a wait ended early: cancelled on request, or failed because the agent is stopping. */
    private TaskRunner.Outcome interrupted(String message) {
        return cancelled.getAsBoolean() ? cancelledOutcome(message) : failed("interrupted (the agent is stopping): " + message);
    }

    private TaskRunner.Outcome cancelledOutcome(String message) {
        log.warn("cancelled: " + message);
        return new TaskRunner.Outcome("cancelled", "cancelled on request: " + message, null);
    }

    private static String took(long t0) {
        return seconds(Duration.ofNanos(System.nanoTime() - t0));
    }

    private static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    /** An exception's message on one line (never a stack trace). */
    static String oneLine(Throwable e) {
        String m = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
