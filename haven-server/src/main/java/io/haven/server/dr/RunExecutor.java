package io.haven.server.dr;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.core.process.HostScript;
import io.haven.protocol.Codec;
import io.haven.runbook.DrPlan;
import io.haven.runbook.Step;
import io.haven.runbook.Where;
import io.haven.runbook.Workload;
import io.haven.runbook.run.Command;
import io.haven.runbook.run.Event;
import io.haven.runbook.run.RecoveryPoint;
import io.haven.runbook.run.RunCodec;
import io.haven.runbook.run.RunKind;
import io.haven.runbook.run.RunMachine;
import io.haven.runbook.run.RunRejectedException;
import io.haven.runbook.run.RunReport;
import io.haven.runbook.run.RunState;
import io.haven.runbook.run.Transition;
import io.haven.server.agent.Agents;
import io.haven.server.dns.DnsChange;
import io.haven.server.dns.DnsServer;
import io.haven.server.dns.DnsUpdater;
import io.haven.server.dns.RecordType;
import io.haven.server.dns.TsigKey;
import io.haven.server.inventory.Inventory;
import io.haven.server.job.Jobs;
import io.haven.server.plan.Plans;
import io.haven.server.repo.Repositories;
import io.haven.repository.Repository;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Carries DR runs out: creates them, applies events to them through {@link RunMachine} (storing
 * each new state before anything else happens) and performs the commands the machine asks for.
 *
 * <p>Commands run on virtual threads of the server that holds the run's lease, one thread per
 * outstanding command: agent work becomes a {@code dr} job keyed by run and command id (a command
 * issued again after a restart finds its job and waits for it, or takes its outcome if it has
 * ended); DNS updates, HTTP calls and server scripts run here; timers sleep until their absolute
 * time; approvals wait for an operator. When a command's work is done its answer is applied as
 * the next event. A tick every half second renews this server's leases, takes over runs whose
 * server is gone (and sends them {@link Event.Resumed}), and starts work for outstanding commands
 * that have none on this server (commands of events applied on another server, or of a resume).
 * docs/runbooks.md describes the whole.
 */
public final class RunExecutor implements AutoCloseable {
    /** How long a run's lease lasts without renewal: a dead server's runs are resumed elsewhere after this. */
    public static final Duration LEASE = Duration.ofSeconds(10);
    private static final Duration JOB_POLL = Duration.ofMillis(250);

    /** What the executor reports for notifications. */
    public interface Listener {
        void published(RunState state, RunReport report);

        void approvalNeeded(RunState state, Command.AskApproval ask);
    }

