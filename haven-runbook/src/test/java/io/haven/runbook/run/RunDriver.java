package io.haven.runbook.run;

import io.haven.runbook.DrPlan;
import io.haven.runbook.run.Command.AskApproval;
import io.haven.runbook.run.Command.StartTimer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Drives one run through {@link RunMachine} the way an executor would, with a hand-set clock: it
 * keeps the state, records every command and every state in order, and its autopilot answers
 * outstanding commands like a healthy site (or as told per command id). Strict: an answer the
 * machine rejects fails the test, and the autopilot stops after a bounded number of events.
 */
final class RunDriver {
    static final Instant T0 = Instant.parse("2025-06-01T10:00:00Z");

    RunState state;
    Instant now = T0;
    final List<Command> issued = new ArrayList<>();
    final List<RunState> history = new ArrayList<>();
    final List<Event> events = new ArrayList<>();
    /** Answers to use instead of the healthy one, by command id; a function of the command. */
    final Map<String, Function<Command, Event>> overrides = new HashMap<>();
    /** Commands the autopilot never answers (a hung script, a lost agent): only their deadlines end them. */
    final Set<String> hang = new HashSet<>();

    RunDriver(DrPlan plan, RunKind kind) {
        state = RunState.create("run-1", plan, kind, now);
        history.add(state);
    }

    RunDriver(RunState state, Instant now) {
        this.state = state;
        this.now = now;
        history.add(state);
    }

    Transition send(Event e) {
        Transition t = RunMachine.next(state, e);
        state = t.state();
        issued.addAll(t.commands());
        history.add(state);
        events.add(e);
        return t;
    }

    RunDriver start() {
        send(new Event.Started(now, "alice", state.kind() == RunKind.FORCED, null));
        return this;
    }

    RunDriver tick(Duration d) {
        now = now.plus(d);
        return this;
    }

