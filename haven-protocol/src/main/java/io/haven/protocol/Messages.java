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
    public record HeartbeatReply(int heartbeatSeconds, List<Long> cancel, List<String> fenced) {
        public HeartbeatReply(int heartbeatSeconds, List<Long> cancel) {
            this(heartbeatSeconds, cancel, null);
        }
    }

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
    public record RestoreSpec(String snapshot, String sourcePath, String targetPath, List<String> includes, boolean sync,
            boolean noSpaceCheck) {
        /** A restore that checks the target's room first (the default). */
        public RestoreSpec(String snapshot, String sourcePath, String targetPath, List<String> includes, boolean sync) {
            this(snapshot, sourcePath, targetPath, includes, sync, false);
        }
    }

    /** A unit of work for one agent; exactly one of the specs is set, per {@code type}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Task(long jobId, String type, RepositoryRef repository, BackupSpec backup, RestoreSpec restore, DrSpec dr) {
        public Task(long jobId, String type, RepositoryRef repository, BackupSpec backup, RestoreSpec restore) {
            this(jobId, type, repository, backup, restore, null);
        }
    }

    /**
     * {@code GET /api/v1/agent/tasks}: what the agent should start now (may be empty), and the DR
     * plans fenced at the agent's site as of this answer: the agent refuses to start their
     * workloads (no split brain).
     */
    public record TaskBatch(List<Task> tasks, List<String> fenced) {
        public TaskBatch(List<Task> tasks) {
            this(tasks, null);
        }
    }

    /**
     * A DR operation on one workload instance (task type {@code dr}), asked by a run or by the
     * keeper of continuous DR copies. docs/runbooks.md ("Agent operations") describes each op.
     *
     * @param op prepare, hydrate, start, stop, probe, script, backup, apply, rejoin or cleanup
     * @param run the run's id (null for the DR copy keeper); with {@code command} it keys the work
     * @param driver {@code process} or {@code postgres}; options are its settings, addresses already
     *     rewritten for this instance
     * @param volumes the volumes' paths at this site (for a sandbox: the production copy's paths,
     *     which the agent maps to its own sandbox directories)
     * @param bindAddress the address the instance binds (null: what its host has)
     * @param snapshot prepare, hydrate, apply: the snapshot whose paths {@code snapshotPaths} go to
     *     {@code volumes} in order (process); null for postgres
     * @param primary postgres: {@code host:port} of the primary (or standby) a copy streams from
     * @param lsn postgres apply: the WAL position the copy must have replayed
     * @param deadline probe: epoch milliseconds when the run gives up
     * @param timeoutMillis script: how long it may run; stop: the grace before SIGKILL
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DrSpec(String op, String run, String command, String plan, String workload, String driver,
            Map<String, String> options, List<String> volumes, String bindAddress, boolean sandbox, String snapshot,
            List<String> snapshotPaths, String host, String primary, String lsn, ProbeSpec probe, Long deadline, String script,
            Long timeoutMillis, Map<String, String> env) {}

    /** A workload's probe: {@code tcp} (host, port), {@code http} (url, status) or {@code command}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ProbeSpec(String type, String host, Integer port, String url, Integer status, String command) {}

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
