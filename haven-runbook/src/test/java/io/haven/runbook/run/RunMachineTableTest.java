package io.haven.runbook.run;

import static io.haven.runbook.run.Phase.ABORTED;
import static io.haven.runbook.run.Phase.APPLYING;
import static io.haven.runbook.run.Phase.CLEANING_UP;
import static io.haven.runbook.run.Phase.COMMITTED;
import static io.haven.runbook.run.Phase.CREATED;
import static io.haven.runbook.run.Phase.FAILED;
import static io.haven.runbook.run.Phase.FAILED_OVER;
import static io.haven.runbook.run.Phase.FENCING;
import static io.haven.runbook.run.Phase.FINAL_SNAPSHOT;
import static io.haven.runbook.run.Phase.PREPARING;
import static io.haven.runbook.run.Phase.REPROTECTING;
import static io.haven.runbook.run.Phase.ROLLED_BACK;
import static io.haven.runbook.run.Phase.ROLLING_BACK;
import static io.haven.runbook.run.Phase.RUNNING_STEPS;
import static io.haven.runbook.run.Phase.STOPPING;
import static io.haven.runbook.run.Phase.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.haven.runbook.Plans;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The transition table, checked exhaustively: every state that a set of whole runs passes through
 * (every kind, successes, failures, aborts, commits, rollbacks) meets every kind of event, and
 * the machine must do what the table below (and docs/runbooks.md) says: accept the event and move
 * to one of the listed phases, ignore a stale answer, or reject the event with a
 * {@link RunRejectedException}. Every accepted (phase, event) pair must be met at least once.
 */
class RunMachineTableTest {
    /** Next phases allowed for each (phase, event) the run accepts; pairs not listed are rejected (answers: ignored when stale). */
    static final Map<Phase, Map<String, Set<Phase>>> TABLE = Map.ofEntries(
            Map.entry(CREATED, Map.of(
                    "Started", EnumSet.of(PREPARING, FENCING, REPROTECTING),
                    "Abort", EnumSet.of(ABORTED))),
            Map.entry(REPROTECTING, Map.of(
                    "ReprotectDone", EnumSet.of(PREPARING, FAILED),
                    "Abort", EnumSet.of(ABORTED))),
            Map.entry(PREPARING, Map.of(
                    "PreparationDone", EnumSet.of(PREPARING, STOPPING, RUNNING_STEPS, FAILED_OVER, CLEANING_UP, FAILED),
                    "Abort", EnumSet.of(ABORTED, CLEANING_UP))),
            Map.entry(STOPPING, Map.of(
                    "StopDone", EnumSet.of(STOPPING, FENCING, FAILED),
                    "Abort", EnumSet.of(ABORTED))),
            Map.entry(FENCING, Map.of(
                    "FenceDone", EnumSet.of(FENCING, PREPARING, FINAL_SNAPSHOT, FAILED),
                    "Abort", EnumSet.of(ABORTED))),
            Map.entry(FINAL_SNAPSHOT, Map.of(
                    "FinalSnapshotDone", EnumSet.of(FINAL_SNAPSHOT, APPLYING, FAILED),
                    "Abort", EnumSet.of(ABORTED))),
            Map.entry(APPLYING, Map.of(
                    "SnapshotApplied", EnumSet.of(APPLYING, RUNNING_STEPS, FAILED_OVER, FAILED),
                    "Abort", EnumSet.of(ABORTED))),
            Map.entry(RUNNING_STEPS, Map.ofEntries(
                    Map.entry("WorkloadBooted", steps()),
                    Map.entry("ProbeResult", steps()),
                    Map.entry("ScriptResult", steps()),
                    Map.entry("DnsResult", steps()),
                    Map.entry("HttpResult", steps()),
                    Map.entry("ApprovalGiven", steps()),
                    Map.entry("ApprovalDenied", EnumSet.of(ABORTED, CLEANING_UP)),
                    Map.entry("TimerFired", steps()),
                    Map.entry("Abort", EnumSet.of(ABORTED, CLEANING_UP)))),
            Map.entry(CLEANING_UP, Map.of(
                    "CleanupDone", EnumSet.of(SUCCEEDED, FAILED, ABORTED))),
            Map.entry(FAILED_OVER, Map.of(
                    "Commit", EnumSet.of(COMMITTED),
                    "Rollback", EnumSet.of(ROLLING_BACK),
                    "TimerFired", EnumSet.of(ROLLING_BACK))),
            Map.entry(ROLLING_BACK, Map.of(
                    "StopDone", rollback(),
                    "DnsResult", rollback(),
                    "FenceDone", rollback(),
                    "WorkloadBooted", rollback(),
                    "ProbeResult", rollback(),
                    "TimerFired", rollback(),
                    "Abort", EnumSet.of(ABORTED))),
            Map.entry(SUCCEEDED, Map.of()),
            Map.entry(COMMITTED, Map.of()),
            Map.entry(ROLLED_BACK, Map.of()),
            Map.entry(FAILED, Map.of("Rollback", EnumSet.of(ROLLING_BACK, ROLLED_BACK))),
            Map.entry(ABORTED, Map.of("Rollback", EnumSet.of(ROLLING_BACK, ROLLED_BACK))));

