package io.haven.runbook.run;

import io.haven.runbook.DrPlan;
import io.haven.runbook.Workload;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A mutable working copy of a {@link RunState} for the length of one transition: the machine's
 * handlers change it and issue commands, then {@link #transition()} freezes it. Keeping the
 * mutation here keeps {@code RunState} and its parts plain immutable records. Not thread-safe;
 * never escapes {@link RunMachine#next}.
 */
final class Draft {
    /** A workload being changed. */
    static final class W {
        final String name;
        final int bootStep;
        WorkloadStatus status;
        Result prepare;
        RecoveryPoint point;
        Result sourceStop;
        Result finalSnapshot;
        Result apply;
        Result start;
        Result probe;
        String lastProbeMessage;
        Instant greenAt;
        final List<Result> postBoot;
        boolean targetStarted;
        boolean sourceStopped;
        Result rollbackStop;
        Result rollbackStart;
        String failure;

        W(WorkloadRun w) {
            name = w.name();
            bootStep = w.bootStep();
            status = w.status();
            prepare = w.prepare();
            point = w.point();
            sourceStop = w.sourceStop();
            finalSnapshot = w.finalSnapshot();
            apply = w.apply();
            start = w.start();
            probe = w.probe();
            lastProbeMessage = w.lastProbeMessage();
            greenAt = w.greenAt();
            postBoot = new ArrayList<>(w.postBoot());
            targetStarted = w.targetStarted();
            sourceStopped = w.sourceStopped();
            rollbackStop = w.rollbackStop();
            rollbackStart = w.rollbackStart();
            failure = w.failure();
        }

        WorkloadRun freeze() {
            return new WorkloadRun(name, bootStep, status, prepare, point, sourceStop, finalSnapshot, apply, start, probe, lastProbeMessage,
                    greenAt, postBoot, targetStarted, sourceStopped, rollbackStop, rollbackStart, failure);
        }
    }

    /** A step being changed. */
    static final class S {
        final int index;
        final String name;
        final String kind;
        StepStatus status;
        Instant startedAt;
        Instant endedAt;
        String message;
        Result revert;

        S(StepRun s) {
            index = s.index();
            name = s.name();
            kind = s.kind();
            status = s.status();
            startedAt = s.startedAt();
            endedAt = s.endedAt();
            message = s.message();
            revert = s.revert();
        }

        StepRun freeze() {
            return new StepRun(index, name, kind, status, startedAt, endedAt, message, revert);
        }
    }

    final RunState base;
    final Instant now;
    Phase phase;
    String startedBy;
    Instant startedAt;
    Instant pointAt;
    Instant failedOverAt;
    Instant endedAt;
    int stepIndex;
    final List<S> steps = new ArrayList<>();
    final List<W> workloads = new ArrayList<>();
    final List<Command> outstanding;
    boolean sourceFenced;
    boolean targetFenceLifted;
    Phase endAfterCleanup;
    String failure;
    int rollbackAttempt;
    final List<LogEntry> log;
    private final List<Command> emitted = new ArrayList<>();

    Draft(RunState s, Instant now) {
        base = s;
        this.now = now;
        phase = s.phase();
        startedBy = s.startedBy();
        startedAt = s.startedAt();
        pointAt = s.pointAt();
        failedOverAt = s.failedOverAt();
        endedAt = s.endedAt();
        stepIndex = s.stepIndex();
        s.steps().forEach(x -> steps.add(new S(x)));
        s.workloads().forEach(x -> workloads.add(new W(x)));
        outstanding = new ArrayList<>(s.outstanding());
        sourceFenced = s.sourceFenced();
        targetFenceLifted = s.targetFenceLifted();
        endAfterCleanup = s.endAfterCleanup();
        failure = s.failure();
        rollbackAttempt = s.rollbackAttempt();
        log = new ArrayList<>(s.log());
    }

    DrPlan plan() {
        return base.plan();
    }

    RunKind kind() {
        return base.kind();
    }

    boolean sandbox() {
        return base.kind().drill();
    }

    W workload(String name) {
        return workloads.stream().filter(w -> w.name.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no workload " + name + " in run " + base.runId()));
    }

    Workload spec(String name) {
        return plan().workload(name).orElseThrow();
    }

    /** Issues {@code c}: emitted now, and (unless it is never answered) outstanding until answered or cancelled. */
    void issue(Command c) {
        if (!(c instanceof Command.Cancel) && !(c instanceof Command.PublishReport)) {
            outstanding.add(c);
        }
        emitted.add(c);
    }

    /** Emits again, in order, every outstanding command (after a restart). */
    void reissueOutstanding() {
        emitted.addAll(outstanding);
    }

    Command find(String id) {
        for (Command c : outstanding) {
            if (c.id().equals(id)) {
                return c;
            }
        }
        return null;
    }

    /** Marks {@code id} answered. */
    void answered(String id) {
        outstanding.removeIf(c -> c.id().equals(id));
    }

    /** Drops an outstanding command and tells the executor to stop working on it; nothing when not outstanding. */
    void cancel(String id, String reason) {
        if (outstanding.removeIf(c -> c.id().equals(id))) {
            emitted.add(new Command.Cancel("cancel:" + id, id, reason));
        }
    }

    void cancelAll(String reason) {
        for (Command c : List.copyOf(outstanding)) {
            cancel(c.id(), reason);
        }
    }

    boolean waitingFor(Class<? extends Command> type) {
        return outstanding.stream().anyMatch(type::isInstance);
    }

    void log(String message) {
        log.add(new LogEntry(now, message));
    }

    Transition transition() {
        RunState s = new RunState(base.runId(), base.kind(), base.plan(), base.sourceSite(), base.targetSite(), base.direction(), phase,
                base.createdAt(), startedBy, startedAt, pointAt, failedOverAt, endedAt, stepIndex, steps.stream().map(S::freeze).toList(),
                workloads.stream().map(W::freeze).toList(), outstanding, sourceFenced, targetFenceLifted, endAfterCleanup, failure,
                rollbackAttempt, log);
        return new Transition(s, emitted);
    }
}