    private final Runs runs;
    private final Plans plans;
    private final Jobs jobs;
    private final Agents agents;
    private final Inventory inventory;
    private final Repositories repositories;
    private final Fences fences;
    private final DnsUpdater dns;
    private final InstantSource clock;
    private final String serverId;
    private final Listener listener;
    private final Consumer<String> log;
    private final Map<String, Thread> work = new ConcurrentHashMap<>();
    // ReentrantLocks, not synchronized: on Java 21 a virtual thread blocked in JDBC inside a
    // synchronized block pins its carrier thread
    private final Map<String, java.util.concurrent.locks.ReentrantLock> locks = new ConcurrentHashMap<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "haven-dr-runs");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private volatile boolean closed;
    private long ticks;

    public RunExecutor(Runs runs, Plans plans, Jobs jobs, Agents agents, Inventory inventory, Repositories repositories, Fences fences,
            DnsUpdater dns, InstantSource clock, String serverId, Listener listener, Consumer<String> log) {
        this.runs = runs;
        this.plans = plans;
        this.jobs = jobs;
        this.agents = agents;
        this.inventory = inventory;
        this.repositories = repositories;
        this.fences = fences;
        this.dns = dns;
        this.clock = clock;
        this.serverId = serverId;
        this.listener = listener;
        this.log = log;
    }

    public Runs runs() {
        return runs;
    }

    public Fences fences() {
        return fences;
    }

    public void start() {
        ticker.scheduleWithFixedDelay(this::tick, 0, 500, TimeUnit.MILLISECONDS);
    }

    // --- operators

    /**
     * Creates a run of the newest version of {@code planName} and starts it. One run per plan at a
     * time: a plan with a run not ended (a failover waiting for commit or rollback included) refuses.
     */
    public RunState begin(String planName, RunKind kind, String by, boolean confirmed, Instant pointAt) {
        DrPlan plan = plans.get(planName, null).plan();
        Optional<String> open = runs.openRunOf(plan.name());
        if (open.isPresent()) {
            RunState o = runs.get(open.get()).state();
            throw new HavenException(ErrorCode.CONFLICT, "plan " + plan.name() + " has run " + o.runId() + " (" + o.kind().name().toLowerCase(Locale.ROOT)
                    + ", " + o.phase().name().toLowerCase(Locale.ROOT).replace('_', ' ') + ") not ended; "
                    + (o.phase() == io.haven.runbook.run.Phase.FAILED_OVER ? "commit it or roll it back first" : "wait for it or abort it first"));
        }
        String active = activeSite(plan);
        if (kind == RunKind.FAILBACK && !active.equals(plan.recoverySite())) {
            throw new HavenException(ErrorCode.CONFLICT, "plan " + plan.name() + " runs at its protected site " + plan.protectedSite()
                    + "; a failback brings it home after a committed failover");
        }
        if (kind != RunKind.FAILBACK && !active.equals(plan.protectedSite())) {
            throw new HavenException(ErrorCode.CONFLICT, "plan " + plan.name() + " runs at its recovery site " + plan.recoverySite()
                    + " since a committed failover; bring it home with a failback first");
        }
        if (kind == RunKind.TEST) {
            for (Workload w : plan.workloads()) {
                Instances.at(plan, w, plan.recoverySite(), true, inventory); // refuses a drill without sandbox addresses
            }
        }
        if (kind == RunKind.PLANNED || kind == RunKind.FAILBACK) {
            checkDnsSteps(plan);
        }
        if (pointAt != null) {
            // a database's DR copy is a streaming standby: it holds its newest point only, so an older one asked for
            // would be a promise the run cannot keep for it (docs/runbooks.md, "Kinds")
            List<String> databases = plan.workloads().stream().filter(Instances::postgres).map(Workload::name).toList();
            if (!databases.isEmpty()) {
                throw new HavenException(ErrorCode.USAGE, "plan " + plan.name() + " has PostgreSQL workload(s) " + String.join(", ", databases)
                        + ", whose DR copy is a streaming standby that holds only its newest point: a point in time cannot be "
                        + "honoured for them; leave --point out to recover the newest points");
            }
        }
        // the run owns the sites now: replication that has not started yet is dropped (it resumes after the run)
        jobs.cancelQueuedDr("copy:" + plan.name() + "/", "a " + kind.name().toLowerCase(Locale.ROOT) + " run of plan " + plan.name());
        String id = "run-" + UUID.randomUUID().toString().substring(0, 8);
        RunState s = RunState.create(id, plan, kind, clock.instant());
        runs.insert(s, by, serverId, LEASE);
        try {
            return apply(id, new Event.Started(clock.instant(), by, confirmed, pointAt));
        } catch (HavenException e) {
            // a start the machine refuses (a forced failover without confirmation) leaves no run behind
            runs.delete(id);
            throw e;
        }
    }

    public RunState abort(String runId, String by, String reason) {
        return apply(runId, new Event.Abort(clock.instant(), by, reason == null || reason.isBlank() ? "aborted by " + by : reason));
    }

    public RunState commit(String runId, String by) {
        return apply(runId, new Event.Commit(clock.instant(), by));
    }

    public RunState rollback(String runId, String by) {
        return apply(runId, new Event.Rollback(clock.instant(), by));
    }

    /** Answers the run's outstanding approval; CONFLICT when it waits for none. */
    public RunState approve(String runId, String by, boolean approve, String reason) {
        RunState s = runs.get(runId).state();
        Command.AskApproval ask = s.outstanding().stream().filter(Command.AskApproval.class::isInstance)
                .map(Command.AskApproval.class::cast).findFirst()
                .orElseThrow(() -> new HavenException(ErrorCode.CONFLICT, "run " + runId + " waits for no approval (it is "
                        + s.phase().name().toLowerCase(Locale.ROOT).replace('_', ' ') + ")"));
        Event e = approve ? new Event.ApprovalGiven(ask.id(), clock.instant(), by)
                : new Event.ApprovalDenied(ask.id(), clock.instant(), by, reason == null || reason.isBlank() ? "denied by " + by : reason);
        return apply(runId, e);
    }

    /** One workload brought up by {@link #startPlan}. */
    public record Started(String workload, String site, String host, boolean ok, String message) {}

    /**
     * Starts a plan's workloads at the site it runs at (its protected site until a committed
     * failover), boot step by boot step, each step's workloads in parallel and each waited for
     * until its probe is green: how Haven takes over running a protected application, so that a
     * planned failover can stop it gracefully. Refused while the site is fenced or a run is open.
     * Stops at the first workload that does not come up.
     */
    public List<Started> startPlan(String planName) throws InterruptedException {
        DrPlan plan = plans.get(planName, null).plan();
        String site = activeSite(plan);
        if (fences.fenced(plan.name(), site)) {
            throw new HavenException(ErrorCode.CONFLICT, "plan " + plan.name() + " is fenced at site " + site + "; its workloads are not started there");
        }
        Optional<String> open = runs.openRunOf(plan.name());
        if (open.isPresent()) {
            throw new HavenException(ErrorCode.CONFLICT, "plan " + plan.name() + " has run " + open.get() + " open; wait for it first");
        }
        List<Started> out = new java.util.concurrent.CopyOnWriteArrayList<>();
        String stamp = Long.toString(clock.millis(), 36);
        for (Step step : plan.runbook().steps()) {
            if (!(step instanceof Step.BootStep boot)) {
                continue;
            }
            List<Thread> threads = new ArrayList<>();
            for (String name : boot.workloads()) {
                Workload w = workload(plan, name);
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        Instances.Instance i = Instances.at(plan, w, site, false, inventory);
                        Instances.Spec start = Instances.spec("start", null, "start:" + stamp, plan, w, i);
                        Outcome o = runJob((String) null, "start", i.host(), null, start, "start " + w.name() + " of plan " + plan.name()
                                + " at site " + site);
                        if (o.ok()) {
                            Instances.Spec probe = Instances.spec("probe", null, "probe:" + stamp, plan, w, i);
                            probe.probe = i.probe(w.probe());
                            probe.deadline = clock.millis() + w.probe().timeout().toMillis();
                            o = runJob((String) null, "probe", i.host(), null, probe, "probe " + w.name() + " of plan " + plan.name()
                                    + " at site " + site);
                        }
                        out.add(new Started(w.name(), site, i.host(), o.ok(), o.message()));
                    } catch (InterruptedException e) {
                        out.add(new Started(w.name(), site, null, false, "interrupted"));
                    } catch (HavenException e) {
                        out.add(new Started(w.name(), site, null, false, e.getMessage()));
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            if (out.stream().anyMatch(x -> !x.ok())) {
                break;
            }
        }
        return out;
    }

    /** The site a plan's workloads are served from now: the protected site until a failover is committed. */
    public String activeSite(DrPlan plan) {
        return runs.activeSite(plan.name()).orElse(plan.protectedSite());
    }

    // --- events

    /**
     * Applies {@code event} to the run: the machine's next state is stored (if the run is still at
     * the revision read; otherwise read again and retried), then its commands are carried out.
     *
     * @throws RunRejectedException when the run's phase does not take the event (nothing changes)
     */
    public RunState apply(String runId, Event event) {
        java.util.concurrent.locks.ReentrantLock lock = locks.computeIfAbsent(runId, k -> new java.util.concurrent.locks.ReentrantLock());
        lock.lock();
        try {
            for (int attempt = 0; ; attempt++) {
                Runs.Stored stored = runs.get(runId);
                Transition t = RunMachine.next(stored.state(), event);
                if (t.state() == stored.state()) {
                    return stored.state(); // a stale answer, or a resume of an ended run
                }
                if (!runs.save(t.state(), stored.revision())) {
                    if (attempt > 20) {
                        throw new HavenException(ErrorCode.CONFLICT, "run " + runId + " keeps changing under this server; try again");
                    }
                    continue;
                }
                carryOut(t.state(), t.commands(), serverId.equals(stored.leaseOwner()));
                return t.state();
            }
        } finally {
            lock.unlock();
        }
    }

    private void carryOut(RunState s, List<Command> commands, boolean owner) {
        for (Command c : commands) {
            switch (c) {
                case Command.Cancel x -> cancel(s.runId(), x.commandId());
                case Command.PublishReport p -> publish(s);
                default -> {
                    if (owner) {
                        startWork(s.runId(), c);
                    }
                }
            }
        }
        // work for commands no longer outstanding (answered through the API, or given up) stops here
        java.util.Set<String> live = new java.util.HashSet<>();
        s.outstanding().forEach(c -> live.add(s.runId() + "/" + c.id()));
        String prefix = s.runId() + "/";
        for (Map.Entry<String, Thread> e : work.entrySet()) {
            if (e.getKey().startsWith(prefix) && !live.contains(e.getKey()) && e.getValue() != Thread.currentThread()) {
                e.getValue().interrupt();
            }
        }
        if (s.ended()) {
            locks.remove(s.runId());
        }
    }

    private void publish(RunState s) {
        RunReport r = RunReport.from(s);
        runs.saveReport(s.runId(), RunCodec.write(r));
        if (s.phase() == io.haven.runbook.run.Phase.COMMITTED) {
            runs.setActiveSite(s.plan().name(), s.targetSite());
        }
        try {
            listener.published(s, r);
        } catch (RuntimeException e) {
            log.accept("run " + s.runId() + ": could not notify: " + e.getMessage());
        }
    }

    private void tick() {
        if (closed) {
            return;
        }
        try {
            runs.renew(serverId, LEASE);
            for (String id : runs.claimExpired(serverId, LEASE)) {
                log.accept("run " + id + ": taken over by this server; resuming");
                try {
                    apply(id, new Event.Resumed(clock.instant()));
                } catch (RuntimeException e) {
                    log.accept("run " + id + ": cannot resume: " + e.getMessage());
                }
            }
            if (++ticks % 4 == 0) {
                drills();
            }
            for (String id : runs.owned(serverId)) {
                // under the run's lock, on the state read under it: otherwise a command that an event
                // being applied meanwhile cancels (a drill's other preparations when one fails) could be
                // started again from the state read before, after its cancel and the sandbox's clean-up
                // ran, and leave a copy of production behind in the sandbox
                java.util.concurrent.locks.ReentrantLock lock = locks.computeIfAbsent(id, k -> new java.util.concurrent.locks.ReentrantLock());
                if (!lock.tryLock()) {
                    continue; // an event is being applied: it starts what the run needs
                }
                try {
                    RunState s = runs.get(id).state();
                    for (Command c : s.outstanding()) {
                        startWork(id, c);
                    }
                    if (s.ended()) {
                        locks.remove(id, lock);
                    }
                } finally {
                    lock.unlock();
                }
            }
        } catch (RuntimeException e) {
            log.accept("DR run tick failed: " + e);
        }
    }

    /**
     * Scheduled drills: a plan with {@code drills:} gets its next drill time when first seen; once
     * it is due, the server that moves it to the following time starts a drill (as user
     * {@code schedule}). A plan with a run open at that time skips that drill, and says so in the log.
     */
    private void drills() {
        for (Plans.Current current : plans.current()) {
            DrPlan plan = current.plan();
            if (plan.drills() == null) {
                continue;
            }
            try {
                io.haven.server.schedule.Schedule schedule = io.haven.server.schedule.Schedule.parse(plan.drills().schedule(), plan.drills().zone());
                Instant now = clock.instant();
                Optional<Long> next = runs.nextDrill(plan.name());
                if (next.isEmpty()) {
                    runs.moveDrill(plan.name(), plan.protectedSite(), null, schedule.next(now).toEpochMilli());
                    continue;
                }
                if (next.get() > now.toEpochMilli() || !runs.moveDrill(plan.name(), plan.protectedSite(), next.get(),
                        schedule.next(now).toEpochMilli())) {
                    continue;
                }
                try {
                    RunState s = begin(plan.name(), RunKind.TEST, "schedule", false, null);
                    log.accept("plan " + plan.name() + ": scheduled drill " + s.runId() + " started");
                } catch (HavenException e) {
                    log.accept("plan " + plan.name() + ": scheduled drill skipped: " + e.getMessage());
                }
            } catch (RuntimeException e) {
                log.accept("plan " + plan.name() + ": drill schedule: " + e.getMessage());
            }
        }
    }

    /** When the plan's next scheduled drill starts, if it has a schedule. */
    public Optional<Instant> nextDrill(DrPlan plan) {
        return plan.drills() == null ? Optional.empty() : runs.nextDrill(plan.name()).map(Instant::ofEpochMilli);
    }

    // --- work

    private void startWork(String runId, Command c) {
        if (c instanceof Command.Cancel || c instanceof Command.PublishReport || closed) {
            return;
        }
        String key = runId + "/" + c.id();
        Thread t = Thread.ofVirtual().name("haven-run-" + key).unstarted(() -> {
            try {
                Event answer = perform(runId, c);
                if (answer != null && !closed) {
                    apply(runId, answer);
                }
            } catch (InterruptedException e) {
                // cancelled, or the server stops
            } catch (RunRejectedException e) {
                log.accept("run " + runId + ": answer to " + c.id() + " refused: " + e.getMessage());
            } catch (RuntimeException e) {
                log.accept("run " + runId + ": command " + c.id() + " failed: " + e);
            } finally {
                work.remove(key, Thread.currentThread());
            }
        });
        if (work.putIfAbsent(key, t) == null) {
            t.start();
        }
    }

    private void cancel(String runId, String commandId) {
        Thread t = work.remove(runId + "/" + commandId);
        if (t != null) {
            t.interrupt();
        }
        for (Jobs.Job j : jobs.forCommand(runId, commandId)) {
            if (!j.state().done()) {
                try {
                    jobs.cancel(j.id(), "run " + runId);
                } catch (HavenException e) {
                    // it ended meanwhile
                }
            }
        }
    }

    /** Does what {@code c} asks and returns its answer (null: none, as for an approval). */
    private Event perform(String runId, Command c) throws InterruptedException {
        RunState s = runs.get(runId).state();
        DrPlan plan = s.plan();
        try {
            return switch (c) {
                case Command.StartTimer t -> {
                    long ms = Duration.between(clock.instant(), t.at()).toMillis();
                    if (ms > 0) {
                        Thread.sleep(ms);
                    }
                    yield new Event.TimerFired(t.id(), clock.instant());
                }
                case Command.AskApproval a -> {
                    listener.approvalNeeded(s, a);
                    Thread.sleep(Long.MAX_VALUE); // until answered (the command is cancelled) or the server stops
                    yield null;
                }
                case Command.FenceSite f -> {
                    fences.fence(plan.name(), f.site(), runId);
                    yield new Event.FenceDone(f.id(), clock.instant(), true, "plan " + plan.name() + " fenced at site " + f.site());
                }
                case Command.LiftFence f -> {
                    fences.lift(plan.name(), f.site());
                    yield new Event.FenceDone(f.id(), clock.instant(), true, "fence of plan " + plan.name() + " at site " + f.site() + " lifted");
                }
                case Command.UpdateDns u -> updateDns(u);
                case Command.CallHttp h -> callHttp(h);
                case Command.RunScript r when r.where() instanceof Where.Server -> serverScript(s, r);
                case Command.RunScript r -> hostScript(s, r);
                case Command.PrepareWorkload p -> prepare(s, p);
                case Command.StopWorkload x -> {
                    Outcome o = workloadOp(s, x.id(), x.workload(), x.site(), false, "stop", "stop", false,
                            (spec, i) -> spec.timeoutMillis = 60_000L);
                    yield new Event.StopDone(x.id(), clock.instant(), o.ok(), o.message());
                }
                case Command.TakeFinalSnapshot x -> {
                    Outcome o = workloadOp(s, x.id(), x.workload(), x.site(), false, "backup", "final snapshot of", true, (spec, i) -> {});
                    yield new Event.FinalSnapshotDone(x.id(), clock.instant(), o.ok() && o.point() != null,
                            o.ok() && o.point() == null ? "the agent reported no snapshot" : o.message(), o.ok() ? o.point() : null);
                }
                case Command.ApplySnapshot x -> {
                    String from = x.site().equals(s.targetSite()) ? s.sourceSite() : s.targetSite();
                    Outcome o = workloadOp(s, x.id(), x.workload(), x.site(), false, "apply", "apply " + x.snapshot() + " to", true,
                            (spec, i) -> {
                                if ("postgres".equals(spec.driver)) {
                                    spec.lsn = x.snapshot().startsWith("lsn:") ? x.snapshot().substring(4) : null;
                                    spec.timeoutMillis = 300_000L;
                                } else {
                                    spec.snapshot = x.snapshot();
                                    spec.snapshotPaths = Instances.at(plan, workload(plan, x.workload()), from, false, inventory).volumes();
                                }
                            });
                    yield new Event.SnapshotApplied(x.id(), clock.instant(), o.ok(), o.message());
                }
                case Command.StartWorkload x -> {
                    if (!x.sandbox() && fences.fenced(plan.name(), x.site())) {
                        yield new Event.WorkloadBooted(x.id(), clock.instant(), false, "plan " + plan.name() + " is fenced at site " + x.site()
                                + "; its workloads are not started there");
                    }
                    Outcome o = workloadOp(s, x.id(), x.workload(), x.site(), x.sandbox(), "start", "start", false, (spec, i) -> {});
                    yield new Event.WorkloadBooted(x.id(), clock.instant(), o.ok(), o.message());
                }
                case Command.RunProbe x -> {
                    Outcome o = workloadOp(s, x.id(), x.workload(), x.site(), x.sandbox(), "probe", "probe", false, (spec, i) -> {
                        spec.probe = i.probe(x.probe());
                        spec.deadline = x.deadline().toEpochMilli();
                    });
                    yield new Event.ProbeResult(x.id(), clock.instant(), o.ok(), o.message());
                }
                case Command.RunPostBootScript x -> {
                    Outcome o = workloadOp(s, x.id(), x.workload(), x.site(), x.sandbox(), "script", "post-boot script " + (x.index() + 1)
                            + " of", false, (spec, i) -> {
                                spec.script = i.rewrite(x.script().command());
                                spec.timeoutMillis = x.script().timeout().toMillis();
                                spec.env = env(s, x.sandbox());
                            });
                    yield new Event.ScriptResult(x.id(), clock.instant(), o.exitCode(), o.output());
                }
                case Command.CleanUpSandbox x -> cleanUp(s, x);
                case Command.StartReverseReplication x -> reprotect(s, x);
                case Command.Cancel x -> null;
                case Command.PublishReport x -> null;
            };
        } catch (HavenException e) {
            return failed(c, e.getMessage());
        }
    }

    /** The answer that says {@code c} could not be carried out. */
    private Event failed(Command c, String message) {
        Instant now = clock.instant();
        return switch (c) {
            case Command.StartReverseReplication x -> new Event.ReprotectDone(x.id(), now, false, message);
            case Command.PrepareWorkload x -> new Event.PreparationDone(x.id(), now, false, message, null);
            case Command.StopWorkload x -> new Event.StopDone(x.id(), now, false, message);
            case Command.FenceSite x -> new Event.FenceDone(x.id(), now, false, message);
            case Command.LiftFence x -> new Event.FenceDone(x.id(), now, false, message);
            case Command.TakeFinalSnapshot x -> new Event.FinalSnapshotDone(x.id(), now, false, message, null);
            case Command.ApplySnapshot x -> new Event.SnapshotApplied(x.id(), now, false, message);
            case Command.StartWorkload x -> new Event.WorkloadBooted(x.id(), now, false, message);
            case Command.RunProbe x -> new Event.ProbeResult(x.id(), now, false, message);
            case Command.RunPostBootScript x -> new Event.ScriptResult(x.id(), now, -1, message);
            case Command.RunScript x -> new Event.ScriptResult(x.id(), now, -1, message);
            case Command.UpdateDns x -> new Event.DnsResult(x.id(), now, false, message);
            case Command.CallHttp x -> new Event.HttpResult(x.id(), now, 0, message);
            case Command.CleanUpSandbox x -> new Event.CleanupDone(x.id(), now, false, message);
            case Command.AskApproval x -> null;
            case Command.StartTimer x -> null;
            case Command.Cancel x -> null;
            case Command.PublishReport x -> null;
        };
    }

    /**
     * Runs DR op {@code op} on workload {@code name}'s instance at {@code site} (or its sandbox copy)
     * as the job of command {@code id}; {@code fill} sets the op's own fields. {@code repository}:
     * the op reads or writes the plan's repository (not for postgres, whose copies stream).
     */
    private Outcome workloadOp(RunState s, String id, String name, String site, boolean sandbox, String op, String what,
            boolean repository, java.util.function.BiConsumer<Instances.Spec, Instances.Instance> fill) throws InterruptedException {
        Workload w = workload(s.plan(), name);
        Instances.Instance i = Instances.at(s.plan(), w, site, sandbox, inventory);
        Instances.Spec spec = Instances.spec(op, s.runId(), id, s.plan(), w, i);
        fill.accept(spec, i);
        return runJob(s, id, i.host(), repository && !Instances.postgres(w) ? repository(s.plan()) : null, spec,
                what + " " + w.name() + " at site " + site + (sandbox ? " (sandbox)" : ""));
    }

    private Event prepare(RunState s, Command.PrepareWorkload p) throws InterruptedException {
        DrPlan plan = s.plan();
        Workload w = workload(plan, p.workload());
        Instances.Instance i = Instances.at(plan, w, p.site(), p.sandbox(), inventory);
        Instances.Spec spec = Instances.spec("prepare", s.runId(), p.id(), plan, w, i);
        String repo = null;
        if (Instances.postgres(w)) {
            if (p.sandbox()) {
                spec.primary = Instances.postgresEndpoint(w, Instances.at(plan, w, p.site(), false, inventory));
            } else if (s.kind() != RunKind.FORCED) {
                spec.primary = Instances.postgresEndpoint(w, Instances.at(plan, w, s.sourceSite(), false, inventory));
            }
        } else {
            repo = repository(plan);
            Instances.Instance source = Instances.at(plan, w, s.sourceSite(), false, inventory);
            Repository.SnapshotEntry snap = newestPoint(repo, plan, w, source.host(), p.pointAt());
            if (snap == null) {
                return new Event.PreparationDone(p.id(), clock.instant(), false, "no recovery point of " + w.name() + " from host " + source.host()
                        + " in repository " + repo + (p.pointAt() == null ? "" : " at or before " + p.pointAt()), null);
            }
            spec.snapshot = snap.id().hex();
            spec.snapshotPaths = source.volumes();
        }
        Outcome o = runJob(s, p.id(), i.host(), repo, spec, "prepare " + w.name() + " at site " + p.site() + (p.sandbox() ? " (sandbox)" : ""));
        boolean ok = o.ok() && o.point() != null;
        return new Event.PreparationDone(p.id(), clock.instant(), ok, o.ok() && o.point() == null ? "the agent reported no recovery point"
                : o.message(), ok ? o.point() : null);
    }

    /** The newest DR snapshot of {@code w} taken on {@code host}, at or before {@code at} (null: newest). */
    Repository.SnapshotEntry newestPoint(String repo, DrPlan plan, Workload w, String host, Instant at) {
        Repository.SnapshotEntry best = null;
        for (Repository.SnapshotEntry e : repositories.snapshots(repo, "workload:" + w.name())) {
            if (!e.snapshot().tags().contains("plan:" + plan.name()) || !host.equals(e.snapshot().host())) {
                continue;
            }
            if (at != null && e.time().isAfter(at)) {
                continue;
            }
            if (best == null || !e.time().isBefore(best.time())) {
                best = e;
            }
        }
        return best;
    }

    private Event cleanUp(RunState s, Command.CleanUpSandbox x) throws InterruptedException {
        DrPlan plan = s.plan();
        List<String> problems = new ArrayList<>();
        for (String host : Instances.hosts(plan)) {
            Instances.Spec spec = new Instances.Spec("cleanup", s.runId(), x.id(), plan.name(), null, null, Map.of(), List.of(), null, true, host);
            Outcome o = runJob(s, x.id(), host, null, spec, "remove the sandbox of run " + s.runId() + " on " + host);
            if (!o.ok()) {
                problems.add(host + ": " + o.message());
            }
        }
        return new Event.CleanupDone(x.id(), clock.instant(), problems.isEmpty(), problems.isEmpty() ? "sandbox removed"
                : String.join("; ", problems));
    }

    /**
     * Failback's first part: the protected site's copies are made from the recovery site, in
     * parallel per workload: a postgres workload rejoins as a standby of the recovery site's
     * primary; a process workload is backed up at the recovery site and the snapshot applied (sync
     * restore) to its volumes at the protected site.
     */
    private Event reprotect(RunState s, Command.StartReverseReplication x) throws InterruptedException {
        DrPlan plan = s.plan();
        List<Thread> threads = new ArrayList<>();
        Map<String, String> problems = new ConcurrentHashMap<>();
        for (Workload w : plan.workloads()) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    Instances.Instance from = Instances.at(plan, w, x.from(), false, inventory);
                    Instances.Instance to = Instances.at(plan, w, x.to(), false, inventory);
                    Outcome o;
                    if (Instances.postgres(w)) {
                        Instances.Spec spec = Instances.spec("rejoin", s.runId(), x.id() + ":" + w.name(), plan, w, to);
                        spec.primary = Instances.postgresEndpoint(w, from);
                        o = runJob(s, x.id() + ":" + w.name(), to.host(), null, spec, "rejoin " + w.name() + " at site " + x.to()
                                + " as a standby of site " + x.from());
                    } else {
                        String repo = repository(plan);
                        Instances.Spec b = Instances.spec("backup", s.runId(), x.id() + ":" + w.name() + ":backup", plan, w, from);
                        o = runJob(s, x.id() + ":" + w.name() + ":backup", from.host(), repo, b, "reverse replication of " + w.name()
                                + ": snapshot at site " + x.from());
                        if (o.ok() && o.point() != null) {
                            Instances.Spec h = Instances.spec("hydrate", s.runId(), x.id() + ":" + w.name(), plan, w, to);
                            h.snapshot = o.point().snapshot();
                            h.snapshotPaths = from.volumes();
                            o = runJob(s, x.id() + ":" + w.name(), to.host(), repo, h, "reverse replication of " + w.name()
                                    + ": apply at site " + x.to());
                        }
                    }
                    if (!o.ok()) {
                        problems.put(w.name(), o.message());
                    }
                } catch (InterruptedException e) {
                    problems.put(w.name(), "interrupted");
                } catch (HavenException e) {
                    problems.put(w.name(), e.getMessage());
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return new Event.ReprotectDone(x.id(), clock.instant(), problems.isEmpty(), problems.isEmpty()
                ? "every workload replicated from site " + x.from() + " to site " + x.to() : problems.toString());
    }

    // --- agent jobs

    /** How an agent job ended. */
    record Outcome(boolean ok, String message, RecoveryPoint point, int exitCode, String output) {}

    /**
     * Runs {@code spec} on agent {@code host} as the job of command {@code commandId} and waits for
     * it. A job the command already has (issued again after a restart) is waited for, or its outcome
     * taken if it has ended; a failed or cancelled one is not retried by a re-issue.
     */
    Outcome runJob(RunState s, String commandId, String host, String repository, Instances.Spec spec, String what)
            throws InterruptedException {
        return runJob(s.runId(), commandId, host, repository, spec, what);
    }

    /**
     * The jobs an unfinished run waits for whose agent cannot take them now: offline (not heard
     * from within the agents' offline time) or disabled or revoked. A planned failover whose
     * source agent is down waits in {@code stopping} for it; without this, nothing said why.
     * Each entry: the job, the command, the agent, its state and when it was last heard from.
     */
    public List<Map<String, Object>> waitingOnAgents(RunState s) {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        if (s.ended()) {
            return out;
        }
        Instant now = clock.instant();
        for (Command c : s.outstanding()) {
            for (Jobs.Job j : jobs.forCommand(s.runId(), c.id())) {
                if (j.state().done() || j.agentId() == null) {
                    continue;
                }
                Agents.Agent a = agents.find(j.agentId()).orElse(null);
                if (a == null) {
                    continue;
                }
                boolean online = a.online(now, agents.offlineAfter());
                boolean active = a.state() == Agents.State.ACTIVE;
                if (online && active) {
                    continue;
                }
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("job", j.id());
                m.put("jobState", j.state().label());
                m.put("command", c.id());
                m.put("agent", a.name());
                m.put("agentState", active ? (online ? "online" : "offline") : a.state().name().toLowerCase(Locale.ROOT));
                m.put("lastSeenAt", a.lastSeenAt() == null ? null : a.lastSeenAt().toString());
                out.add(m);
            }
        }
        return out;
    }

    private Outcome runJob(String runId, String commandId, String host, String repository, Instances.Spec spec, String what)
            throws InterruptedException {
        List<Jobs.Job> existing = runId == null ? List.of() : jobs.forCommand(runId, commandId);
        Jobs.Job job = existing.isEmpty() ? null : existing.get(existing.size() - 1);
        if (job == null) {
            Agents.Agent a = agents.get(host);
            Long repoId = repository == null ? null : inventory.repository(repository).id();
            job = jobs.createDr("dr", runId == null ? "dr" : "run " + runId, runId, commandId, a.id(), repoId, spec.build(),
                    runId == null ? what : what + " (run " + runId + ")");
        }
        try {
            while (!job.state().done()) {
                Thread.sleep(JOB_POLL.toMillis());
                job = jobs.get(job.id());
            }
        } catch (InterruptedException e) {
            if (!closed) {
                try {
                    jobs.cancel(job.id(), runId == null ? "server" : "run " + runId);
                } catch (HavenException x) {
                    // ended meanwhile
                }
            }
            throw e;
        }
        return outcome(job, what);
    }

    @SuppressWarnings("unchecked")
    private static Outcome outcome(Jobs.Job job, String what) {
        Map<String, Object> r = job.result() == null ? Map.of() : Codec.read(job.result().getBytes(StandardCharsets.UTF_8), Map.class);
        RecoveryPoint point = null;
        if (r.get("point") instanceof Map<?, ?> p && p.get("snapshot") != null && p.get("time") != null) {
            point = new RecoveryPoint(String.valueOf(p.get("snapshot")), Instant.parse(String.valueOf(p.get("time"))));
        }
        int exit = r.get("exitCode") instanceof Number n ? n.intValue() : (job.state() == Jobs.State.SUCCEEDED ? 0 : -1);
        String output = r.get("output") == null ? job.message() : String.valueOf(r.get("output"));
        String message = job.message() == null ? what + ": " + job.state().label() : job.message();
        return new Outcome(job.state() == Jobs.State.SUCCEEDED, message, point, exit, output);
    }

    // --- server-side steps

    /**
     * Before a graceful run stops production: every DNS step's server answers, serves the zone and
     * accepts the step's TSIG key (a signed update that changes nothing, {@link DnsUpdater#check}).
     * A wrong secret found only at the step would leave the protected site stopped and fenced with
     * the name still pointing at it. Forced failovers are not checked: the DNS server may be at the
     * lost site, and the run must go on without it.
     */
    private void checkDnsSteps(DrPlan plan) {
        List<Step> steps = plan.runbook().steps();
        for (int i = 0; i < steps.size(); i++) {
            if (!(steps.get(i) instanceof Step.DnsUpdate d)) {
                continue;
            }
            String which = "step " + (i + 1) + " '" + d.name() + "' (dns)";
            try {
                dns.check(dnsChange(d, d.toRecovery()));
            } catch (io.haven.server.dns.DnsUpdateException e) {
                if (e.failure() != io.haven.server.dns.DnsUpdateException.Failure.PREREQUISITE_FAILED) {
                    throw new HavenException(ErrorCode.CONFLICT, which + " would fail, so the run was not started and nothing was "
                            + "stopped: " + e.getMessage());
                }
            } catch (HavenException e) {
                throw new HavenException(ErrorCode.CONFLICT, which + " cannot run, so the run was not started and nothing was stopped: "
                        + e.getMessage());
            }
        }
    }

    /** The change a DNS step makes: its record set to {@code value}, signed with the step's key. */
    private static DnsChange dnsChange(Step.DnsUpdate d, String value) {
        TsigKey key = new TsigKey(d.tsig().key(), d.tsig().algorithm().text(), secret(d.tsig().secret()));
        return new DnsChange(new DnsServer(d.server().host(), d.server().port()), d.zone(), d.record(),
                RecordType.parse(d.type().name()), Duration.ofSeconds(d.ttl()), List.of(value), key, null, null);
    }

    private Event updateDns(Command.UpdateDns u) throws InterruptedException {
        Step.DnsUpdate d = u.step();
        try {
            DnsChange change = dnsChange(d, u.value());
            // a transient failure (the server unreachable, SERVFAIL) is tried again after 2, 5 and 10 s
            DnsUpdater.Result r = io.haven.server.dns.RetryingUpdate.update(dns, change, io.haven.server.dns.RetryingUpdate.WAITS,
                    w -> Thread.sleep(w.toMillis()), log);
            return new Event.DnsResult(u.id(), clock.instant(), true, change.name() + " " + change.type() + " set to " + u.value()
                    + " (was " + (r.previous().isEmpty() ? "absent" : String.join(", ", r.previous())) + ") in "
                    + r.totalTime().toMillis() + " ms");
        } catch (HavenException e) {
            return new Event.DnsResult(u.id(), clock.instant(), false, e.getMessage());
        }
    }

    /** A TSIG secret from where the plan says: {@code env:NAME} or {@code file:/path}. */
    static String secret(String ref) {
        if (ref.startsWith("env:")) {
            String v = System.getenv(ref.substring(4));
            if (v == null || v.isBlank()) {
                throw new HavenException(ErrorCode.USAGE, "the TSIG secret's variable " + ref.substring(4) + " is not set in the server's environment");
            }
            return v.strip();
        }
        if (ref.startsWith("file:")) {
            try {
                String text = Files.readString(Path.of(ref.substring(5))).strip();
                // a BIND key file (key "x" { algorithm …; secret "…"; };) or the bare secret
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("secret\\s+\"([^\"]+)\"").matcher(text);
                return m.find() ? m.group(1) : text;
            } catch (IOException e) {
                throw new HavenException(ErrorCode.IO, "cannot read the TSIG secret " + ref.substring(5) + ": " + e.getMessage());
            }
        }
        throw new HavenException(ErrorCode.USAGE, "a TSIG secret is env:NAME or file:/path, not " + ref);
    }

    private Event callHttp(Command.CallHttp h) throws InterruptedException {
        Step.HttpCall c = h.step();
        try {
            HttpRequest.BodyPublisher body = c.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(c.body());
            HttpRequest req = HttpRequest.newBuilder(URI.create(c.url())).timeout(c.timeout()).method(c.method(), body).build();
            HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
            return new Event.HttpResult(h.id(), clock.instant(), r.statusCode(), c.method() + " " + c.url() + " answered " + r.statusCode());
        } catch (IOException | IllegalArgumentException e) {
            return new Event.HttpResult(h.id(), clock.instant(), 0, c.method() + " " + c.url() + ": no answer (" + e.getMessage() + ")");
        }
    }

    private Map<String, String> env(RunState s, boolean sandbox) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HAVEN_PLAN", s.plan().name());
        env.put("HAVEN_RUN", s.runId());
        env.put("HAVEN_RUN_KIND", s.kind().name().toLowerCase(Locale.ROOT));
        env.put("HAVEN_SOURCE_SITE", s.sourceSite());
        env.put("HAVEN_TARGET_SITE", s.targetSite());
        env.put("HAVEN_SANDBOX", String.valueOf(sandbox));
        return env;
    }

    private Event hostScript(RunState s, Command.RunScript r) throws InterruptedException {
        String agent = ((Where.Host) r.where()).agent();
        Instances.Spec spec = new Instances.Spec("script", s.runId(), r.id(), s.plan().name(), null, null, Map.of(), List.of(), null,
                r.sandbox(), agent);
        spec.script = r.command();
        spec.timeoutMillis = r.timeout().toMillis();
        spec.env = env(s, r.sandbox());
        Outcome o = runJob(s, r.id(), agent, null, spec, "script step " + r.step() + " on " + agent);
        return new Event.ScriptResult(r.id(), clock.instant(), o.exitCode(), o.output());
    }

    private Event serverScript(RunState s, Command.RunScript r) throws InterruptedException {
        HostScript.Result res = HostScript.run(r.command(), env(s, r.sandbox()), Path.of(System.getProperty("user.dir")), r.timeout(),
                () -> false);
        return switch (res.end()) {
            case EXITED -> new Event.ScriptResult(r.id(), clock.instant(), res.exitCode(), res.output().strip());
            case TIMED_OUT -> new Event.ScriptResult(r.id(), clock.instant(), -1, "still running after " + r.timeout().toSeconds()
                    + "s; killed");
            case NOT_STARTED -> new Event.ScriptResult(r.id(), clock.instant(), -1, "cannot run /bin/sh: " + res.detail());
            case CANCELLED, INTERRUPTED -> throw new InterruptedException("script step " + r.step() + " cancelled");
        };
    }

    // --- helpers

    private static Workload workload(DrPlan plan, String name) {
        return plan.workload(name).orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "plan " + plan.name() + " has no workload " + name));
    }

    io.haven.server.repo.Repositories repositories() {
        return repositories;
    }

    /** The repository that holds the plan's recovery points: the plan's, or the server's only one. */
    String repository(DrPlan plan) {
        if (plan.repository() != null) {
            return inventory.repository(plan.repository()).name();
        }
        List<Inventory.Repo> all = inventory.repositories();
        if (all.size() != 1) {
            throw new HavenException(ErrorCode.USAGE, "plan " + plan.name() + " names no repository and the server has " + all.size()
                    + "; add 'repository: NAME' to the plan");
        }
        return all.get(0).name();
    }

    @Override
    public void close() {
        closed = true;
        ticker.shutdownNow();
        work.values().forEach(Thread::interrupt);
    }
}
