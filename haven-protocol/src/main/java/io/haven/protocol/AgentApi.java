package io.haven.protocol;

/** The paths of the agent-facing endpoints (all under the server's one HTTPS port). */
public final class AgentApi {
    private AgentApi() {}

    /** Public (the token authenticates): exchange an enrolment token for a client certificate. */
    public static final String ENROLL = "/api/v1/agent/enroll";
    /** Mutual TLS from here on. */
    public static final String HEARTBEAT = "/api/v1/agent/heartbeat";
    /** A new client certificate for a new key, before the old one expires ({@code {"publicKey"}} → an EnrollReply). */
    public static final String CERTIFICATE = "/api/v1/agent/certificate";
    /** Long poll: {@code ?free=N&wait=SECONDS}. */
    public static final String TASKS = "/api/v1/agent/tasks";
    public static final String PROGRESS = "/api/v1/agent/jobs/{id}/progress";
    public static final String FINISH = "/api/v1/agent/jobs/{id}/finish";
    /**
     * {@code ?instance=ID}: the agent process is stopping. Task polls of that instance still
     * waiting on the server (their client is gone) take no more work.
     */
    public static final String BYE = "/api/v1/agent/bye";
    /** The repository REST backend, append-only for agents: {@code /repo/v1/NAME/…}. */
    public static final String REPOSITORY_PREFIX = "/repo/v1/";

    /** The longest an agent's task poll waits on the server. */
    public static final int MAX_WAIT_SECONDS = 30;

    public static String progress(long jobId) {
        return PROGRESS.replace("{id}", Long.toString(jobId));
    }

    public static String finish(long jobId) {
        return FINISH.replace("{id}", Long.toString(jobId));
    }
}
