package io.haven.server.control;

import io.haven.agent.Identity;
import io.haven.agent.ServerClient;
import io.haven.protocol.AgentApi;
import io.haven.protocol.Messages;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An enrolled agent driven by hand: each call is one request over mutual TLS, so a test decides
 * exactly when the agent heartbeats, polls and finishes.
 */
final class RawAgent {
    final Identity id;
    final ServerClient client;
    String instance = UUID.randomUUID().toString();

    RawAgent(Identity id, URI server) {
        this.id = id;
        this.client = new ServerClient(server, id.sslContext());
    }

    Messages.HeartbeatReply heartbeat(int maxTasks, List<Long> running) {
        return client.post(AgentApi.HEARTBEAT, new Messages.Heartbeat(instance, "test", null, maxTasks, running),
                Messages.HeartbeatReply.class, Duration.ofSeconds(20));
    }

    List<Messages.Task> poll(int free, int waitSeconds) {
        return client.get(AgentApi.TASKS + "?free=" + free + "&wait=" + waitSeconds + "&instance=" + instance, Messages.TaskBatch.class,
                Duration.ofSeconds(waitSeconds + 20)).tasks();
    }

    /** The process says it stops. */
    void bye() {
        client.post(AgentApi.BYE + "?instance=" + instance, Map.of(), Map.class, Duration.ofSeconds(20));
    }

    boolean progress(long job, long bytes) {
        return client.post(AgentApi.progress(job), new Messages.Progress(bytes, bytes * 2, 1, 2,
                List.of(new Messages.LogLine(System.currentTimeMillis(), "info", "at " + bytes))), Messages.ProgressReply.class,
                Duration.ofSeconds(20)).cancel();
    }

    void finish(long job, String status) {
        client.post(AgentApi.finish(job), new Messages.Finish(status, "done by test", Map.of("ok", true), List.of()), Map.class,
                Duration.ofSeconds(20));
    }
}
