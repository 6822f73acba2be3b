package io.haven.runbook.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.runbook.Plans;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A killed server resumes a run from its stored state: for every moment of a run, the state
 * written as JSON and read back, then {@link Event.Resumed}, then the rest of the same events,
 * ends exactly where the uninterrupted run ended (its log has one "resumed" line more).
 */
class RunResumeTest {
    static final String APPROVAL = "step:5:approval";

    /** A finished run: its states and the events between them. */
    record Recorded(List<RunState> states, List<Event> events) {}

    static Recorded record(Supplier<RunDriver> scenario) {
        RunDriver r = scenario.get();
        return new Recorded(List.copyOf(r.history), List.copyOf(r.events));
    }

    static RunState withoutLog(RunState s) {
        return new RunState(s.runId(), s.kind(), s.plan(), s.sourceSite(), s.targetSite(), s.direction(), s.phase(), s.createdAt(),
                s.startedBy(), s.startedAt(), s.pointAt(), s.failedOverAt(), s.endedAt(), s.stepIndex(), s.steps(), s.workloads(),
                s.outstanding(), s.sourceFenced(), s.targetFenceLifted(), s.endAfterCleanup(), s.failure(), s.rollbackAttempt(), List.of());
    }

    static void assertResumableEverywhere(Recorded run) {
        RunState end = run.states().get(run.states().size() - 1);
        for (int k = 0; k < run.states().size(); k++) {
            RunState stored = run.states().get(k);
            String json = RunCodec.writeState(stored);
            RunState read = RunCodec.readState(json);
            assertThat(read).as("state %d read back from JSON", k).isEqualTo(stored);

            Instant at = k == 0 ? stored.createdAt() : run.events().get(k - 1).at();
            Transition resumed = RunMachine.next(read, new Event.Resumed(at));
            assertThat(resumed.commands()).as("commands issued again at state %d", k)
                    .containsExactlyElementsOf(stored.ended() ? List.of() : stored.outstanding());
            RunState s = resumed.state();
            for (Event e : run.events().subList(k, run.events().size())) {
                s = RunMachine.next(s, e).state();
            }
            assertThat(withoutLog(s)).as("end after resuming at state %d (%s)", k, stored.phase()).isEqualTo(withoutLog(end));
            int extra = stored.ended() ? 0 : 1;
            assertThat(s.log()).as("log after resuming at state %d", k).hasSize(end.log().size() + extra);
        }
    }

    @Test
    void aDrillResumesFromEveryStoredState() {
        assertResumableEverywhere(record(() -> new RunDriver(Plans.shop(), RunKind.TEST).start().autopilot()));
    }

    @Test
    void aPlannedFailoverAndItsRollbackResumeFromEveryStoredState() {
        assertResumableEverywhere(record(() -> {
            RunDriver r = new RunDriver(Plans.shop(), RunKind.PLANNED);
            r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), r.now, "bob"));
            r.start().autopilot();
            r.send(new Event.Rollback(r.now, "alice"));
            return r.autopilot();
        }));
    }

    @Test
    void aForcedFailoverWithAFailingProbeResumesFromEveryStoredState() {
        assertResumableEverywhere(record(() -> {
            RunDriver r = new RunDriver(Plans.shop(), RunKind.FORCED);
            r.hang.add("probe:web");
            r.start().autopilot();
            r.send(new Event.Rollback(r.now, "alice"));
            return r.autopilot();
        }));
    }

    @Test
    void aFailbackAndItsCommitResumeFromEveryStoredState() {
        assertResumableEverywhere(record(() -> {
            RunDriver r = new RunDriver(Plans.shop(), RunKind.FAILBACK);
            r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), r.now, "bob"));
            r.start().autopilot();
            r.send(new Event.Commit(r.now, "alice"));
            return r;
        }));
    }

    @Test
    void aProbeStillNotGreenKeepsItsLastMessageAcrossARestart() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST).start();
        r.ok("prepare:db");
        r.ok("prepare:app");
        r.ok("prepare:web");
        r.ok("start:db");
        r.fail("probe:db", "connection refused");
        RunState read = RunCodec.readState(RunCodec.writeState(r.state));
        assertThat(read.workload("db").orElseThrow().lastProbeMessage()).isEqualTo("connection refused");
        RunDriver after = new RunDriver(read, r.now);
        Transition t = after.send(new Event.Resumed(r.now));
        assertThat(t.commands()).extracting(Command::id).containsExactly("probe:db", "probe-deadline:db");
        after.fire("probe-deadline:db");
        assertThat(after.state.failure()).endsWith("(last: connection refused)");
    }

    @Test
    void storedStatesAreReadableJsonWithTypedCommands() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST).start();
        String json = RunCodec.writeState(r.state);
        assertThat(json).contains("\"phase\":\"PREPARING\"", "\"op\":\"prepare-workload\"", "\"kind\":\"boot\"", "\"type\":\"tcp\"",
                "\"rpo\":\"PT15S\"", "\"createdAt\":\"2025-06-01T10:00:00Z\"");
        Event e = new Event.PreparationDone("prepare:db", r.now, true, "ok", new RecoveryPoint("s1", r.now));
        assertThat(RunCodec.read(RunCodec.write(e), Event.class)).isEqualTo(e);
        RunReport report = RunReport.from(r.state);
        assertThat(RunCodec.read(RunCodec.write(report), RunReport.class)).isEqualTo(report);
    }
}