    Command outstanding(String id) {
        return state.outstanding().stream().filter(c -> c.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no outstanding command " + id + "; outstanding: " + ids()));
    }

    List<String> ids() {
        return state.outstanding().stream().map(Command::id).toList();
    }

    /** Answers command {@code id} as a healthy site would. */
    Transition ok(String id) {
        return send(healthy(outstanding(id), now));
    }

    /** Answers command {@code id} with a failure. */
    Transition fail(String id, String message) {
        return send(failure(outstanding(id), now, message));
    }

    /** Fires timer {@code id} at its time (the clock moves there if it is later). */
    Transition fire(String id) {
        StartTimer t = (StartTimer) outstanding(id);
        if (t.at().isAfter(now)) {
            now = t.at();
        }
        return send(new Event.TimerFired(id, now));
    }

    /**
     * Answers outstanding commands one at a time, oldest first, one second apart, until the run
     * waits for an operator (an approval without an override, FAILED_OVER) or ends. Timers fire
     * only when nothing else is outstanding, at their time. Returns this.
     */
    RunDriver autopilot() {
        return autopilot(Integer.MAX_VALUE);
    }

    RunDriver autopilot(int maxEvents) {
        for (int n = 0; n < maxEvents; n++) {
            if (n > 10_000) {
                throw new AssertionError("the run does not settle");
            }
            Command next = state.outstanding().stream()
                    .filter(c -> !(c instanceof StartTimer) && !hang.contains(c.id())
                            && (!(c instanceof AskApproval) || overrides.containsKey(c.id())))
                    .findFirst().orElse(null);
            if (next != null) {
                tick(Duration.ofSeconds(1));
                Function<Command, Event> o = overrides.get(next.id());
                send(o != null ? o.apply(next) : healthy(next, now));
                continue;
            }
            StartTimer timer = state.outstanding().stream().filter(StartTimer.class::isInstance).map(StartTimer.class::cast)
                    .filter(t -> !pendingApprovalDeadline(t))
                    .min((a, b) -> a.at().compareTo(b.at())).orElse(null);
            if (timer == null) {
                return this;
            }
            fire(timer.id());
        }
        return this;
    }

    /** A step deadline that belongs to an approval nobody has answered: the operator decides, not the clock. */
    private boolean pendingApprovalDeadline(StartTimer t) {
        return state.outstanding().stream().anyMatch(c -> c instanceof AskApproval a && !overrides.containsKey(a.id())
                && t.id().equals(a.id().replace(":approval", ":deadline")))
                || t.id().equals(RunMachine.AUTO_ROLLBACK);
    }

    static Event healthy(Command c, Instant at) {
        return switch (c) {
            case Command.StartReverseReplication x -> new Event.ReprotectDone(x.id(), at, true, "in sync");
            case Command.PrepareWorkload x -> new Event.PreparationDone(x.id(), at, true, "hydrated",
                    new RecoveryPoint("snap-" + x.workload(), T0.minusSeconds(12)));
            case Command.StopWorkload x -> new Event.StopDone(x.id(), at, true, "stopped");
            case Command.FenceSite x -> new Event.FenceDone(x.id(), at, true, "fenced");
            case Command.LiftFence x -> new Event.FenceDone(x.id(), at, true, "fence lifted");
            case Command.TakeFinalSnapshot x -> new Event.FinalSnapshotDone(x.id(), at, true, "taken", new RecoveryPoint("final-" + x.workload(), at));
            case Command.ApplySnapshot x -> new Event.SnapshotApplied(x.id(), at, true, "applied");
            case Command.StartWorkload x -> new Event.WorkloadBooted(x.id(), at, true, "started");
            case Command.RunProbe x -> new Event.ProbeResult(x.id(), at, true, "green");
            case Command.RunPostBootScript x -> new Event.ScriptResult(x.id(), at, 0, "ok");
            case Command.RunScript x -> new Event.ScriptResult(x.id(), at, 0, "ok");
            case Command.UpdateDns x -> new Event.DnsResult(x.id(), at, true, "NOERROR");
            case Command.CallHttp x -> new Event.HttpResult(x.id(), at, x.step().status(), null);
            case Command.AskApproval x -> new Event.ApprovalGiven(x.id(), at, "bob");
            case Command.StartTimer x -> new Event.TimerFired(x.id(), at);
            case Command.CleanUpSandbox x -> new Event.CleanupDone(x.id(), at, true, "removed");
            case Command.Cancel x -> throw new AssertionError("Cancel is never answered");
            case Command.PublishReport x -> throw new AssertionError("PublishReport is never answered");
        };
    }

    static Event failure(Command c, Instant at, String message) {
        return switch (c) {
            case Command.StartReverseReplication x -> new Event.ReprotectDone(x.id(), at, false, message);
            case Command.PrepareWorkload x -> new Event.PreparationDone(x.id(), at, false, message, null);
            case Command.StopWorkload x -> new Event.StopDone(x.id(), at, false, message);
            case Command.FenceSite x -> new Event.FenceDone(x.id(), at, false, message);
            case Command.LiftFence x -> new Event.FenceDone(x.id(), at, false, message);
            case Command.TakeFinalSnapshot x -> new Event.FinalSnapshotDone(x.id(), at, false, message, null);
            case Command.ApplySnapshot x -> new Event.SnapshotApplied(x.id(), at, false, message);
            case Command.StartWorkload x -> new Event.WorkloadBooted(x.id(), at, false, message);
            case Command.RunProbe x -> new Event.ProbeResult(x.id(), at, false, message);
            case Command.RunPostBootScript x -> new Event.ScriptResult(x.id(), at, 1, message);
            case Command.RunScript x -> new Event.ScriptResult(x.id(), at, 1, message);
            case Command.UpdateDns x -> new Event.DnsResult(x.id(), at, false, message);
            case Command.CallHttp x -> new Event.HttpResult(x.id(), at, 500, message);
            case Command.AskApproval x -> new Event.ApprovalDenied(x.id(), at, "bob", message);
            case Command.StartTimer x -> new Event.TimerFired(x.id(), at);
            case Command.CleanUpSandbox x -> new Event.CleanupDone(x.id(), at, false, message);
            case Command.Cancel x -> throw new AssertionError("Cancel is never answered");
            case Command.PublishReport x -> throw new AssertionError("PublishReport is never answered");
        };
    }

    /** The commands of one type issued so far, in order. */
    <C extends Command> List<C> issued(Class<C> type) {
        return issued.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** Ids of the issued commands, leaving out timers, cancels and reports. */
    List<String> work() {
        return issued.stream().filter(c -> !(c instanceof StartTimer || c instanceof Command.Cancel || c instanceof Command.PublishReport))
                .map(Command::id).toList();
    }

    RunReport report() {
        return RunReport.from(state);
    }
}
