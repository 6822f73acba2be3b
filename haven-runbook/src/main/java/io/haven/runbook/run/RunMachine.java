package io.haven.runbook.run;

import io.haven.core.ErrorCode;
import io.haven.runbook.DurationText;
import io.haven.runbook.PostBootScript;
import io.haven.runbook.Probe;
import io.haven.runbook.Step;
import io.haven.runbook.run.Command.ApplySnapshot;
import io.haven.runbook.run.Command.AskApproval;
import io.haven.runbook.run.Command.CallHttp;
import io.haven.runbook.run.Command.CleanUpSandbox;
import io.haven.runbook.run.Command.FenceSite;
import io.haven.runbook.run.Command.LiftFence;
import io.haven.runbook.run.Command.PrepareWorkload;
import io.haven.runbook.run.Command.RunPostBootScript;
import io.haven.runbook.run.Command.RunProbe;
import io.haven.runbook.run.Command.RunScript;
import io.haven.runbook.run.Command.StartReverseReplication;
import io.haven.runbook.run.Command.StartTimer;
import io.haven.runbook.run.Command.StartWorkload;
import io.haven.runbook.run.Command.StopWorkload;
import io.haven.runbook.run.Command.TakeFinalSnapshot;
import io.haven.runbook.run.Command.UpdateDns;
import io.haven.runbook.run.Draft.S;
import io.haven.runbook.run.Draft.W;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The run state machine: {@code (RunState, Event) -> Transition(RunState, commands)}, a pure
 * function. No clock (time comes from events), no I/O, no randomness; the same state and event
 * always give the same transition. The executor (server side) stores the new state, then carries
 * out the commands and feeds their answers back as events. Stateless, so thread-safe; a run's
 * events must still be applied one at a time, in the order the executor stores them.
 *
 * <p>Design. Each phase issues a batch of commands and waits until all are answered: early
 * preparations all at once; the source's workloads one boot step at a time in reverse order; a
 * boot step's workloads in parallel, each through start, probe (raced against a deadline timer)
 * and post-boot scripts in order. Any failure that ends the run cancels every outstanding command
 * (the executor gets a {@link Command.Cancel} for each). A drill always passes through
 * CLEANING_UP. A rollback is a reconciliation: it looks at what the run did and is not yet undone
 * (workloads started at the target, DNS records changed, fences set or lifted, workloads stopped
 * at the source) and undoes it newest first, so a failed rollback can simply be run again.
 *
 * <p>Which operator events each phase takes is decided by the exhaustive switches in
 * {@link #start}, {@link #abort}, {@link #commit} and {@link #rollback}; docs/runbooks.md has them
 * as a table and {@code RunMachineTableTest} checks every phase against every event kind.
 * Answers are taken whenever the command they answer is outstanding, and ignored when it is not.
 */
public final class RunMachine {
    static final String AUTO_ROLLBACK = "auto-rollback";
    static final String CLEANUP = "cleanup";
    static final String REPROTECT = "reprotect";
    private static final int MESSAGE_TAIL = 300;

    private RunMachine() {}

    /**
     * The transition {@code event} makes from {@code state}. Stale answers and {@link Event.Resumed}
     * on an ended run return the state unchanged with no commands.
     *
     * @throws RunRejectedException when the run cannot take the event in its phase; the state is unchanged
     */
    public static Transition next(RunState state, Event event) {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(event.at(), "event time");
        Command answered = null;
        if (event instanceof Event.Answer a) {
            answered = state.outstanding().stream().filter(c -> c.id().equals(a.commandId())).findFirst().orElse(null);
            if (answered == null) {
                return new Transition(state, List.of());
            }
            checkFits(state, a, answered);
        }
        if (event instanceof Event.Resumed && state.ended()) {
            return new Transition(state, List.of());
        }
        Draft d = new Draft(state, event.at());
        switch (event) {
            case Event.Started e -> start(d, e);
            case Event.Abort e -> abort(d, e);
            case Event.Commit e -> commit(d, e);
            case Event.Rollback e -> rollback(d, e);
            case Event.Resumed e -> {
                d.log("resumed after a restart; " + d.outstanding.size() + " outstanding command(s) issued again");
                d.reissueOutstanding();
            }
            case Event.Answer a -> answer(d, a, answered);
        }
        return d.transition();
    }

    // --- operator events: the exhaustive switches are the table of what each phase accepts

    private static void start(Draft d, Event.Started e) {
        switch (d.phase) {
            case CREATED -> {
                if (d.kind() == RunKind.FORCED && !e.confirmed()) {
                    throw reject(d, ErrorCode.USAGE, "a forced failover of plan " + d.plan().name() + " brings it up at site " + d.base.targetSite()
                            + " from the recovery point without stopping site " + d.base.sourceSite() + ", which is fenced; data newer than the "
                            + "point is lost. Confirm it explicitly to go on");
                }
                if (e.pointAt() != null && d.kind().graceful()) {
                    throw reject(d, ErrorCode.USAGE, "a " + kindName(d) + " recovers from a final snapshot taken after the workloads stop; "
                            + "it does not take a recovery point");
                }
                d.startedAt = d.now;
                d.startedBy = e.by();
                d.pointAt = e.pointAt();
                d.log(kindName(d) + " started by " + e.by() + (e.pointAt() != null ? ", recovery point at or before " + e.pointAt() : ""));
                switch (d.kind()) {
                    case TEST, PLANNED -> enterPreparing(d);
                    case FORCED -> enterFencing(d);
                    case FAILBACK -> enterReprotecting(d);
                }
            }
            case REPROTECTING, PREPARING, STOPPING, FENCING, FINAL_SNAPSHOT, APPLYING, RUNNING_STEPS, CLEANING_UP, FAILED_OVER, ROLLING_BACK,
                    SUCCEEDED, COMMITTED, ROLLED_BACK, FAILED, ABORTED ->
                throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " has already started (it is " + phaseName(d.phase) + ")");
        }
    }

    private static void abort(Draft d, Event.Abort e) {
        String why = "aborted by " + e.by() + (e.reason() == null || e.reason().isBlank() ? "" : ": " + e.reason());
        switch (d.phase) {
            case CREATED -> {
                d.failure = why;
                d.log(why);
                end(d, Phase.ABORTED);
            }
            case REPROTECTING, PREPARING, STOPPING, FENCING, FINAL_SNAPSHOT, APPLYING, RUNNING_STEPS, ROLLING_BACK -> stopRun(d, why, Phase.ABORTED);
            case CLEANING_UP -> throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " is removing its sandbox; it ends by itself once that is done");
            case FAILED_OVER -> throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " has failed over to site " + d.base.targetSite()
                    + "; commit it or roll it back");
            case SUCCEEDED, COMMITTED, ROLLED_BACK, FAILED, ABORTED -> throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " has ended ("
                    + phaseName(d.phase) + ")");
        }
    }

    private static void commit(Draft d, Event.Commit e) {
        switch (d.phase) {
            case FAILED_OVER -> {
                d.cancelAll("committed");
                d.log("committed by " + e.by() + ": plan " + d.plan().name() + " runs at site " + d.base.targetSite());
                end(d, Phase.COMMITTED);
            }
            case CREATED, REPROTECTING, PREPARING, STOPPING, FENCING, FINAL_SNAPSHOT, APPLYING, RUNNING_STEPS, CLEANING_UP, ROLLING_BACK,
                    SUCCEEDED, COMMITTED, ROLLED_BACK, FAILED, ABORTED -> {
                if (d.kind().drill()) {
                    throw reject(d, ErrorCode.CONFLICT, "a test failover is never committed; it cleans up by itself");
                }
                throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " can be committed only once it has failed over; it is "
                        + phaseName(d.phase));
            }
        }
    }

    private static void rollback(Draft d, Event.Rollback e) {
        if (d.kind().drill()) {
            throw reject(d, ErrorCode.CONFLICT, "a test failover is never rolled back; it cleans up its sandbox by itself");
        }
        switch (d.phase) {
            case FAILED_OVER, FAILED, ABORTED -> startRollback(d, "by " + e.by());
            case COMMITTED -> throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " is committed; bring plan " + d.plan().name()
                    + " back with a failback");
            case ROLLED_BACK -> throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " is rolled back already");
            case CREATED -> throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " has not started; there is nothing to roll back");
            case ROLLING_BACK -> throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " is rolling back already");
            case REPROTECTING, PREPARING, STOPPING, FENCING, FINAL_SNAPSHOT, APPLYING, RUNNING_STEPS, CLEANING_UP, SUCCEEDED ->
                throw reject(d, ErrorCode.CONFLICT, "run " + d.base.runId() + " is " + phaseName(d.phase) + "; abort it first, then roll it back");
        }
    }

    // --- answers

    /** True when an answer of {@code a}'s type answers a command of {@code c}'s type. */
    static boolean answers(Event.Answer a, Command c) {
        return switch (a) {
            case Event.ReprotectDone x -> c instanceof StartReverseReplication;
            case Event.PreparationDone x -> c instanceof PrepareWorkload;
            case Event.StopDone x -> c instanceof StopWorkload;
            case Event.FenceDone x -> c instanceof FenceSite || c instanceof LiftFence;
            case Event.FinalSnapshotDone x -> c instanceof TakeFinalSnapshot;
            case Event.SnapshotApplied x -> c instanceof ApplySnapshot;
            case Event.WorkloadBooted x -> c instanceof StartWorkload;
            case Event.ProbeResult x -> c instanceof RunProbe;
            case Event.ScriptResult x -> c instanceof RunScript || c instanceof RunPostBootScript;
            case Event.DnsResult x -> c instanceof UpdateDns;
            case Event.HttpResult x -> c instanceof CallHttp;
            case Event.ApprovalGiven x -> c instanceof AskApproval;
            case Event.ApprovalDenied x -> c instanceof AskApproval;
            case Event.TimerFired x -> c instanceof StartTimer;
            case Event.CleanupDone x -> c instanceof CleanUpSandbox;
        };
    }

    private static void checkFits(RunState s, Event.Answer a, Command c) {
        if (!answers(a, c)) {
            throw new RunRejectedException(ErrorCode.USAGE, s.phase(), a.getClass().getSimpleName() + " cannot answer command '" + c.id()
                    + "', which is a " + c.getClass().getSimpleName());
        }
        boolean pointMissing = a instanceof Event.PreparationDone p && p.ok() && p.point() == null
                || a instanceof Event.FinalSnapshotDone f && f.ok() && f.point() == null;
        if (pointMissing) {
            throw new RunRejectedException(ErrorCode.USAGE, s.phase(), a.getClass().getSimpleName() + " for '" + c.id()
                    + "' succeeded but names no recovery point");
        }
    }

    private static void answer(Draft d, Event.Answer a, Command c) {
        boolean rollingBack = d.phase == Phase.ROLLING_BACK;
        if (!(a instanceof Event.ProbeResult p && !p.ok())) {
            d.answered(c.id());
        }
        switch (a) {
            case Event.ReprotectDone r -> {
                if (!r.ok()) {
                    fail(d, "reprotecting (replication from site " + d.base.sourceSite() + " back to site " + d.base.targetSite() + ") failed: "
                            + brief(r.message()));
                } else {
                    d.log("reprotected: site " + d.base.targetSite() + " holds current copies of every workload");
                    enterPreparing(d);
                }
            }
            case Event.PreparationDone p -> prepared(d, (PrepareWorkload) c, p);
            case Event.StopDone s -> {
                if (rollingBack) {
                    rolledBackStop(d, (StopWorkload) c, s);
                } else {
                    sourceStopped(d, (StopWorkload) c, s);
                }
            }
            case Event.FenceDone f -> {
                if (rollingBack) {
                    rolledBackFence(d, c, f);
                } else {
                    fenced(d, c, f);
                }
            }
            case Event.FinalSnapshotDone f -> finalSnapshot(d, (TakeFinalSnapshot) c, f);
            case Event.SnapshotApplied s -> applied(d, (ApplySnapshot) c, s);
            case Event.WorkloadBooted b -> {
                if (rollingBack) {
                    rolledBackStart(d, (StartWorkload) c, b);
                } else {
                    booted(d, (StartWorkload) c, b);
                }
            }
            case Event.ProbeResult p -> {
                if (rollingBack) {
                    rolledBackProbe(d, (RunProbe) c, p);
                } else {
                    probed(d, (RunProbe) c, p);
                }
            }
            case Event.ScriptResult s -> {
                if (c instanceof RunPostBootScript pb) {
                    d.cancel(postBootDeadlineId(pb.workload(), pb.index()), "the script ended");
                    postBootDone(d, d.workload(pb.workload()), pb.index(), s.ok(), exit(s));
                } else {
                    d.cancel(stepId(d.stepIndex, "deadline"), "the script ended");
                    Step.Script sc = (Step.Script) currentStep(d);
                    if (s.ok()) {
                        stepSucceeded(d, exit(s));
                    } else {
                        stepFailed(d, exit(s), sc.abortOnFailure());
                    }
                }
            }
            case Event.DnsResult r -> {
                UpdateDns u = (UpdateDns) c;
                if (rollingBack) {
                    rolledBackDns(d, u, r);
                } else if (r.ok()) {
                    stepSucceeded(d, u.step().fqdn() + " " + u.step().type() + " " + u.value());
                } else {
                    // the updater's messages name the update themselves ("DNS update of NAME TYPE at HOST:PORT: ..."), and
                    // their beginning is what matters: keep it, not the tail as for a script's output
                    String m = r.message() == null ? "" : r.message().strip().replaceAll("\\s*\\R\\s*", " | ");
                    stepFailed(d, (m.startsWith("DNS update of ") ? "" : "DNS update of " + u.step().fqdn() + " failed: ")
                            + (m.length() <= 2 * MESSAGE_TAIL ? m : m.substring(0, 2 * MESSAGE_TAIL) + "…"), true);
                }
            }
            case Event.HttpResult h -> {
                d.cancel(stepId(d.stepIndex, "deadline"), "answered");
                Step.HttpCall call = ((CallHttp) c).step();
                String text = h.status() == 0 ? "no answer" + suffix(h.message())
                        : "status " + h.status() + (h.status() == call.status() ? "" : ", expected " + call.status()) + suffix(h.message());
                if (h.status() == call.status()) {
                    stepSucceeded(d, text);
                } else {
                    stepFailed(d, call.method() + " " + call.url() + ": " + text, call.abortOnFailure());
                }
            }
            case Event.ApprovalGiven g -> {
                d.cancel(stepId(d.stepIndex, "deadline"), "answered");
                stepSucceeded(d, "approved by " + g.by());
            }
            case Event.ApprovalDenied n -> {
                d.cancel(stepId(d.stepIndex, "deadline"), "answered");
                String why = "denied by " + n.by() + suffix(n.reason());
                S s = d.steps.get(d.stepIndex);
                s.status = StepStatus.FAILED;
                s.endedAt = d.now;
                s.message = why;
                stopRun(d, "approval '" + s.name + "' " + why, Phase.ABORTED);
            }
            case Event.TimerFired t -> timerFired(d, (StartTimer) c);
            case Event.CleanupDone r -> {
                if (r.ok()) {
                    d.log("sandbox removed");
                    end(d, d.endAfterCleanup);
                } else {
                    d.failure = (d.failure == null ? "the drill passed, but " : d.failure + "; and ")
                            + "its sandbox could not be removed: " + brief(r.message()) + "; remove it by hand";
                    d.log(d.failure);
                    end(d, Phase.FAILED);
                }
            }
        }
    }

    // --- the phases before the runbook

    private static void enterReprotecting(Draft d) {
        d.phase = Phase.REPROTECTING;
        d.log("reprotecting: replicating from site " + d.base.sourceSite() + " back to site " + d.base.targetSite());
        d.issue(new StartReverseReplication(REPROTECT, d.base.sourceSite(), d.base.targetSite()));
    }

    private static void enterPreparing(Draft d) {
        d.phase = Phase.PREPARING;
        d.log("early preparations: " + d.workloads.size() + " workload(s) in parallel at site " + d.base.targetSite()
                + (d.sandbox() ? " (sandbox copies)" : ""));
        for (W w : d.workloads) {
            w.status = WorkloadStatus.PREPARING;
            w.prepare = Result.running(d.now);
            d.issue(new PrepareWorkload(prepareId(w.name), w.name, d.base.targetSite(), d.sandbox(), d.pointAt));
        }
    }

    private static void prepared(Draft d, PrepareWorkload c, Event.PreparationDone e) {
        W w = d.workload(c.workload());
        w.prepare = w.prepare.finish(d.now, e.ok(), e.message());
        if (!e.ok()) {
            w.status = WorkloadStatus.FAILED;
            w.failure = "preparation failed: " + brief(e.message());
            fail(d, "preparing workload " + w.name + " at site " + c.site() + " failed: " + brief(e.message()));
            return;
        }
        w.status = WorkloadStatus.PREPARED;
        w.point = e.point();
        d.log(w.name + " prepared (point " + e.point().snapshot() + " of " + e.point().time() + ")");
        if (!d.waitingFor(PrepareWorkload.class)) {
            switch (d.kind()) {
                case TEST, FORCED -> enterSteps(d);
                case PLANNED, FAILBACK -> enterStopping(d);
            }
        }
    }

    private static void enterStopping(Draft d) {
        d.phase = Phase.STOPPING;
        stopNextGroup(d);
    }

    /** Stops the source's workloads of the last boot step not stopped yet; then fences. */
    private static void stopNextGroup(Draft d) {
        int group = d.workloads.stream().filter(w -> !w.sourceStopped).mapToInt(w -> w.bootStep).max().orElse(-1);
        if (group < 0) {
            enterFencing(d);
            return;
        }
        List<W> batch = d.workloads.stream().filter(w -> !w.sourceStopped && w.bootStep == group).toList();
        d.log("stopping at site " + d.base.sourceSite() + " (boot step '" + d.steps.get(group).name + "'): "
                + String.join(", ", batch.stream().map(w -> w.name).toList()));
        for (W w : batch) {
            w.sourceStop = Result.running(d.now);
            d.issue(new StopWorkload(stopId(w.name), w.name, d.base.sourceSite()));
        }
    }

    private static void sourceStopped(Draft d, StopWorkload c, Event.StopDone e) {
        W w = d.workload(c.workload());
        w.sourceStop = w.sourceStop.finish(d.now, e.ok(), e.message());
        if (!e.ok()) {
            fail(d, "could not stop " + w.name + " at site " + c.site() + ": " + brief(e.message()) + "; nothing was started at site "
                    + d.base.targetSite());
            return;
        }
        w.sourceStopped = true;
        if (!d.waitingFor(StopWorkload.class)) {
            stopNextGroup(d);
        }
    }

    private static void enterFencing(Draft d) {
        d.phase = Phase.FENCING;
        // the target may be fenced from an earlier move the other way (a committed failback fences
        // the recovery site); the service comes up there now, so its fence goes
        d.log("fencing site " + d.base.sourceSite() + " and lifting any fence of site " + d.base.targetSite());
        d.issue(new FenceSite(fenceId(d.base.sourceSite()), d.base.sourceSite()));
        d.issue(new LiftFence(unfenceId(d.base.targetSite()), d.base.targetSite()));
    }

    private static void fenced(Draft d, Command c, Event.FenceDone e) {
        boolean fence = c instanceof FenceSite;
        String site = fence ? ((FenceSite) c).site() : ((LiftFence) c).site();
        if (!e.ok()) {
            fail(d, (fence ? "could not fence site " : "could not lift the fence of site ") + site + ": " + brief(e.message()));
            return;
        }
        if (fence) {
            d.sourceFenced = true;
        } else {
            d.targetFenceLifted = true;
        }
        if (!d.waitingFor(FenceSite.class) && !d.waitingFor(LiftFence.class)) {
            switch (d.kind()) {
                case FORCED -> enterPreparing(d);
                case PLANNED, FAILBACK -> enterFinalSnapshot(d);
                case TEST -> throw new IllegalStateException("a drill never fences");
            }
        }
    }

    private static void enterFinalSnapshot(Draft d) {
        d.phase = Phase.FINAL_SNAPSHOT;
        d.log("final snapshot of every stopped workload at site " + d.base.sourceSite());
        for (W w : d.workloads) {
            w.finalSnapshot = Result.running(d.now);
            d.issue(new TakeFinalSnapshot(finalSnapshotId(w.name), w.name, d.base.sourceSite()));
        }
    }

    private static void finalSnapshot(Draft d, TakeFinalSnapshot c, Event.FinalSnapshotDone e) {
        W w = d.workload(c.workload());
        w.finalSnapshot = w.finalSnapshot.finish(d.now, e.ok(), e.message());
        if (!e.ok()) {
            fail(d, "the final snapshot of " + w.name + " at site " + c.site() + " failed: " + brief(e.message()));
            return;
        }
        w.point = e.point();
        if (!d.waitingFor(TakeFinalSnapshot.class)) {
            d.phase = Phase.APPLYING;
            d.log("applying the final snapshots at site " + d.base.targetSite());
            for (W x : d.workloads) {
                x.apply = Result.running(d.now);
                d.issue(new ApplySnapshot(applyId(x.name), x.name, d.base.targetSite(), x.point.snapshot()));
            }
        }
    }

    private static void applied(Draft d, ApplySnapshot c, Event.SnapshotApplied e) {
        W w = d.workload(c.workload());
        w.apply = w.apply.finish(d.now, e.ok(), e.message());
        if (!e.ok()) {
            fail(d, "applying the final snapshot of " + w.name + " at site " + c.site() + " failed: " + brief(e.message()));
            return;
        }
        if (!d.waitingFor(ApplySnapshot.class)) {
            enterSteps(d);
        }
    }

    // --- the runbook

    private static void enterSteps(Draft d) {
        d.phase = Phase.RUNNING_STEPS;
        runStep(d, 0);
    }

    /** Starts step {@code first}, or the first after it that is not skipped or empty; after the last, finishes. */
    private static void runStep(Draft d, int first) {
        List<Step> steps = d.plan().runbook().steps();
        for (int i = first; ; i++) {
            d.stepIndex = i;
            if (i >= steps.size()) {
                finishSteps(d);
                return;
            }
            Step step = steps.get(i);
            S s = d.steps.get(i);
            s.startedAt = d.now;
            String skip = skipReason(d, step);
            if (skip != null) {
                s.status = StepStatus.SKIPPED;
                s.endedAt = d.now;
                s.message = skip;
                d.log("step " + (i + 1) + " '" + s.name + "' skipped: " + skip);
                continue;
            }
            s.status = StepStatus.RUNNING;
            d.log("step " + (i + 1) + " '" + s.name + "' (" + s.kind + ") started");
            switch (step) {
                case Step.BootStep b -> {
                    if (b.workloads().isEmpty()) {
                        s.status = StepStatus.SUCCEEDED;
                        s.endedAt = d.now;
                        s.message = "no workloads";
                        continue;
                    }
                    for (String name : b.workloads()) {
                        W w = d.workload(name);
                        w.status = WorkloadStatus.STARTING;
                        w.start = Result.running(d.now);
                        w.targetStarted = true;
                        d.issue(new StartWorkload(startId(name), name, d.base.targetSite(), d.sandbox()));
                    }
                }
                case Step.Delay dl -> d.issue(new StartTimer(stepId(i, "delay"), d.now.plus(dl.duration())));
                case Step.Script sc -> {
                    d.issue(new RunScript(stepId(i, "script"), sc.name(), sc.where(), sc.command(), sc.timeout(), d.sandbox()));
                    d.issue(new StartTimer(stepId(i, "deadline"), d.now.plus(sc.timeout())));
                }
                case Step.DnsUpdate dn -> d.issue(new UpdateDns(stepId(i, "dns"), dn, d.base.direction()));
                case Step.HttpCall h -> {
                    d.issue(new CallHttp(stepId(i, "http"), h));
                    d.issue(new StartTimer(stepId(i, "deadline"), d.now.plus(h.timeout())));
                }
                case Step.Approval a -> {
                    d.issue(new AskApproval(stepId(i, "approval"), a.name(), a.prompt(), d.now.plus(a.timeout())));
                    d.issue(new StartTimer(stepId(i, "deadline"), d.now.plus(a.timeout())));
                }
            }
            return;
        }
    }

    /** Why a drill leaves {@code step} out, or null when it runs. */
    private static String skipReason(Draft d, Step step) {
        if (!d.kind().drill()) {
            return null;
        }
        return switch (step) {
            case Step.BootStep b -> null;
            case Step.Delay dl -> null;
            case Step.DnsUpdate dn -> "a drill never changes DNS";
            case Step.Script sc -> sc.skipInDrill() ? "skipInDrill" : null;
            case Step.HttpCall h -> h.skipInDrill() ? "skipInDrill" : null;
            case Step.Approval a -> a.skipInDrill() ? "skipInDrill" : null;
        };
    }

    private static Step currentStep(Draft d) {
        return d.plan().runbook().steps().get(d.stepIndex);
    }

    private static void stepSucceeded(Draft d, String message) {
        S s = d.steps.get(d.stepIndex);
        s.status = StepStatus.SUCCEEDED;
        s.endedAt = d.now;
        s.message = message;
        d.log("step " + (s.index + 1) + " '" + s.name + "' succeeded: " + message);
        runStep(d, d.stepIndex + 1);
    }

    private static void stepFailed(Draft d, String message, boolean abortOnFailure) {
        S s = d.steps.get(d.stepIndex);
        s.endedAt = d.now;
        s.message = message;
        if (abortOnFailure) {
            s.status = StepStatus.FAILED;
            fail(d, "step '" + s.name + "' failed: " + message);
        } else {
            s.status = StepStatus.FAILED_IGNORED;
            d.log("step " + (s.index + 1) + " '" + s.name + "' failed, and the run goes on (abortOnFailure is false): " + message);
            runStep(d, d.stepIndex + 1);
        }
    }

    private static void booted(Draft d, StartWorkload c, Event.WorkloadBooted e) {
        W w = d.workload(c.workload());
        w.start = w.start.finish(d.now, e.ok(), e.message());
        if (!e.ok()) {
            workloadFailed(d, w, "did not start: " + brief(e.message()));
            return;
        }
        Probe probe = d.spec(w.name).probe();
        w.status = WorkloadStatus.PROBING;
        w.probe = Result.running(d.now);
        d.issue(new RunProbe(probeId(w.name), w.name, d.base.targetSite(), probe, d.now.plus(probe.timeout()), d.sandbox()));
        d.issue(new StartTimer(probeDeadlineId(w.name), d.now.plus(probe.timeout())));
    }

    private static void probed(Draft d, RunProbe c, Event.ProbeResult e) {
        W w = d.workload(c.workload());
        if (!e.ok()) {
            w.lastProbeMessage = e.message();
            return;
        }
        d.cancel(probeDeadlineId(w.name), "the probe is green");
        w.probe = w.probe.finish(d.now, true, e.message());
        w.greenAt = d.now;
        d.log(w.name + " is up (probe green after " + DurationText.format(truncate(w.probe.took())) + ")");
        runPostBoot(d, w, 0);
    }

    private static void runPostBoot(Draft d, W w, int k) {
        List<PostBootScript> scripts = d.spec(w.name).postBoot();
        if (k >= scripts.size()) {
            w.status = WorkloadStatus.READY;
            Step.BootStep step = (Step.BootStep) currentStep(d);
            if (step.workloads().stream().allMatch(n -> d.workload(n).status == WorkloadStatus.READY)) {
                stepSucceeded(d, step.workloads().size() + " workload(s) up: " + String.join(", ", step.workloads()));
            }
            return;
        }
        PostBootScript script = scripts.get(k);
        w.status = WorkloadStatus.POST_BOOT;
        w.postBoot.add(Result.running(d.now));
        d.issue(new RunPostBootScript(postBootId(w.name, k), w.name, d.base.targetSite(), k, script, d.sandbox()));
        d.issue(new StartTimer(postBootDeadlineId(w.name, k), d.now.plus(script.timeout())));
    }

    private static void postBootDone(Draft d, W w, int k, boolean ok, String message) {
        w.postBoot.set(k, w.postBoot.get(k).finish(d.now, ok, message));
        if (ok) {
            runPostBoot(d, w, k + 1);
        } else if (d.spec(w.name).postBoot().get(k).abortOnFailure()) {
            workloadFailed(d, w, "post-boot script " + (k + 1) + " failed: " + message);
        } else {
            d.log(w.name + ": post-boot script " + (k + 1) + " failed, and the run goes on (abortOnFailure is false): " + message);
            runPostBoot(d, w, k + 1);
        }
    }

    private static void workloadFailed(Draft d, W w, String reason) {
        w.status = WorkloadStatus.FAILED;
        w.failure = reason;
        S s = d.steps.get(d.stepIndex);
        s.status = StepStatus.FAILED;
        s.endedAt = d.now;
        s.message = w.name + " " + reason;
        fail(d, "boot step '" + s.name + "': workload " + w.name + " " + reason);
    }

    private static void timerFired(Draft d, StartTimer t) {
        String id = t.id();
        if (d.phase == Phase.ROLLING_BACK) {
            rollbackProbeTimedOut(d, t);
            return;
        }
        if (id.equals(AUTO_ROLLBACK)) {
            startRollback(d, "automatically, " + DurationText.format(d.plan().autoRollbackAfter()) + " after the failover");
            return;
        }
        int i = d.stepIndex;
        Step step = currentStep(d);
        if (id.equals(stepId(i, "delay"))) {
            stepSucceeded(d, "waited " + DurationText.format(((Step.Delay) step).duration()));
            return;
        }
        if (id.equals(stepId(i, "deadline"))) {
            switch (step) {
                case Step.Script sc -> {
                    d.cancel(stepId(i, "script"), "timed out");
                    stepFailed(d, "still running after " + DurationText.format(sc.timeout()), sc.abortOnFailure());
                }
                case Step.HttpCall h -> {
                    d.cancel(stepId(i, "http"), "timed out");
                    stepFailed(d, h.method() + " " + h.url() + ": no answer within " + DurationText.format(h.timeout()), h.abortOnFailure());
                }
                case Step.Approval a -> {
                    d.cancel(stepId(i, "approval"), "timed out");
                    stepFailed(d, "no answer within " + DurationText.format(a.timeout()), true);
                }
                case Step.BootStep b -> throw new IllegalStateException("boot steps have no step deadline");
                case Step.Delay dl -> throw new IllegalStateException("delays have no step deadline");
                case Step.DnsUpdate dn -> throw new IllegalStateException("DNS updates have no step deadline");
            }
            return;
        }
        Step.BootStep boot = (Step.BootStep) step;
        for (String name : boot.workloads()) {
            W w = d.workload(name);
            if (id.equals(probeDeadlineId(name))) {
                d.cancel(probeId(name), "not green by its deadline");
                Duration timeout = d.spec(name).probe().timeout();
                w.probe = w.probe.finish(d.now, false, "not green within " + DurationText.format(timeout)
                        + (w.lastProbeMessage != null ? " (last: " + brief(w.lastProbeMessage) + ")" : ""));
                workloadFailed(d, w, "probe " + w.probe.message());
                return;
            }
            for (int k = 0; k < w.postBoot.size(); k++) {
                if (id.equals(postBootDeadlineId(name, k))) {
                    d.cancel(postBootId(name, k), "timed out");
                    postBootDone(d, w, k, false, "still running after " + DurationText.format(d.spec(name).postBoot().get(k).timeout()));
                    return;
                }
            }
        }
        throw new IllegalStateException("timer " + id + " of run " + d.base.runId() + " fits nothing in step " + i);
    }

    private static void finishSteps(Draft d) {
        if (d.kind().drill()) {
            d.log("the drill's runbook finished");
            enterCleanup(d, Phase.SUCCEEDED);
            return;
        }
        d.phase = Phase.FAILED_OVER;
        d.failedOverAt = d.now;
        d.log("failed over: plan " + d.plan().name() + " runs at site " + d.base.targetSite() + "; commit or roll back");
        d.issue(new Command.PublishReport(reportId(d, Phase.FAILED_OVER), Phase.FAILED_OVER));
        if (d.plan().autoRollbackAfter() != null && d.kind().graceful()) {
            d.issue(new StartTimer(AUTO_ROLLBACK, d.now.plus(d.plan().autoRollbackAfter())));
        }
    }

    // --- ending

    /** Ends the run (or, for a drill, cleans up first) because of {@code reason}. */
    private static void fail(Draft d, String reason) {
        stopRun(d, reason, Phase.FAILED);
    }

    private static void stopRun(Draft d, String reason, Phase outcome) {
        d.failure = reason;
        d.log((outcome == Phase.FAILED ? "failed: " : "") + reason);
        d.cancelAll(outcome == Phase.FAILED ? "the run failed" : "the run was aborted");
        settleInProgress(d);
        if (d.kind().drill() && d.phase != Phase.CREATED) {
            enterCleanup(d, outcome);
        } else {
            end(d, outcome);
        }
    }

    /** Marks what was in progress as cancelled, for the report. */
    private static void settleInProgress(Draft d) {
        for (S s : d.steps) {
            if (s.status == StepStatus.RUNNING) {
                s.status = StepStatus.CANCELLED;
                s.endedAt = d.now;
            }
            if (s.revert != null && s.revert.running()) {
                s.revert = s.revert.finish(d.now, false, Result.CANCELLED);
            }
        }
        for (W w : d.workloads) {
            switch (w.status) {
                case PREPARING, STARTING, PROBING, POST_BOOT -> w.status = WorkloadStatus.CANCELLED;
                case PENDING, PREPARED, READY, FAILED, CANCELLED, STOPPED -> { }
            }
            w.prepare = settle(d, w.prepare);
            w.sourceStop = settle(d, w.sourceStop);
            w.finalSnapshot = settle(d, w.finalSnapshot);
            w.apply = settle(d, w.apply);
            w.start = settle(d, w.start);
            w.probe = settle(d, w.probe);
            w.rollbackStop = settle(d, w.rollbackStop);
            w.rollbackStart = settle(d, w.rollbackStart);
            w.postBoot.replaceAll(r -> settle(d, r));
        }
    }

    private static Result settle(Draft d, Result r) {
        return r != null && r.running() ? r.finish(d.now, false, Result.CANCELLED) : r;
    }

    private static void enterCleanup(Draft d, Phase outcome) {
        d.phase = Phase.CLEANING_UP;
        d.endAfterCleanup = outcome;
        d.log("removing the sandbox");
        d.issue(new CleanUpSandbox(CLEANUP));
    }

    private static void end(Draft d, Phase phase) {
        d.phase = phase;
        d.endedAt = d.now;
        d.log("run ended: " + phaseName(phase));
        d.issue(new Command.PublishReport(reportId(d, phase), phase));
    }

    // --- rollback: undo what the run did, newest first

    private static void startRollback(Draft d, String why) {
        d.cancelAll("rolling back");
        d.rollbackAttempt++;
        d.phase = Phase.ROLLING_BACK;
        d.endedAt = null;
        d.log("rollback " + (d.rollbackAttempt > 1 ? "attempt " + d.rollbackAttempt + " " : "") + "started " + why);
        rollbackNext(d);
    }

    private static void rollbackNext(Draft d) {
        String p = rollbackPrefix(d);
        String source = d.base.sourceSite();
        String target = d.base.targetSite();
        int stopGroup = d.workloads.stream().filter(w -> w.targetStarted).mapToInt(w -> w.bootStep).max().orElse(-1);
        if (stopGroup >= 0) {
            List<W> batch = d.workloads.stream().filter(w -> w.targetStarted && w.bootStep == stopGroup).toList();
            d.log("rollback: stopping at site " + target + ": " + String.join(", ", batch.stream().map(w -> w.name).toList()));
            for (W w : batch) {
                w.rollbackStop = Result.running(d.now);
                d.issue(new StopWorkload(p + "stop:" + w.name, w.name, target));
            }
            return;
        }
        for (int i = d.steps.size() - 1; i >= 0; i--) {
            S s = d.steps.get(i);
            if (s.status == StepStatus.SUCCEEDED && s.kind.equals("dns") && (s.revert == null || !s.revert.ok())) {
                Step.DnsUpdate dn = (Step.DnsUpdate) d.plan().runbook().steps().get(i);
                s.revert = Result.running(d.now);
                d.log("rollback: " + dn.fqdn() + " back to " + dn.value(d.base.direction().reverse()));
                d.issue(new UpdateDns(p + "dns:" + i, dn, d.base.direction().reverse()));
                return;
            }
        }
        if (d.sourceFenced || d.targetFenceLifted) {
            if (d.sourceFenced) {
                d.log("rollback: lifting the fence of site " + source);
                d.issue(new LiftFence(p + "unfence:" + source, source));
            }
            if (d.targetFenceLifted) {
                d.log("rollback: fencing site " + target + " again");
                d.issue(new FenceSite(p + "fence:" + target, target));
            }
            return;
        }
        int startGroup = d.workloads.stream().filter(w -> w.sourceStopped).mapToInt(w -> w.bootStep).min().orElse(-1);
        if (startGroup >= 0) {
            List<W> batch = d.workloads.stream().filter(w -> w.sourceStopped && w.bootStep == startGroup).toList();
            d.log("rollback: starting at site " + source + " again: " + String.join(", ", batch.stream().map(w -> w.name).toList()));
            for (W w : batch) {
                w.rollbackStart = Result.running(d.now);
                d.issue(new StartWorkload(p + "start:" + w.name, w.name, source, false));
            }
            return;
        }
        d.failure = null;
        d.log("rolled back: plan " + d.plan().name() + " is where it was before run " + d.base.runId());
        end(d, Phase.ROLLED_BACK);
    }

    private static void rolledBackStop(Draft d, StopWorkload c, Event.StopDone e) {
        W w = d.workload(c.workload());
        w.rollbackStop = w.rollbackStop.finish(d.now, e.ok(), e.message());
        if (!e.ok()) {
            rollbackFailed(d, "could not stop " + w.name + " at site " + c.site() + ": " + brief(e.message()));
            return;
        }
        w.targetStarted = false;
        w.status = WorkloadStatus.STOPPED;
        continueRollback(d);
    }

    private static void rolledBackDns(Draft d, UpdateDns c, Event.DnsResult e) {
        S s = d.steps.get(d.plan().runbook().indexOf(c.step().name()));
        s.revert = s.revert.finish(d.now, e.ok(), e.ok() ? c.step().fqdn() + " " + c.step().type() + " " + c.value() : e.message());
        if (!e.ok()) {
            rollbackFailed(d, "could not put " + c.step().fqdn() + " back to " + c.value() + ": " + brief(e.message()));
            return;
        }
        continueRollback(d);
    }

    private static void rolledBackFence(Draft d, Command c, Event.FenceDone e) {
        if (!e.ok()) {
            rollbackFailed(d, (c instanceof LiftFence l ? "could not lift the fence of site " + l.site()
                    : "could not fence site " + ((FenceSite) c).site() + " again") + ": " + brief(e.message()));
            return;
        }
        if (c instanceof LiftFence) {
            d.sourceFenced = false;
        } else {
            d.targetFenceLifted = false;
        }
        continueRollback(d);
    }

    private static void rolledBackStart(Draft d, StartWorkload c, Event.WorkloadBooted e) {
        W w = d.workload(c.workload());
        if (!e.ok()) {
            w.rollbackStart = w.rollbackStart.finish(d.now, false, e.message());
            rollbackFailed(d, "could not start " + w.name + " at site " + c.site() + " again: " + brief(e.message()));
            return;
        }
        // started is not up: the next boot step's workloads, and the operator told "rolled back", need this one answering,
        // so it is probed at the source site (its probe rewritten to that site's addresses) as a boot probes at the target
        Probe probe = d.spec(w.name).probe();
        w.lastProbeMessage = null;
        d.issue(new RunProbe(rollbackPrefix(d) + probeId(w.name), w.name, c.site(), probe, d.now.plus(probe.timeout()), false));
        d.issue(new StartTimer(rollbackPrefix(d) + probeDeadlineId(w.name), d.now.plus(probe.timeout())));
    }

    private static void rolledBackProbe(Draft d, RunProbe c, Event.ProbeResult e) {
        W w = d.workload(c.workload());
        if (!e.ok()) {
            w.lastProbeMessage = e.message();
            return;
        }
        d.cancel(rollbackPrefix(d) + probeDeadlineId(w.name), "the probe is green");
        w.rollbackStart = w.rollbackStart.finish(d.now, true, "up at site " + c.site() + " (probe green)");
        d.log("rollback: " + w.name + " is up at site " + c.site() + " again (started and green in "
                + DurationText.format(truncate(w.rollbackStart.took())) + ")");
        w.sourceStopped = false;
        continueRollback(d);
    }

    private static void rollbackProbeTimedOut(Draft d, StartTimer t) {
        W w = d.workloads.stream().filter(x -> t.id().equals(rollbackPrefix(d) + probeDeadlineId(x.name))).findFirst()
                .orElseThrow(() -> new IllegalStateException("timer " + t.id() + " of run " + d.base.runId() + " fits nothing in its rollback"));
        d.cancel(rollbackPrefix(d) + probeId(w.name), "not green by its deadline");
        String why = "probe was not green within " + DurationText.format(d.spec(w.name).probe().timeout())
                + (w.lastProbeMessage != null ? " (last: " + brief(w.lastProbeMessage) + ")" : "");
        w.rollbackStart = w.rollbackStart.finish(d.now, false, "started, but its " + why);
        rollbackFailed(d, w.name + " started at site " + d.base.sourceSite() + " again, but its " + why);
    }

    private static String rollbackPrefix(Draft d) {
        return "rollback-" + d.rollbackAttempt + ":";
    }

    private static void continueRollback(Draft d) {
        if (d.outstanding.isEmpty()) {
            rollbackNext(d);
        }
    }

    private static void rollbackFailed(Draft d, String reason) {
        d.cancelAll("the rollback failed");
        settleInProgress(d);
        d.failure = "rollback failed: " + reason + "; fix that and roll back again";
        d.log(d.failure);
        end(d, Phase.FAILED);
    }

    // --- command ids (stable, so a re-issued command is recognised)

    static String prepareId(String w) {
        return "prepare:" + w;
    }

    static String stopId(String w) {
        return "stop:" + w;
    }

    static String fenceId(String site) {
        return "fence:" + site;
    }

    static String unfenceId(String site) {
        return "unfence:" + site;
    }

    static String finalSnapshotId(String w) {
        return "final-snapshot:" + w;
    }

    static String applyId(String w) {
        return "apply:" + w;
    }

    static String startId(String w) {
        return "start:" + w;
    }

    static String probeId(String w) {
        return "probe:" + w;
    }

    static String probeDeadlineId(String w) {
        return "probe-deadline:" + w;
    }

    static String postBootId(String w, int k) {
        return "post-boot:" + w + ":" + k;
    }

    static String postBootDeadlineId(String w, int k) {
        return "post-boot-deadline:" + w + ":" + k;
    }

    static String stepId(int index, String what) {
        return "step:" + index + ":" + what;
    }

    private static String reportId(Draft d, Phase phase) {
        return "report:" + phase.name().toLowerCase(Locale.ROOT) + ":" + d.rollbackAttempt;
    }

    // --- text

    private static RunRejectedException reject(Draft d, ErrorCode code, String message) {
        return new RunRejectedException(code, d.phase, message);
    }

    private static String kindName(Draft d) {
        return switch (d.kind()) {
            case TEST -> "test failover (drill)";
            case PLANNED -> "planned failover";
            case FORCED -> "forced failover";
            case FAILBACK -> "failback";
        };
    }

    static String phaseName(Phase p) {
        return p.name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }

    private static String exit(Event.ScriptResult s) {
        if (s.exitCode() == -1) {
            return "could not run" + suffix(s.output());
        }
        return "exit " + s.exitCode() + suffix(s.output());
    }

    private static String suffix(String text) {
        String b = brief(text);
        return b.isEmpty() ? "" : ": " + b;
    }

    /** The last {@value #MESSAGE_TAIL} characters of a message, on one line. */
    static String brief(String text) {
        if (text == null) {
            return "";
        }
        String t = text.strip().replaceAll("\\s*\\R\\s*", " | ");
        return t.length() <= MESSAGE_TAIL ? t : "…" + t.substring(t.length() - MESSAGE_TAIL);
    }

    private static Duration truncate(Duration d) {
        return Duration.ofSeconds(d.getSeconds());
    }
}
