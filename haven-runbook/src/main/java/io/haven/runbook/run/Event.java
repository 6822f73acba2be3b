package io.haven.runbook.run;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;

/**
 * Something that happened to a run: an operator's request, or the outcome of a command the run
 * asked for. Every event carries the time it happened ({@code at}); the state machine takes time
 * only from events, never from a clock.
 *
 * <p>An {@link Answer} names the command it answers. An answer to a command the run is not
 * waiting for (it finished, was cancelled, or the run moved on) is stale and ignored: the state
 * does not change. An answer whose type does not fit its command is rejected.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "event")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Event.Started.class, name = "started"),
    @JsonSubTypes.Type(value = Event.Abort.class, name = "abort"),
    @JsonSubTypes.Type(value = Event.Commit.class, name = "commit"),
    @JsonSubTypes.Type(value = Event.Rollback.class, name = "rollback"),
    @JsonSubTypes.Type(value = Event.Resumed.class, name = "resumed"),
    @JsonSubTypes.Type(value = Event.ReprotectDone.class, name = "reprotect-done"),
    @JsonSubTypes.Type(value = Event.PreparationDone.class, name = "preparation-done"),
    @JsonSubTypes.Type(value = Event.StopDone.class, name = "stop-done"),
    @JsonSubTypes.Type(value = Event.FenceDone.class, name = "fence-done"),
    @JsonSubTypes.Type(value = Event.FinalSnapshotDone.class, name = "final-snapshot-done"),
    @JsonSubTypes.Type(value = Event.SnapshotApplied.class, name = "snapshot-applied"),
    @JsonSubTypes.Type(value = Event.WorkloadBooted.class, name = "workload-booted"),
    @JsonSubTypes.Type(value = Event.ProbeResult.class, name = "probe-result"),
    @JsonSubTypes.Type(value = Event.ScriptResult.class, name = "script-result"),
    @JsonSubTypes.Type(value = Event.DnsResult.class, name = "dns-result"),
    @JsonSubTypes.Type(value = Event.HttpResult.class, name = "http-result"),
    @JsonSubTypes.Type(value = Event.ApprovalGiven.class, name = "approval-given"),
    @JsonSubTypes.Type(value = Event.ApprovalDenied.class, name = "approval-denied"),
    @JsonSubTypes.Type(value = Event.TimerFired.class, name = "timer-fired"),
    @JsonSubTypes.Type(value = Event.CleanupDone.class, name = "cleanup-done")})
public sealed interface Event {
    Instant at();

    // --- operators and the executor

    /**
     * Starts a created run.
     *
     * @param confirmed a forced failover is refused without it
     * @param pointAt for drills and forced failovers: recover each workload's newest point at or
     *     before this time; null for the newest recoverable point. Graceful kinds refuse it (they
     *     use a final snapshot).
     */
    record Started(Instant at, String by, boolean confirmed, Instant pointAt) implements Event {}

    /** Stops the run where it is (a drill still cleans up). A failover left half-way can then be rolled back. */
    record Abort(Instant at, String by, String reason) implements Event {}

    /** Makes a failed-over run final: the service stays at the target site. */
    record Commit(Instant at, String by) implements Event {}

    /** Undoes a failed-over, failed or aborted failover (or failback), newest change first. */
    record Rollback(Instant at, String by) implements Event {}

    /** The executor took the run up again after a restart: every outstanding command is issued again. */
    record Resumed(Instant at) implements Event {}

    // --- answers to commands

    /** An event that answers the command with id {@code commandId}. */
    sealed interface Answer extends Event {
        String commandId();
    }

    /** Answers {@link Command.StartReverseReplication}: the protected site's copies are in sync with the recovery site. */
    record ReprotectDone(String commandId, Instant at, boolean ok, String message) implements Answer {}

    /** Answers {@link Command.PrepareWorkload}, with the point the copy now holds. */
    record PreparationDone(String commandId, Instant at, boolean ok, String message, RecoveryPoint point) implements Answer {}

    /** Answers {@link Command.StopWorkload}. */
    record StopDone(String commandId, Instant at, boolean ok, String message) implements Answer {}

    /** Answers {@link Command.FenceSite} and {@link Command.LiftFence}. */
    record FenceDone(String commandId, Instant at, boolean ok, String message) implements Answer {}

    /** Answers {@link Command.TakeFinalSnapshot}, with the snapshot taken. */
    record FinalSnapshotDone(String commandId, Instant at, boolean ok, String message, RecoveryPoint point) implements Answer {}

    /** Answers {@link Command.ApplySnapshot}. */
    record SnapshotApplied(String commandId, Instant at, boolean ok, String message) implements Answer {}

    /** Answers {@link Command.StartWorkload}: the driver started it (its probe says when it is up). */
    record WorkloadBooted(String commandId, Instant at, boolean ok, String message) implements Answer {}

    /**
     * Answers {@link Command.RunProbe}. Green ({@code ok}) ends the probe. Not green is progress:
     * the message is kept for the report and the agent goes on probing until green or until the
     * run gives up at the probe's deadline.
     */
    record ProbeResult(String commandId, Instant at, boolean ok, String message) implements Answer {}

    /** Answers {@link Command.RunScript} and {@link Command.RunPostBootScript}; exit code -1 when it could not run. */
    record ScriptResult(String commandId, Instant at, int exitCode, String output) implements Answer {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** Answers {@link Command.UpdateDns}. */
    record DnsResult(String commandId, Instant at, boolean ok, String message) implements Answer {}

    /** Answers {@link Command.CallHttp}: the answer's status, 0 when there was none. */
    record HttpResult(String commandId, Instant at, int status, String message) implements Answer {}

    /** Answers {@link Command.AskApproval}: the run goes on. */
    record ApprovalGiven(String commandId, Instant at, String by) implements Answer {}

    /** Answers {@link Command.AskApproval}: the run is aborted. */
    record ApprovalDenied(String commandId, Instant at, String by, String reason) implements Answer {}

    /** Answers {@link Command.StartTimer}: its time has come. */
    record TimerFired(String commandId, Instant at) implements Answer {}

    /** Answers {@link Command.CleanUpSandbox}. */
    record CleanupDone(String commandId, Instant at, boolean ok, String message) implements Answer {}
}
