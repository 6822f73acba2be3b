package io.haven.runbook.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.runbook.Direction;
import io.haven.runbook.DrPlan;
import io.haven.runbook.PlanEdit;
import io.haven.runbook.Plans;
import io.haven.runbook.Step;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Whole runs of the three-tier example plan (docs/runbooks.md): steps 0 database (db), 1 delay
 * 10s, 2 application (app, with a post-boot script), 3 resume-scheduler (http, skipInDrill),
 * 4 front (web), 5 cut-over (approval, skipInDrill), 6 point-www (dns), 7 notify-team (script,
 * abortOnFailure false).
 */
class RunScenarioTest {
    static final String APPROVAL = "step:5:approval";

    static RunDriver planned() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.PLANNED);
        r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), Instant.EPOCH, "bob"));
        return r;
    }

    /** Every answer at the driver's clock: overrides are made before the clock is known. */
    static RunDriver withClock(RunDriver r) {
        r.overrides.replaceAll((id, f) -> c -> {
            Event e = f.apply(c);
            return switch (e) {
                case Event.ApprovalGiven g -> new Event.ApprovalGiven(g.commandId(), r.now, g.by());
                default -> e;
            };
        });
        return r;
    }

    @Test
    void aDrillBootsSandboxCopiesInOrderLeavesDnsAloneAndCleansUp() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST).start().autopilot();

        assertThat(r.state.phase()).isEqualTo(Phase.SUCCEEDED);
        assertThat(r.state.failure()).isNull();
        assertThat(r.work()).containsExactly("prepare:db", "prepare:app", "prepare:web", "start:db", "probe:db", "start:app", "probe:app",
                "post-boot:app:0", "start:web", "probe:web", "step:7:script", "cleanup");
        assertThat(r.issued(Command.PrepareWorkload.class)).allMatch(Command.PrepareWorkload::sandbox);
        assertThat(r.issued(Command.StartWorkload.class)).allMatch(c -> c.sandbox() && c.site().equals("dr"));
        assertThat(r.issued(Command.UpdateDns.class)).isEmpty();
        assertThat(r.issued(Command.StopWorkload.class)).isEmpty();
        assertThat(r.issued(Command.FenceSite.class)).isEmpty();
        assertThat(r.issued).last().isEqualTo(new Command.PublishReport("report:succeeded:0", Phase.SUCCEEDED));
        assertThat(r.state.steps()).extracting(StepRun::status).containsExactly(StepStatus.SUCCEEDED, StepStatus.SUCCEEDED,
                StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.SKIPPED, StepStatus.SUCCEEDED);
        assertThat(r.report().skipped()).containsExactly(
                "step 4 'resume-scheduler' (http): skipInDrill",
                "step 6 'cut-over' (approval): skipInDrill",
                "step 7 'point-www' (dns): a drill never changes DNS");
        assertThat(r.state.outstanding()).isEmpty();
    }

    @Test
    void allWorkloadsArePreparedInParallelBeforeTheFirstBoot() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST);
        Transition started = r.send(new Event.Started(r.now, "alice", false, null));
        assertThat(started.commands()).extracting(Command::id).containsExactly("prepare:db", "prepare:app", "prepare:web");
        assertThat(r.state.phase()).isEqualTo(Phase.PREPARING);
        r.ok("prepare:web");
        r.ok("prepare:db");
        assertThat(r.issued(Command.StartWorkload.class)).isEmpty();
        Transition last = r.ok("prepare:app");
        assertThat(last.commands()).extracting(Command::id).containsExactly("start:db");
        assertThat(r.state.phase()).isEqualTo(Phase.RUNNING_STEPS);
    }

    @Test
    void aDrillThatFailsStillRemovesItsSandboxAndEndsFailedWithTheReason() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST).start();
        r.ok("prepare:db");
        Transition t = r.fail("prepare:app", "snapshot 3f2a is not readable");
        assertThat(t.commands()).containsExactly(
                new Command.Cancel("cancel:prepare:web", "prepare:web", "the run failed"),
                new Command.CleanUpSandbox("cleanup"));
        assertThat(r.state.phase()).isEqualTo(Phase.CLEANING_UP);
        r.ok("cleanup");
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(r.state.failure()).isEqualTo("preparing workload app at site dr failed: snapshot 3f2a is not readable");
        assertThat(r.state.workload("web").orElseThrow().status()).isEqualTo(WorkloadStatus.CANCELLED);
        assertThat(r.report().failed()).containsExactly("workload app: preparation failed: snapshot 3f2a is not readable");
        // web's preparation was cancelled by app's failure: the early preparations say so, as the workloads list does
        assertThat(r.report().render()).containsPattern("(?m)^  app +failed\\b").containsPattern("(?m)^  web +cancelled\\b")
                .containsPattern("(?m)^  web +cancelled +step 'front'");
    }

    @Test
    void aDrillWhoseCleanUpFailsEndsFailedAndSaysToRemoveTheSandboxByHand() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST);
        r.overrides.put("cleanup", c -> new Event.CleanupDone(c.id(), RunDriver.T0.plusSeconds(60), false, "dr-web-1 is unreachable"));
        r.start().autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(r.state.failure()).isEqualTo("the drill passed, but its sandbox could not be removed: dr-web-1 is unreachable; remove it by hand");
    }

    @Test
    void anAbortedDrillCleansUpAndEndsAborted() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST).start().autopilot(6);
        assertThat(r.state.phase()).isEqualTo(Phase.RUNNING_STEPS);
        List<String> before = r.ids();
        Transition t = r.send(new Event.Abort(r.now, "carol", "wrong plan"));
        assertThat(t.commands()).hasSize(before.size() + 1).last().isEqualTo(new Command.CleanUpSandbox("cleanup"));
        assertThatThrownBy(() -> r.send(new Event.Abort(r.now, "carol", "again")))
                .isInstanceOf(RunRejectedException.class).hasMessageContaining("is removing its sandbox");
        r.ok("cleanup");
        assertThat(r.state.phase()).isEqualTo(Phase.ABORTED);
        assertThat(r.state.failure()).isEqualTo("aborted by carol: wrong plan");
    }

    @Test
    void aPlannedFailoverStopsTheProtectedSiteInReverseBootOrderAndMovesAFinalSnapshotBeforeBooting() {
        RunDriver r = withClock(planned()).start().autopilot();

        assertThat(r.state.phase()).isEqualTo(Phase.FAILED_OVER);
        assertThat(r.work()).containsExactly(
                "prepare:db", "prepare:app", "prepare:web",
                "stop:web", "stop:app", "stop:db",
                "fence:hq", "unfence:dr",
                "final-snapshot:db", "final-snapshot:app", "final-snapshot:web",
                "apply:db", "apply:app", "apply:web",
                "start:db", "probe:db", "start:app", "probe:app", "post-boot:app:0", "step:3:http", "start:web", "probe:web",
                "step:5:approval", "step:6:dns", "step:7:script");
        assertThat(r.issued(Command.StopWorkload.class)).allMatch(s -> s.site().equals("hq"));
        assertThat(r.issued(Command.ApplySnapshot.class)).extracting(Command.ApplySnapshot::snapshot)
                .containsExactly("final-db", "final-app", "final-web");
        assertThat(r.issued(Command.UpdateDns.class)).singleElement()
                .satisfies(u -> assertThat(u.value()).isEqualTo("10.20.0.12"));
        assertThat(r.state.sourceFenced()).isTrue();
        assertThat(r.report().rpo()).isEqualTo(Duration.ZERO);
        assertThat(r.report().workloads()).allSatisfy(w -> assertThat(w.pointAge()).isNull());
        assertThat(r.report().render()).contains("RPO:       0s (final snapshots after a graceful stop)",
                "point final-db of 2025-06-01T10:00:09Z (final snapshot)");
        assertThat(r.issued).last().isEqualTo(new Command.StartTimer(RunMachine.AUTO_ROLLBACK, r.now.plus(Duration.ofHours(4))));
    }

    @Test
    void aStopWaitsForTheLaterBootStepToBeDownFirst() {
        RunDriver r = planned().start();
        r.ok("prepare:db");
        r.ok("prepare:app");
        r.ok("prepare:web");
        assertThat(r.ids()).containsExactly("stop:web");
        r.ok("stop:web");
        assertThat(r.ids()).containsExactly("stop:app");
        r.fail("stop:app", "timed out waiting for the process to exit");
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(r.state.failure()).isEqualTo("could not stop app at site hq: timed out waiting for the process to exit; nothing was "
                + "started at site dr");
        assertThat(r.issued(Command.TakeFinalSnapshot.class)).isEmpty();
        assertThat(r.issued(Command.StartWorkload.class)).isEmpty();
    }

    @Test
    void aForcedFailoverIsRefusedWithoutExplicitConfirmationAndLeavesTheRunUnstarted() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.FORCED);
        RunState before = r.state;
        assertThatThrownBy(() -> r.send(new Event.Started(r.now, "alice", false, null)))
                .isInstanceOfSatisfying(RunRejectedException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
                    assertThat(e.phase()).isEqualTo(Phase.CREATED);
                })
                .hasMessageContaining("a forced failover of plan shop brings it up at site dr")
                .hasMessageContaining("Confirm it explicitly");
        assertThat(r.state).isSameAs(before);
    }

    @Test
    void aConfirmedForcedFailoverFencesTheProtectedSiteFirstAndRecoversTheChosenPoint() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.FORCED);
        r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), r.now, "bob"));
        Instant point = RunDriver.T0.minus(Duration.ofMinutes(5));
        Transition t = r.send(new Event.Started(r.now, "alice", true, point));
        assertThat(t.commands()).containsExactly(new Command.FenceSite("fence:hq", "hq"), new Command.LiftFence("unfence:dr", "dr"));
        r.ok("fence:hq");
        r.ok("unfence:dr");
        assertThat(r.issued(Command.PrepareWorkload.class)).allMatch(p -> point.equals(p.pointAt()) && !p.sandbox());
        withClock(r).autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED_OVER);
        assertThat(r.issued(Command.StopWorkload.class)).isEmpty();
        assertThat(r.issued(Command.TakeFinalSnapshot.class)).isEmpty();
        assertThat(r.issued).noneMatch(c -> c.id().equals(RunMachine.AUTO_ROLLBACK));
        RunReport report = r.report();
        assertThat(report.rpo()).isEqualTo(Duration.ofSeconds(12));
        assertThat(report.rto()).isEqualTo(Duration.between(RunDriver.T0, r.state.workload("web").orElseThrow().greenAt()));
    }

    @Test
    void aPointReportedAfterTheRunBeganCountsAsNoOlderThanTheStartNotNegative() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.FORCED);
        r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), r.now, "bob"));
        // a database standby that had replayed everything reports the time it was prepared
        r.overrides.put("prepare:db", c -> new Event.PreparationDone(c.id(), r.now, true, "streaming",
                new RecoveryPoint("postgres-standby", RunDriver.T0.plusMillis(400))));
        r.send(new Event.Started(r.now, "alice", true, null));
        withClock(r).autopilot();
        RunReport report = r.report();
        assertThat(report.workloads()).filteredOn(w -> w.name().equals("db")).singleElement()
                .satisfies(w -> assertThat(w.pointAge()).isEqualTo(Duration.ZERO));
        assertThat(report.rpo()).isEqualTo(Duration.ofSeconds(12)); // the other workloads' points
        assertThat(report.render()).doesNotContain("(-");
    }

    @Test
    void aGracefulRunRefusesARecoveryPoint() {
        RunDriver r = planned();
        assertThatThrownBy(() -> r.send(new Event.Started(r.now, "alice", false, RunDriver.T0)))
                .isInstanceOf(RunRejectedException.class).hasMessageContaining("does not take a recovery point");
    }

    @Test
    void aFailingScriptWithAbortOnFailureEndsTheRunAndOneWithoutIsReportedAndTheRunGoesOn() {
        DrPlan plan = new PlanEdit.ReplaceStep("notify-team", new Step.Script("notify-team", new io.haven.runbook.Where.Server(), "false",
                Duration.ofSeconds(30), true, false)).applyTo(Plans.shop());
        RunDriver strict = new RunDriver(plan, RunKind.TEST);
        strict.overrides.put("step:7:script", c -> new Event.ScriptResult(c.id(), RunDriver.T0.plusSeconds(30), 3, "line 1\nno route to host\n"));
        strict.start().autopilot();
        assertThat(strict.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(strict.state.failure()).isEqualTo("step 'notify-team' failed: exit 3: line 1 | no route to host");
        assertThat(strict.issued).contains(new Command.Cancel("cancel:step:7:deadline", "step:7:deadline", "the script ended"));

        RunDriver lenient = new RunDriver(Plans.shop(), RunKind.TEST);
        lenient.overrides.put("step:7:script", c -> new Event.ScriptResult(c.id(), RunDriver.T0.plusSeconds(30), 3, "no route to host"));
        lenient.start().autopilot();
        assertThat(lenient.state.phase()).isEqualTo(Phase.SUCCEEDED);
        assertThat(lenient.state.steps().get(7).status()).isEqualTo(StepStatus.FAILED_IGNORED);
        assertThat(lenient.report().failed()).containsExactly("step 8 'notify-team' (script): exit 3: no route to host (the run went on)");
    }

    @Test
    void aFailedDnsUpdateIsReportedInTheUpdatersOwnWordsFromTheirBeginning() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.PLANNED);
        String message = "DNS update of shop.example.com. A at 10.0.0.53:53: the server rejected the TSIG signature (BADSIG): "
                + "x".repeat(700) + " (4 attempts over 17 s)";
        r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), r.now, "bob"));
        r.overrides.put("step:6:dns", c -> new Event.DnsResult(c.id(), r.now, false, message));
        r.start().autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        String failure = r.state.steps().get(6).message();
        assertThat(failure).startsWith("DNS update of shop.example.com. A at 10.0.0.53:53: the server rejected").endsWith("…")
                .doesNotContain("failed: DNS update of");
        RunDriver other = new RunDriver(Plans.shop(), RunKind.PLANNED);
        other.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), other.now, "bob"));
        other.overrides.put("step:6:dns", c -> new Event.DnsResult(c.id(), other.now, false, "the TSIG secret's variable K is not set"));
        other.start().autopilot();
        assertThat(other.state.steps().get(6).message()).startsWith("DNS update of ").endsWith("failed: the TSIG secret's variable K is not set");
    }

    @Test
    void aScriptStillRunningAtItsTimeoutIsCancelledAndCountsAsFailed() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST);
        r.hang.add("step:7:script");
        r.start().autopilot();
        assertThat(r.issued).contains(new Command.Cancel("cancel:step:7:script", "step:7:script", "timed out"));
        assertThat(r.state.steps().get(7).message()).isEqualTo("still running after 30s");
        assertThat(r.state.steps().get(7).status()).isEqualTo(StepStatus.FAILED_IGNORED);
        assertThat(r.state.phase()).isEqualTo(Phase.SUCCEEDED);
    }

    @Test
    void aProbeThatNeverTurnsGreenFailsTheRunAtItsDeadlineWithTheLastError() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST).start();
        r.ok("prepare:db");
        r.ok("prepare:app");
        r.ok("prepare:web");
        r.tick(Duration.ofSeconds(2)).ok("start:db");
        Command.RunProbe probe = (Command.RunProbe) r.outstanding("probe:db");
        assertThat(probe.deadline()).isEqualTo(r.now.plus(Duration.ofMinutes(2)));
        r.tick(Duration.ofSeconds(5)).fail("probe:db", "connection refused");
        assertThat(r.ids()).containsExactly("probe:db", "probe-deadline:db");
        assertThat(r.state.workload("db").orElseThrow().lastProbeMessage()).isEqualTo("connection refused");
        Transition t = r.fire("probe-deadline:db");
        assertThat(t.commands()).containsExactly(
                new Command.Cancel("cancel:probe:db", "probe:db", "not green by its deadline"),
                new Command.CleanUpSandbox("cleanup"));
        r.ok("cleanup");
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(r.state.failure()).isEqualTo("boot step 'database': workload db probe not green within 2m (last: connection refused)");
        assertThat(r.report().skipped()).contains("step 3 'application' (boot): not reached", "workload app: not started at site dr");
        assertThat(r.report().rto()).isNull();
    }

    @Test
    void aFailingPostBootScriptWithAbortOnFailureFailsItsWorkload() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST);
        r.overrides.put("post-boot:app:0", c -> new Event.ScriptResult(c.id(), RunDriver.T0.plusSeconds(40), 2, "schema v41, want v42"));
        r.start().autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(r.state.failure()).isEqualTo("boot step 'application': workload app post-boot script 1 failed: exit 2: schema v41, want v42");
        assertThat(r.state.workload("app").orElseThrow().status()).isEqualTo(WorkloadStatus.FAILED);
    }

    @Test
    void aDeniedApprovalAbortsTheRun() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.PLANNED);
        r.overrides.put(APPROVAL, c -> new Event.ApprovalDenied(c.id(), r.now, "dave", "the shop at dr shows old prices"));
        r.start().autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.ABORTED);
        assertThat(r.state.failure()).isEqualTo("approval 'cut-over' denied by dave: the shop at dr shows old prices");
        assertThat(r.state.steps().get(5).status()).isEqualTo(StepStatus.FAILED);
        assertThat(r.state.steps().get(6).status()).isEqualTo(StepStatus.PENDING);
        assertThat(r.issued(Command.UpdateDns.class)).isEmpty();
        assertThat(r.issued).last().isEqualTo(new Command.PublishReport("report:aborted:0", Phase.ABORTED));
    }

    @Test
    void anUnansweredApprovalFailsTheRunAtItsTimeout() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.PLANNED).start().autopilot();
        assertThat(r.ids()).containsExactly(APPROVAL, "step:5:deadline");
        Command.AskApproval ask = (Command.AskApproval) r.outstanding(APPROVAL);
        assertThat(ask.deadline()).isEqualTo(r.now.plus(Duration.ofHours(1)));
        r.fire("step:5:deadline");
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(r.state.failure()).isEqualTo("step 'cut-over' failed: no answer within 1h");
        assertThat(r.issued).contains(new Command.Cancel("cancel:" + APPROVAL, APPROVAL, "timed out"));
    }

    @Test
    void anHttpCallAnsweringTheWrongStatusFailsItsStep() {
        RunDriver r = planned();
        r.overrides.put("step:3:http", c -> new Event.HttpResult(c.id(), RunDriver.T0, 503, "scheduler is starting"));
        withClock(r).start().autopilot();
        assertThat(r.state.failure()).isEqualTo("step 'resume-scheduler' failed: POST http://10.20.0.11:8080/admin/scheduler/resume: "
                + "status 503, expected 204: scheduler is starting");
    }

    @Test
    void commitEndsAFailedOverRunAndCancelsTheAutomaticRollback() {
        RunDriver r = withClock(planned()).start().autopilot();
        Transition t = r.send(new Event.Commit(r.now, "alice"));
        assertThat(t.commands()).containsExactly(
                new Command.Cancel("cancel:auto-rollback", "auto-rollback", "committed"),
                new Command.PublishReport("report:committed:0", Phase.COMMITTED));
        assertThat(r.state.phase()).isEqualTo(Phase.COMMITTED);
        assertThat(r.state.sourceFenced()).isTrue();
        assertThatThrownBy(() -> r.send(new Event.Rollback(r.now, "alice")))
                .isInstanceOf(RunRejectedException.class).hasMessageContaining("is committed; bring plan shop back with a failback");
    }

    @Test
    void commitBeforeTheFailoverFinishedIsRefused() {
        RunDriver r = planned().start();
        assertThatThrownBy(() -> r.send(new Event.Commit(r.now, "alice")))
                .isInstanceOfSatisfying(RunRejectedException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessage("run run-1 can be committed only once it has failed over; it is preparing");
    }

    @Test
    void rollbackUndoesAPlannedFailoverNewestFirst() {
        RunDriver r = withClock(planned()).start().autopilot();
        int mark = r.issued.size();
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(r.issued.subList(mark, r.issued.size())).extracting(Command::id).containsExactly(
                "cancel:auto-rollback",
                "rollback-1:stop:web", "rollback-1:stop:app", "rollback-1:stop:db",
                "rollback-1:dns:6",
                "rollback-1:unfence:hq", "rollback-1:fence:dr",
                "rollback-1:start:db", "rollback-1:probe:db", "rollback-1:probe-deadline:db", "cancel:rollback-1:probe-deadline:db",
                "rollback-1:start:app", "rollback-1:probe:app", "rollback-1:probe-deadline:app", "cancel:rollback-1:probe-deadline:app",
                "rollback-1:start:web", "rollback-1:probe:web", "rollback-1:probe-deadline:web", "cancel:rollback-1:probe-deadline:web",
                "report:rolled_back:1");
        assertThat(r.issued(Command.UpdateDns.class)).last().satisfies(u -> {
            assertThat(u.direction()).isEqualTo(Direction.TO_PROTECTED);
            assertThat(u.value()).isEqualTo("10.10.0.12");
        });
        assertThat(r.issued(Command.StartWorkload.class)).last().satisfies(s -> assertThat(s.site()).isEqualTo("hq"));
        assertThat(r.state.sourceFenced()).isFalse();
        assertThat(r.state.workloads()).allMatch(w -> !w.targetStarted() && !w.sourceStopped() && w.status() == WorkloadStatus.STOPPED);
        // the report shows what the rollback did with the DNS step, under what the failover did
        assertThat(r.report().render()).containsPattern("(?m)^\\s+rolled back\\s+\\S+ A 10\\.10\\.0\\.12$");
    }

    @Test
    void aRollbackStartsTheNextBootStepOnlyOnceTheRestartedOneIsUpAndFailsWhenItNeverIs() {
        RunDriver r = withClock(planned()).start().autopilot();
        r.hang.add("rollback-1:probe:app");
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        // db up before app starts; web never started while app is not up
        assertThat(r.work()).endsWith("rollback-1:start:db", "rollback-1:probe:db", "rollback-1:start:app", "rollback-1:probe:app");
        assertThat(r.issued(Command.RunProbe.class)).last().satisfies(p -> {
            assertThat(p.site()).isEqualTo("hq");
            assertThat(p.sandbox()).isFalse();
        });
        assertThat(r.state.failure()).isEqualTo("rollback failed: app started at site hq again, but its probe was not green within 1m; "
                + "fix that and roll back again");
        assertThat(r.state.workloads()).filteredOn(w -> w.name().equals("app")).singleElement().satisfies(w -> {
            assertThat(w.sourceStopped()).isTrue();
            assertThat(w.rollbackStart().ok()).isFalse();
        });

        // the retry starts app again (a no-op for a running one) and probes it, then goes on with web
        r.hang.clear();
        int mark = r.issued.size();
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(r.issued.subList(mark, r.issued.size())).extracting(Command::id).containsExactly(
                "rollback-2:start:app", "rollback-2:probe:app", "rollback-2:probe-deadline:app", "cancel:rollback-2:probe-deadline:app",
                "rollback-2:start:web", "rollback-2:probe:web", "rollback-2:probe-deadline:web", "cancel:rollback-2:probe-deadline:web",
                "report:rolled_back:2");
        assertThat(r.state.log()).anySatisfy(l -> assertThat(l.message()).startsWith("rollback: web is up at site hq again (started and green in"));
    }

    @Test
    void aPlannedFailoverLeftAloneRollsBackAutomaticallyAfterTheSetTime() {
        RunDriver r = withClock(planned()).start().autopilot();
        Instant failedOver = r.state.failedOverAt();
        // the report says when, so that an operator who wants to keep the failover knows how long is left to commit
        assertThat(r.report().autoRollbackAt()).isEqualTo(failedOver.plus(Duration.ofHours(4)));
        assertThat(r.report().render()).contains("Next:      commit or roll back; rolled back automatically at "
                + failedOver.plus(Duration.ofHours(4)) + " unless committed before\n");
        r.fire(RunMachine.AUTO_ROLLBACK);
        assertThat(r.now).isEqualTo(failedOver.plus(Duration.ofHours(4)));
        assertThat(r.state.phase()).isEqualTo(Phase.ROLLING_BACK);
        assertThat(r.state.log()).last().extracting(LogEntry::message).asString().contains("rollback: stopping at site dr: web");
        assertThat(r.state.log()).anySatisfy(l -> assertThat(l.message()).isEqualTo("rollback started automatically, 4h after the failover"));
    }

    @Test
    void aFailedFailoverCanBeRolledBackAndOnlyWhatItDidIsUndone() {
        RunDriver r = planned();
        r.hang.add("probe:app");
        r.start().autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(r.state.failure()).isEqualTo("boot step 'application': workload app probe not green within 1m");
        int mark = r.issued.size();
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.issued.subList(mark, r.issued.size())).extracting(Command::id).containsExactly(
                "rollback-1:stop:app", "rollback-1:stop:db", "rollback-1:unfence:hq", "rollback-1:fence:dr",
                "rollback-1:start:db", "rollback-1:probe:db", "rollback-1:probe-deadline:db", "cancel:rollback-1:probe-deadline:db",
                "rollback-1:start:app", "rollback-1:probe:app", "rollback-1:probe-deadline:app", "cancel:rollback-1:probe-deadline:app",
                "rollback-1:start:web", "rollback-1:probe:web", "rollback-1:probe-deadline:web", "cancel:rollback-1:probe-deadline:web", "report:rolled_back:1");
        assertThat(r.state.phase()).isEqualTo(Phase.ROLLED_BACK);
    }

    @Test
    void aFailedRollbackEndsFailedAndARetryDoesOnlyWhatIsLeft() {
        RunDriver r = withClock(planned()).start().autopilot();
        r.overrides.put("rollback-1:dns:6", c -> new Event.DnsResult(c.id(), r.now, false, "REFUSED (tsig verify failure)"));
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED);
        assertThat(r.state.failure()).isEqualTo("rollback failed: could not put www.shop.example. back to 10.10.0.12: REFUSED (tsig verify "
                + "failure); fix that and roll back again");
        int mark = r.issued.size();
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.issued.subList(mark, r.issued.size())).extracting(Command::id).containsExactly(
                "rollback-2:dns:6", "rollback-2:unfence:hq", "rollback-2:fence:dr", "rollback-2:start:db", "rollback-2:probe:db", "rollback-2:probe-deadline:db", "cancel:rollback-2:probe-deadline:db",
                "rollback-2:start:app", "rollback-2:probe:app", "rollback-2:probe-deadline:app", "cancel:rollback-2:probe-deadline:app",
                "rollback-2:start:web", "rollback-2:probe:web", "rollback-2:probe-deadline:web", "cancel:rollback-2:probe-deadline:web",
                "report:rolled_back:2");
        assertThat(r.state.phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(r.state.failure()).isNull();
    }

    @Test
    void aForcedFailoverRolledBackLiftsTheFenceButStartsNothingAtTheLostSite() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.FORCED);
        r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), r.now, "bob"));
        r.start().autopilot();
        assertThat(r.report().autoRollbackAt()).isNull();
        assertThat(r.report().render()).contains("Next:      commit or roll back; a forced failover is never rolled back automatically\n");
        int mark = r.issued.size();
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.issued.subList(mark, r.issued.size())).extracting(Command::id).containsExactly(
                "rollback-1:stop:web", "rollback-1:stop:app", "rollback-1:stop:db", "rollback-1:dns:6", "rollback-1:unfence:hq",
                "rollback-1:fence:dr", "report:rolled_back:1");
    }

    @Test
    void failbackReprotectsThenMovesHomeGracefullyAndPointsDnsBack() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.FAILBACK);
        r.overrides.put(APPROVAL, c -> new Event.ApprovalGiven(c.id(), r.now, "bob"));
        Transition t = r.send(new Event.Started(r.now, "alice", false, null));
        assertThat(t.commands()).containsExactly(new Command.StartReverseReplication("reprotect", "dr", "hq"));
        r.autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.FAILED_OVER);
        assertThat(r.work()).startsWith("reprotect", "prepare:db", "prepare:app", "prepare:web", "stop:web", "stop:app", "stop:db",
                "fence:dr", "unfence:hq", "final-snapshot:db");
        assertThat(r.issued(Command.StopWorkload.class)).allMatch(s -> s.site().equals("dr"));
        assertThat(r.issued(Command.StartWorkload.class)).allMatch(s -> s.site().equals("hq"));
        assertThat(r.issued(Command.UpdateDns.class)).singleElement().satisfies(u -> assertThat(u.value()).isEqualTo("10.10.0.12"));
        assertThat(r.state.targetFenceLifted()).isTrue();

        int mark = r.issued.size();
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.issued.subList(mark, r.issued.size())).extracting(Command::id).containsExactly(
                "cancel:auto-rollback", "rollback-1:stop:web", "rollback-1:stop:app", "rollback-1:stop:db", "rollback-1:dns:6",
                "rollback-1:unfence:dr", "rollback-1:fence:hq",
                "rollback-1:start:db", "rollback-1:probe:db", "rollback-1:probe-deadline:db", "cancel:rollback-1:probe-deadline:db",
                "rollback-1:start:app", "rollback-1:probe:app", "rollback-1:probe-deadline:app", "cancel:rollback-1:probe-deadline:app",
                "rollback-1:start:web", "rollback-1:probe:web", "rollback-1:probe-deadline:web", "cancel:rollback-1:probe-deadline:web", "report:rolled_back:1");
        assertThat(r.issued(Command.UpdateDns.class)).last().satisfies(u -> assertThat(u.value()).isEqualTo("10.20.0.12"));
    }

    @Test
    void anAbortedFailoverStopsWhereItIsAndCanThenBeRolledBack() {
        RunDriver r = planned().start().autopilot(6);
        assertThat(r.state.phase()).isEqualTo(Phase.FENCING);
        Transition t = r.send(new Event.Abort(r.now, "alice", null));
        assertThat(t.commands()).containsExactly(new Command.Cancel("cancel:fence:hq", "fence:hq", "the run was aborted"),
                new Command.Cancel("cancel:unfence:dr", "unfence:dr", "the run was aborted"), new Command.PublishReport("report:aborted:0", Phase.ABORTED));
        assertThat(r.state.failure()).isEqualTo("aborted by alice");
        r.send(new Event.Rollback(r.now, "alice"));
        r.autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(r.work()).endsWith("rollback-1:start:db", "rollback-1:probe:db", "rollback-1:start:app", "rollback-1:probe:app",
                "rollback-1:start:web", "rollback-1:probe:web");
    }

    @Test
    void staleAnswersChangeNothingAndAnswersOfTheWrongTypeAreRejected() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST).start();
        RunState before = r.state;
        Transition stale = r.send(new Event.WorkloadBooted("start:db", r.now, true, "late"));
        assertThat(stale.state()).isSameAs(before);
        assertThat(stale.commands()).isEmpty();
        assertThatThrownBy(() -> r.send(new Event.ScriptResult("prepare:db", r.now, 0, "")))
                .isInstanceOfSatisfying(RunRejectedException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE))
                .hasMessage("ScriptResult cannot answer command 'prepare:db', which is a PrepareWorkload");
        assertThatThrownBy(() -> r.send(new Event.PreparationDone("prepare:db", r.now, true, "ok", null)))
                .isInstanceOf(RunRejectedException.class).hasMessageContaining("succeeded but names no recovery point");
    }

    @Test
    void aBootStepWithoutWorkloadsPassesAtOnce() {
        DrPlan plan = new PlanEdit.AddStep(1, new Step.BootStep("spare", List.of())).applyTo(Plans.small());
        RunDriver r = new RunDriver(plan, RunKind.TEST).start().autopilot();
        assertThat(r.state.phase()).isEqualTo(Phase.SUCCEEDED);
        assertThat(r.state.steps().get(1).message()).isEqualTo("no workloads");
    }

    @Test
    void theReportShowsTimingsResultsRtoAndRpo() {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST).start().autopilot();
        RunReport report = r.report();
        assertThat(report.phase()).isEqualTo(Phase.SUCCEEDED);
        assertThat(report.rpo()).isEqualTo(Duration.ofSeconds(12));
        assertThat(report.rto()).isPositive();
        assertThat(report.workloads()).extracting(RunReport.WorkloadLine::name, RunReport.WorkloadLine::bootStep)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("db", "database"), org.assertj.core.groups.Tuple.tuple("app", "application"),
                        org.assertj.core.groups.Tuple.tuple("web", "front"));
        assertThat(report.workloads().get(0).preparation().ok()).isTrue();
        assertThat(report.steps().get(1).took()).isEqualTo(Duration.ofSeconds(10));
        String text = report.render();
        assertThat(text).contains("Test failover (drill) of plan shop v1, site hq -> site dr (run run-1)", "Outcome:   succeeded",
                "RPO:       12s (age of the oldest recovery point at the start)", "Early preparations (in parallel)",
                "db               ready      step 'database'      up after 5s; point snap-db of 2025-06-01T09:59:48Z (12s old)", "skipInDrill");
    }
}
