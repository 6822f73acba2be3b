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
