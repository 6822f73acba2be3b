package io.haven.server;

import io.haven.server.agent.Agents;
import io.haven.server.job.Jobs;
import io.haven.server.notify.Event;
import io.haven.server.notify.Notifier;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns what the control plane reports into notifications: a job that failed, a scheduled backup
 * that was missed, an agent that went offline. Sending never blocks the control plane
 * ({@link Notifier#notify} queues).
 */
final class ControlNotifications implements ControlPlane.Listener {
    private final Notifier notifier;
    private final ControlPlane control;

    ControlNotifications(Notifier notifier, ControlPlane control) {
        this.notifier = notifier;
        this.control = control;
    }

    @Override
    public void jobEnded(Jobs.Job job) {
        if (job.state() != Jobs.State.FAILED) {
            return;
        }
        notifier.notify(new Event(Event.Kind.JOB_FAILED, Event.Severity.CRITICAL, job.type() + " job " + job.id()
                + (job.workload() == null ? "" : " of " + job.workload()) + " failed: " + job.message(), details(job), Instant.now()));
    }

    @Override
    public void jobMissed(Jobs.Job job) {
        notifier.notify(new Event(Event.Kind.SCHEDULE_MISSED, Event.Severity.WARNING, "scheduled backup of " + job.workload()
                + " missed: " + job.message(), details(job), Instant.now()));
    }

    @Override
    public void agentOffline(Agents.Agent agent) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("agent", agent.name());
        d.put("site", agent.site());
        d.put("lastSeenAt", agent.lastSeenAt() == null ? null : agent.lastSeenAt().toString());
        d.put("offlineAfterSeconds", control.agents().offlineAfter().toSeconds());
        notifier.notify(new Event(Event.Kind.AGENT_OFFLINE, Event.Severity.WARNING, "agent " + agent.name() + " is offline (last seen "
                + (agent.lastSeenAt() == null ? "never" : agent.lastSeenAt().toString()) + ")", d, Instant.now()));
    }

    @Override
    public void runPublished(io.haven.runbook.run.RunState state, io.haven.runbook.run.RunReport report) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("run", state.runId());
        d.put("plan", state.plan().name());
        d.put("kind", state.kind().name().toLowerCase(java.util.Locale.ROOT));
        d.put("phase", state.phase().name().toLowerCase(java.util.Locale.ROOT));
        d.put("failure", state.failure());
        d.put("report", report.render());
        boolean bad = state.phase() == io.haven.runbook.run.Phase.FAILED || state.phase() == io.haven.runbook.run.Phase.ABORTED;
        notifier.notify(new Event(Event.Kind.DR_RUN, bad ? Event.Severity.CRITICAL : Event.Severity.INFO, state.kind().name()
                .toLowerCase(java.util.Locale.ROOT) + " run " + state.runId() + " of plan " + state.plan().name() + ": "
                + state.phase().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                + (state.failure() == null ? "" : " - " + state.failure()), d, Instant.now()));
    }

    @Override
    public void approvalNeeded(io.haven.runbook.run.RunState state, io.haven.runbook.run.Command.AskApproval ask) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("run", state.runId());
        d.put("plan", state.plan().name());
        d.put("step", ask.step());
        d.put("prompt", ask.prompt());
        d.put("deadline", ask.deadline().toString());
        notifier.notify(new Event(Event.Kind.APPROVAL_NEEDED, Event.Severity.WARNING, "run " + state.runId() + " of plan "
                + state.plan().name() + " waits for approval of step '" + ask.step() + "' (haven run approve " + state.runId() + ")", d,
                Instant.now()));
    }

    @Override
    public void rpo(io.haven.server.dr.DrCopies.Status s, boolean breach) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("plan", s.plan());
        d.put("workload", s.workload());
        d.put("pointAt", s.pointAt() == null ? null : s.pointAt().toString());
        d.put("ageSeconds", s.ageSeconds());
        d.put("rpoSeconds", s.rpoSeconds());
        d.put("replication", s.replication());
        String age = s.ageSeconds() == null ? "no recoverable point" : "newest point " + s.ageSeconds() + " s old";
        notifier.notify(new Event(breach ? Event.Kind.RPO_BREACH : Event.Kind.RPO_MET, breach ? Event.Severity.CRITICAL : Event.Severity.INFO,
                "workload " + s.workload() + " of plan " + s.plan() + (breach ? " misses" : " meets") + " its RPO target of "
                        + s.rpoSeconds() + " s (" + age + ")", d, Instant.now()));
    }

    private static Map<String, Object> details(Jobs.Job j) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("job", j.id());
        d.put("type", j.type());
        d.put("state", j.state().label());
        d.put("origin", j.origin());
        d.put("workload", j.workload());
        d.put("agent", j.agent());
        d.put("message", j.message());
        d.put("createdAt", j.createdAt().toString());
        return d;
    }
}
