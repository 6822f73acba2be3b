package io.haven.runbook.run;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.haven.runbook.Direction;
import io.haven.runbook.PostBootScript;
import io.haven.runbook.Probe;
import io.haven.runbook.Step;
import io.haven.runbook.Where;
import java.time.Duration;
import java.time.Instant;

/**
 * What a run asks its executor to do. Every command has an id, unique within the run and stable:
 * issuing a command again after a restart ({@link Event.Resumed}) uses the same id, so the
 * executor can recognise work it already started (an agent job keyed by run and command id) and
 * attach to it instead of starting it twice. Every command except {@link Cancel} and
 * {@link PublishReport} is answered by exactly one {@link Event.Answer} naming its id (a probe
 * may send "not green yet" answers before its final one).
 *
 * <p>Sites are the plan's site names; the executor finds each workload's agent at a site (at the
 * recovery site, the plan's placement; at the protected site, the inventory). {@code sandbox}
 * means drill copies: own volumes, own addresses, nothing in production touched.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "op")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Command.StartReverseReplication.class, name = "start-reverse-replication"),
    @JsonSubTypes.Type(value = Command.PrepareWorkload.class, name = "prepare-workload"),
    @JsonSubTypes.Type(value = Command.StopWorkload.class, name = "stop-workload"),
    @JsonSubTypes.Type(value = Command.FenceSite.class, name = "fence-site"),
    @JsonSubTypes.Type(value = Command.LiftFence.class, name = "lift-fence"),
    @JsonSubTypes.Type(value = Command.TakeFinalSnapshot.class, name = "take-final-snapshot"),
    @JsonSubTypes.Type(value = Command.ApplySnapshot.class, name = "apply-snapshot"),
    @JsonSubTypes.Type(value = Command.StartWorkload.class, name = "start-workload"),
    @JsonSubTypes.Type(value = Command.RunProbe.class, name = "run-probe"),
    @JsonSubTypes.Type(value = Command.RunPostBootScript.class, name = "run-post-boot-script"),
    @JsonSubTypes.Type(value = Command.RunScript.class, name = "run-script"),
    @JsonSubTypes.Type(value = Command.UpdateDns.class, name = "update-dns"),
    @JsonSubTypes.Type(value = Command.CallHttp.class, name = "call-http"),
    @JsonSubTypes.Type(value = Command.AskApproval.class, name = "ask-approval"),
    @JsonSubTypes.Type(value = Command.StartTimer.class, name = "start-timer"),
    @JsonSubTypes.Type(value = Command.CleanUpSandbox.class, name = "clean-up-sandbox"),
    @JsonSubTypes.Type(value = Command.Cancel.class, name = "cancel"),
    @JsonSubTypes.Type(value = Command.PublishReport.class, name = "publish-report")})
public sealed interface Command {
    String id();

    /** Failback: replicate every workload from {@code from} back to {@code to}, continuously; answer when in sync. */
    record StartReverseReplication(String id, String from, String to) implements Command {}

    /**
     * Early preparation: make the workload's copy at {@code site} ready to boot (hydrate it, set up
     * its volumes), from its newest recoverable point at or before {@code pointAt} (null: newest).
     */
    record PrepareWorkload(String id, String workload, String site, boolean sandbox, Instant pointAt) implements Command {}

    /** Stop the workload at {@code site} gracefully (the driver's stop). */
    record StopWorkload(String id, String workload, String site) implements Command {}

    /** From now on, agents at {@code site} refuse to start this plan's workloads (no split brain). */
    record FenceSite(String id, String site) implements Command {}

    /** Agents at {@code site} may start this plan's workloads again. */
    record LiftFence(String id, String site) implements Command {}

    /** Snapshot the stopped workload at {@code site}: the last of its data. */
    record TakeFinalSnapshot(String id, String workload, String site) implements Command {}

    /** Apply {@code snapshot} to the prepared copy at {@code site} (only what changed since its point). */
    record ApplySnapshot(String id, String workload, String site, String snapshot) implements Command {}

    /** Start the workload at {@code site} with its driver. */
    record StartWorkload(String id, String workload, String site, boolean sandbox) implements Command {}

    /** Probe the workload until green, reporting not-green results as they come; stop at {@code deadline} or on {@link Cancel}. */
    record RunProbe(String id, String workload, String site, Probe probe, Instant deadline, boolean sandbox) implements Command {}

    /** Run post-boot script number {@code index} of the workload on its host at {@code site}. */
    record RunPostBootScript(String id, String workload, String site, int index, PostBootScript script, boolean sandbox)
            implements Command {}

    /** Run a script step's command; the run gives up at its timeout (and sends {@link Cancel}). */
    record RunScript(String id, String step, Where where, String command, Duration timeout, boolean sandbox) implements Command {}

    /** Set the step's DNS record to its value for {@code direction} (RFC 2136 update with TSIG). */
    record UpdateDns(String id, Step.DnsUpdate step, Direction direction) implements Command {
        public String value() {
            return step.value(direction);
        }
    }

    /** Make the step's HTTP call and answer with the status received. */
    record CallHttp(String id, Step.HttpCall step) implements Command {}

    /** Ask operators to approve or deny; the run waits until an answer or {@code deadline}. */
    record AskApproval(String id, String step, String prompt, Instant deadline) implements Command {}

    /** Answer with {@link Event.TimerFired} at {@code at} (at once if that has passed, as after a restart). */
    record StartTimer(String id, Instant at) implements Command {}

    /** Drills: remove every sandbox copy, address and process the drill made. */
    record CleanUpSandbox(String id) implements Command {}

    /** Stop working on command {@code commandId} (kill a script, stop probing, drop a timer); not answered. */
    record Cancel(String id, String commandId, String reason) implements Command {}

    /** The run reached {@code phase} (an end, or failed over): store and send its report ({@link RunReport#from}); not answered. */
    record PublishReport(String id, Phase phase) implements Command {}
}
