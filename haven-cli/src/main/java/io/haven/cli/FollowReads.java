package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;

/**
 * Reads for commands that follow a run or a job ({@code job wait}, {@code workload backup --wait},
 * {@code run watch}, {@code drill}, {@code failover}, {@code failback}). The run or job goes on on
 * the server whatever happens to the connection, so a server that cannot be reached (a restart,
 * an upgrade) is retried for {@link #PATIENCE}, with "server unreachable, retrying…" on stderr
 * once per outage. After that the command ends with {@link OutcomeUnknown}: exit code
 * {@link Main#EXIT_UNKNOWN}, not 1, since the run or job may well succeed.
 */
final class FollowReads {
    /** How long an unreachable server is retried before the outcome is called unknown. */
    static volatile Duration patience = Duration.ofMinutes(2);
    /** The wait between attempts. */
    static volatile Duration every = Duration.ofSeconds(2);

    private FollowReads() {}

    /** The server could not be reached for {@link #patience}: what was followed may still be going on. */
    static final class OutcomeUnknown extends HavenException {
        OutcomeUnknown(String message, Throwable cause) {
            super(ErrorCode.IO, message, cause);
        }
    }

    /**
     * {@code GET path}, retrying while the server is unreachable.
     *
     * @param what what is followed, for the final message ("job 7", "run 3f2a…")
     * @param look the command that shows it later ("haven job show 7")
     */
    static JsonNode get(ApiCommand cmd, ApiClient api, String path, String what, String look) {
        long start = System.nanoTime();
        boolean told = false;
        while (true) {
            try {
                JsonNode n = api.get(path);
                if (told) {
                    cmd.env().err().println("haven: the server answers again; following " + what);
                }
                return n;
            } catch (ApiClient.Unreachable e) {
                if (System.nanoTime() - start > patience.toNanos()) {
                    throw new OutcomeUnknown("the server stayed unreachable for " + Output.duration(Math.max(1, patience.toSeconds()))
                            + " while following " + what + ", so its outcome is unknown (it goes on on the server); look with: " + look
                            + " (" + e.getMessage() + ")", e);
                }
                if (!told) {
                    cmd.env().err().println("haven: server unreachable, retrying for up to " + Output.duration(Math.max(1, patience.toSeconds()))
                            + " (" + e.getMessage() + ")");
                    told = true;
                }
                try {
                    Thread.sleep(every.toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new OutcomeUnknown("interrupted while following " + what + "; its outcome is unknown; look with: " + look, ie);
                }
            }
        }
    }
}