    static Set<Phase> steps() {
        return EnumSet.of(RUNNING_STEPS, FAILED_OVER, CLEANING_UP, FAILED);
    }

    static Set<Phase> rollback() {
        return EnumSet.of(ROLLING_BACK, ROLLED_BACK, FAILED);
    }

    /** Kind-specific exceptions to the table: drills are never rolled back. */
    static boolean accepts(RunState s, String event) {
        if (event.equals("Rollback") && s.kind().drill()) {
            return false;
        }
        return TABLE.get(s.phase()).containsKey(event);
    }

    static final String APPROVAL = "step:5:approval";

    /** Whole runs whose every state is a sample. */
    static List<RunState> samples() {
        List<RunState> out = new ArrayList<>();
        for (RunKind kind : RunKind.values()) {
            out.add(RunState.create("run-1", Plans.shop(), kind, RunDriver.T0));
            out.addAll(approved(kind).start().autopilot().history);
            RunDriver waiting = new RunDriver(Plans.shop(), kind).start().autopilot();
            out.addAll(waiting.history);
            if (!kind.drill()) {
                RunDriver rolled = approved(kind).start().autopilot();
                rolled.send(new Event.Rollback(rolled.now, "alice"));
                out.addAll(rolled.autopilot().history);
                RunDriver committed = approved(kind).start().autopilot();
                committed.send(new Event.Commit(committed.now, "alice"));
                out.addAll(committed.history);
                RunDriver rollbackFails = approved(kind).start().autopilot();
                rollbackFails.overrides.put("rollback-1:stop:web", c -> RunDriver.failure(c, rollbackFails.now, "agent gone"));
                rollbackFails.send(new Event.Rollback(rollbackFails.now, "alice"));
                out.addAll(rollbackFails.autopilot().history);
            }
            RunDriver failing = approved(kind);
            failing.overrides.put("prepare:app", c -> RunDriver.failure(c, failing.now, "disk full"));
            out.addAll(failing.start().autopilot().history);
            RunDriver aborted = approved(kind).start().autopilot(4);
            aborted.send(new Event.Abort(aborted.now, "carol", "test"));
            out.addAll(aborted.autopilot().history);
        }
        RunDriver abortedEarly = new RunDriver(Plans.shop(), RunKind.TEST);
        abortedEarly.send(new Event.Abort(RunDriver.T0, "carol", null));
        out.addAll(abortedEarly.history);
        return out;
    }

