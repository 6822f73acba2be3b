package io.haven.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * The messages agents and the server exchange over HTTPS, as JSON (see {@link Codec}). All are
 * immutable records; a field a sender left out decodes as null (lists and maps included). The endpoints are in {@link AgentApi}; docs/agents.md describes the exchange.
 */
public final class Messages {
    private Messages() {}

    /** One mounted file system of a host. */
    public record FileSystem(String mount, String type, long totalBytes, long freeBytes) {}

    /** What an agent reports about its host. */
    public record HostFacts(String hostname, String os, String osVersion, String arch, int cpus, long memoryBytes,
            List<FileSystem> fileSystems) {}

    /**
     * {@code POST /api/v1/agent/enroll}: a one-time token and the public key (X.509
     * SubjectPublicKeyInfo, DER, base64) the server certifies.
     */
    public record EnrollRequest(String token, String name, String site, Map<String, String> labels, String publicKey,
            HostFacts facts) {}

    /** The server's answer to an enrolment: the agent's id and its client certificate (PEM). */
    public record EnrollReply(long agentId, String name, String site, String certificate, String caCertificate,
            String serverUrl) {}

    /**
     * {@code POST /api/v1/agent/heartbeat}. {@code instance} changes each time the agent process
     * starts, so the server knows that the jobs the previous instance ran are gone.
     */
    public record Heartbeat(String instance, String version, HostFacts facts, int maxTasks, List<Long> runningJobs) {}

    /** What the server tells an agent after a heartbeat. */
    public record HeartbeatReply(int heartbeatSeconds, List<Long> cancel) {}

    /** Where an agent reads and writes a repository: the server's REST backend, and its password. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RepositoryRef(String name, String url, String password) {}

    /** A file-set backup. */
    public record BackupSpec(String workload, String host, List<String> paths, List<String> excludes, List<String> tags,
            long bandwidthBytesPerSecond, boolean force) {}

    /**
     * A restore: {@code snapshot} is an id (or a unique prefix); {@code sourcePath} limits it to
     * a path inside the snapshot (null for all); files go under {@code targetPath}. With
     * {@code sync} the target is made equal to the snapshot, writing only what differs and
     * deleting what the snapshot lacks (a DR copy kept up to date).
     */
    public record RestoreSpec(String snapshot, String sourcePath, String targetPath, List<String> includes, boolean sync) {}

    /** A unit of work for one agent; exactly one of the specs is set, per {@code type}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Task(long jobId, String type, RepositoryRef repository, BackupSpec backup, RestoreSpec restore) {}

    /** {@code GET /api/v1/agent/tasks}: what the agent should start now (may be empty). */
    public record TaskBatch(List<Task> tasks) {}

    /** One line of a job's log. {@code at} is epoch milliseconds. */
    public record LogLine(long at, String level, String line) {}

    /** {@code POST /api/v1/agent/jobs/{id}/progress}: counters so far and new log lines. */
    public record Progress(long bytesDone, long bytesTotal, long filesDone, long filesTotal, List<LogLine> log) {}

    /** The server's answer to progress: whether the job was cancelled. */
    public record ProgressReply(boolean cancel) {}

    /**
     * {@code POST /api/v1/agent/jobs/{id}/finish}: the outcome ({@code succeeded}, {@code partial},
     * {@code failed} or {@code cancelled}), a one-line message, a result object and the last log lines.
     */
    public record Finish(String status, String message, Map<String, Object> result, List<LogLine> log) {}
}