    static RunDriver approved(RunKind kind) {
        RunDriver r = new RunDriver(Plans.shop(), kind);
        r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), r.now, "bob"));
        return r;
    }

    /** The kinds of events: the leaves of the sealed hierarchy. */
    static List<Class<?>> eventKinds() {
        List<Class<?>> out = new ArrayList<>();
        collect(Event.class, out);
        return out;
    }

    private static void collect(Class<?> c, List<Class<?>> out) {
        if (c.isSealed()) {
            Arrays.stream(c.getPermittedSubclasses()).forEach(s -> collect(s, out));
        } else {
            out.add(c);
        }
    }

    /** An event of {@code kind} for {@code s}: answering {@code answering} when given (healthy, or failing), else a stale id. */
    static List<Event> events(Class<?> kind, RunState s, Command answering) {
        Instant at = s.createdAt().plusSeconds(3600 * 24 * 8);
        if (answering != null) {
            Event healthy = RunDriver.healthy(answering, at);
            Event failing = RunDriver.failure(answering, at, "broken");
            return List.of(healthy, failing).stream().filter(kind::isInstance).distinct().toList();
        }
        String stale = "no-such-command";
        Event e = switch (kind.getSimpleName()) {
            case "Started" -> new Event.Started(at, "alice", true, null);
            case "Abort" -> new Event.Abort(at, "alice", "table");
            case "Commit" -> new Event.Commit(at, "alice");
            case "Rollback" -> new Event.Rollback(at, "alice");
            case "Resumed" -> new Event.Resumed(at);
            case "ReprotectDone" -> new Event.ReprotectDone(stale, at, true, null);
            case "PreparationDone" -> new Event.PreparationDone(stale, at, true, null, new RecoveryPoint("s", at));
            case "StopDone" -> new Event.StopDone(stale, at, true, null);
            case "FenceDone" -> new Event.FenceDone(stale, at, true, null);
            case "FinalSnapshotDone" -> new Event.FinalSnapshotDone(stale, at, true, null, new RecoveryPoint("s", at));
            case "SnapshotApplied" -> new Event.SnapshotApplied(stale, at, true, null);
            case "WorkloadBooted" -> new Event.WorkloadBooted(stale, at, true, null);
            case "ProbeResult" -> new Event.ProbeResult(stale, at, true, null);
            case "ScriptResult" -> new Event.ScriptResult(stale, at, 0, null);
            case "DnsResult" -> new Event.DnsResult(stale, at, true, null);
            case "HttpResult" -> new Event.HttpResult(stale, at, 200, null);
            case "ApprovalGiven" -> new Event.ApprovalGiven(stale, at, "bob");
            case "ApprovalDenied" -> new Event.ApprovalDenied(stale, at, "bob", null);
            case "TimerFired" -> new Event.TimerFired(stale, at);
            case "CleanupDone" -> new Event.CleanupDone(stale, at, true, null);
            default -> throw new AssertionError("the test does not know event " + kind);
        };
        return List.of(e);
    }

    /** Re-points an answer at another command id (to check answers of the wrong type are rejected). */
    static Event.Answer renamed(Event.Answer a, String id) {
        return switch (a) {
            case Event.ReprotectDone x -> new Event.ReprotectDone(id, x.at(), x.ok(), x.message());
            case Event.PreparationDone x -> new Event.PreparationDone(id, x.at(), x.ok(), x.message(), x.point());
            case Event.StopDone x -> new Event.StopDone(id, x.at(), x.ok(), x.message());
            case Event.FenceDone x -> new Event.FenceDone(id, x.at(), x.ok(), x.message());
            case Event.FinalSnapshotDone x -> new Event.FinalSnapshotDone(id, x.at(), x.ok(), x.message(), x.point());
            case Event.SnapshotApplied x -> new Event.SnapshotApplied(id, x.at(), x.ok(), x.message());
            case Event.WorkloadBooted x -> new Event.WorkloadBooted(id, x.at(), x.ok(), x.message());
            case Event.ProbeResult x -> new Event.ProbeResult(id, x.at(), x.ok(), x.message());
            case Event.ScriptResult x -> new Event.ScriptResult(id, x.at(), x.exitCode(), x.output());
            case Event.DnsResult x -> new Event.DnsResult(id, x.at(), x.ok(), x.message());
            case Event.HttpResult x -> new Event.HttpResult(id, x.at(), x.status(), x.message());
            case Event.ApprovalGiven x -> new Event.ApprovalGiven(id, x.at(), x.by());
            case Event.ApprovalDenied x -> new Event.ApprovalDenied(id, x.at(), x.by(), x.reason());
            case Event.TimerFired x -> new Event.TimerFired(id, x.at());
            case Event.CleanupDone x -> new Event.CleanupDone(id, x.at(), x.ok(), x.message());
        };
    }

    @Test
    void everyPhaseMeetsEveryKindOfEventAsTheTableSays() {
        List<RunState> samples = samples();
        List<Class<?>> kinds = eventKinds();
        assertThat(kinds).hasSize(20);
        Set<String> covered = new HashSet<>();
        Set<Phase> phasesSeen = EnumSet.noneOf(Phase.class);
        Set<String> kindPhases = new TreeSet<>();
        int checks = 0;
        for (RunState s : samples) {
            phasesSeen.add(s.phase());
            kindPhases.add(s.kind() + "/" + s.phase());
            for (Class<?> kind : kinds) {
                String name = kind.getSimpleName();
                boolean answer = Event.Answer.class.isAssignableFrom(kind);
                List<Command> fitting = answer ? s.outstanding().stream().filter(c -> fitsQuick(kind, c)).toList() : List.of();
                List<Event> toSend = new ArrayList<>(events(kind, s, null));
                for (Command c : fitting) {
                    toSend.addAll(events(kind, s, c));
                }
                for (Event e : toSend) {
                    checks++;
                    boolean stale = e instanceof Event.Answer a && s.outstanding().stream().noneMatch(c -> c.id().equals(a.commandId()));
                    String pair = s.kind() + "/" + s.phase() + " + " + name + (e instanceof Event.Answer a ? "(" + a.commandId() + ")" : "");
                    if (stale || e instanceof Event.Resumed) {
                        Transition t = RunMachine.next(s, e);
                        assertThat(t.state().phase()).as(pair).isEqualTo(s.phase());
                        if (stale || s.ended()) {
                            assertThat(t.state()).as(pair + " changes nothing").isSameAs(s);
                            assertThat(t.commands()).as(pair).isEmpty();
                        } else {
                            assertThat(t.commands()).as(pair + " issues the outstanding commands again").isEqualTo(s.outstanding());
                        }
                        continue;
                    }
                    if (accepts(s, name)) {
                        Transition t;
                        try {
                            t = RunMachine.next(s, e);
                        } catch (RunRejectedException r) {
                            throw new AssertionError(pair + " should be accepted but was rejected: " + r.getMessage(), r);
                        }
                        assertThat(TABLE.get(s.phase()).get(name)).as(pair + " -> " + t.state().phase()).contains(t.state().phase());
                        covered.add(s.phase() + " " + name);
                    } else {
                        try {
                            RunMachine.next(s, e);
                            fail(pair + " should be rejected");
                        } catch (RunRejectedException r) {
                            assertThat(r.phase()).as(pair).isEqualTo(s.phase());
                            assertThat(r.getMessage()).as(pair).isNotBlank();
                        }
                    }
                }
                // an answer of this kind pointed at an outstanding command of another kind is rejected
                if (answer) {
                    for (Command c : s.outstanding()) {
                        if (!fitsQuick(kind, c)) {
                            checks++;
                            Event.Answer wrong = renamed((Event.Answer) events(kind, s, null).get(0), c.id());
                            try {
                                RunMachine.next(s, wrong);
                                fail(s.phase() + " + " + name + " answering " + c.getClass().getSimpleName() + " should be rejected");
                            } catch (RunRejectedException r) {
                                assertThat(r.getMessage()).contains("cannot answer command '" + c.id() + "'");
                            }
                        }
                    }
                }
            }
        }
        assertThat(checks).as("events sent").isGreaterThan(10_000); // about 20,000 over about 480 states when written
        assertThat(phasesSeen).as("every phase is sampled").containsExactlyInAnyOrder(Phase.values());
        Set<String> expected = new LinkedHashSet<>();
        TABLE.forEach((phase, events) -> events.keySet().forEach(e -> expected.add(phase + " " + e)));
        assertThat(covered).as("every accepted pair of the table is exercised (%d checks over %d states)", checks, samples.size())
                .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(kindPhases).as("phases reached per kind").contains(
                "TEST/CLEANING_UP", "TEST/SUCCEEDED", "PLANNED/STOPPING", "PLANNED/FINAL_SNAPSHOT", "PLANNED/APPLYING", "FORCED/FENCING",
                "FAILBACK/REPROTECTING", "FAILBACK/ROLLING_BACK", "FORCED/COMMITTED", "PLANNED/ROLLED_BACK");
    }

    /** Which command types an answer type answers: the machine's own rule, restated. */
    static boolean fitsQuick(Class<?> answer, Command c) {
        return switch (answer.getSimpleName()) {
            case "ReprotectDone" -> c instanceof Command.StartReverseReplication;
            case "PreparationDone" -> c instanceof Command.PrepareWorkload;
            case "StopDone" -> c instanceof Command.StopWorkload;
            case "FenceDone" -> c instanceof Command.FenceSite || c instanceof Command.LiftFence;
            case "FinalSnapshotDone" -> c instanceof Command.TakeFinalSnapshot;
            case "SnapshotApplied" -> c instanceof Command.ApplySnapshot;
            case "WorkloadBooted" -> c instanceof Command.StartWorkload;
            case "ProbeResult" -> c instanceof Command.RunProbe;
            case "ScriptResult" -> c instanceof Command.RunScript || c instanceof Command.RunPostBootScript;
            case "DnsResult" -> c instanceof Command.UpdateDns;
            case "HttpResult" -> c instanceof Command.CallHttp;
            case "ApprovalGiven", "ApprovalDenied" -> c instanceof Command.AskApproval;
            case "TimerFired" -> c instanceof Command.StartTimer;
            case "CleanupDone" -> c instanceof Command.CleanUpSandbox;
            default -> false;
        };
    }

    @Test
    void theAnswerRuleOfTheTestMatchesTheMachine() {
        List<Command> commands = List.of(new Command.StartReverseReplication("c", "a", "b"), new Command.PrepareWorkload("c", "a", "dr", false, null),
                new Command.StopWorkload("c", "a", "hq"), new Command.FenceSite("c", "hq"), new Command.LiftFence("c", "hq"),
                new Command.TakeFinalSnapshot("c", "a", "hq"), new Command.ApplySnapshot("c", "a", "dr", "s"),
                new Command.StartWorkload("c", "a", "dr", false), new Command.StartTimer("c", RunDriver.T0), new Command.CleanUpSandbox("c"),
                new Command.AskApproval("c", "s", "p", RunDriver.T0), new Command.RunProbe("c", "a", "dr", null, RunDriver.T0, false),
                new Command.RunScript("c", "s", new io.haven.runbook.Where.Server(), "true", java.time.Duration.ofSeconds(1), false),
                new Command.RunPostBootScript("c", "a", "dr", 0, null, false), new Command.UpdateDns("c", null, null),
                new Command.CallHttp("c", null));
        for (Class<?> kind : eventKinds()) {
            if (!Event.Answer.class.isAssignableFrom(kind)) {
                continue;
            }
            Event.Answer a = (Event.Answer) events(kind, RunState.create("x", Plans.small(), RunKind.TEST, RunDriver.T0), null).get(0);
            for (Command c : commands) {
                assertThat(RunMachine.answers(a, c)).as(kind.getSimpleName() + " answers " + c.getClass().getSimpleName())
                        .isEqualTo(fitsQuick(kind, c));
            }
        }
    }
}
