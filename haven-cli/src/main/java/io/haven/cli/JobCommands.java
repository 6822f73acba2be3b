package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code haven job list|show|logs|cancel|wait}. */
@Command(name = "job", mixinStandardHelpOptions = true, description = "Jobs: backups, restores and maintenance, with progress and logs.",
        subcommands = {JobCommands.ListJobs.class, JobCommands.Show.class, JobCommands.Logs.class, JobCommands.Cancel.class,
            JobCommands.Wait.class})
final class JobCommands implements Runnable {
    @Override
    public void run() {
        throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven job --help'");
    }

    static void describe(ApiCommand cmd, JsonNode j) {
        JsonNode p = j.get("progress");
        cmd.println("job " + j.get("id").asText() + " (" + j.get("type").asText() + (j.hasNonNull("workload") ? " of " + j.get("workload").asText() : "")
                + (j.hasNonNull("agent") ? " on " + j.get("agent").asText() : "") + "): " + j.get("state").asText()
                + (j.hasNonNull("message") ? " — " + j.get("message").asText() : ""));
        cmd.println("  created " + j.get("createdAt").asText() + " by " + j.path("requestedBy").asText("-") + " (" + j.get("origin").asText() + ")"
                + (j.hasNonNull("startedAt") ? "; started " + j.get("startedAt").asText() : "")
                + (j.hasNonNull("finishedAt") ? "; finished " + j.get("finishedAt").asText() : ""));
        cmd.println("  progress: " + p.get("filesDone").asLong() + "/" + p.get("filesTotal").asLong() + " files, "
                + DataSize.format(p.get("bytesDone").asLong()) + "/" + DataSize.format(p.get("bytesTotal").asLong())
                + (p.hasNonNull("bytesPerSecond") ? ", " + DataSize.format(p.get("bytesPerSecond").asLong()) + "/s" : "")
                + (p.hasNonNull("etaSeconds") ? ", ETA " + Output.duration(p.get("etaSeconds").asDouble()) : ""));
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List jobs, newest first.")
    static final class ListJobs extends ApiCommand {
        @Option(names = "--state", paramLabel = "STATE", description = "queued, running, succeeded, partial, failed, cancelled or missed.")
        String state;
        @Option(names = "--workload", paramLabel = "WORKLOAD")
        String workload;
        @Option(names = "--type", paramLabel = "TYPE", description = "backup, restore or maintenance.")
        String type;
        @Option(names = "--limit", paramLabel = "N", defaultValue = "50")
        int limit;

        @Override
        public Integer call() {
            StringBuilder q = new StringBuilder("/api/v1/jobs?limit=" + limit);
            if (state != null) {
                q.append("&state=").append(ApiClient.q(state));
            }
            if (workload != null) {
                q.append("&workload=").append(ApiClient.q(workload));
            }
            if (type != null) {
                q.append("&type=").append(ApiClient.q(type));
            }
            JsonNode r = api().get(q.toString());
            table(r, r.get("jobs"), List.of("ID", "TYPE", "STATE", "WORKLOAD", "AGENT", "CREATED", "MESSAGE"),
                    List.of(field("id"), field("type"), field("state"), field("workload"), field("agent"), field("createdAt"), field("message")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a job with its progress and result.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The job's id (haven job list).")
        long id;

        @Override
        public Integer call() {
            JsonNode j = api().get("/api/v1/jobs/" + id);
            print(j, () -> {
                describe(this, j);
                if (j.hasNonNull("result")) {
                    println("  result: " + Output.toJson(j.get("result")));
                }
            });
            return Main.EXIT_OK;
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, description = "Print a job's log.")
    static final class Logs extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The job's id (haven job list).")
        long id;
        @Option(names = {"-f", "--follow"}, description = "Keep printing until the job ends.")
        boolean follow;

        @Override
        public Integer call() throws InterruptedException {
            ApiClient api = api();
            long after = 0;
            while (true) {
                String path = "/api/v1/jobs/" + id + "/logs?after=" + after;
                JsonNode r = follow ? FollowReads.get(this, api, path, "job " + id, "haven job show " + id) : api.get(path);
                for (JsonNode l : r.get("lines")) {
                    after = l.get("id").asLong();
                    println(json() ? Output.toJson(l) : l.get("at").asText() + " " + l.get("level").asText() + " " + l.get("line").asText());
                }
                String s = r.get("state").asText();
                if (!follow || (!s.equals("queued") && !s.equals("running"))) {
                    return Main.EXIT_OK;
                }
                Thread.sleep(1000);
            }
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a queued or running job (operator).")
    static final class Cancel extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The job's id (haven job list).")
        long id;

        @Override
        public Integer call() {
            JsonNode j = api().post("/api/v1/jobs/" + id + "/cancel", Map.of());
            print(j, () -> println("job " + id + ": " + (j.get("state").asText().equals("cancelled") ? "cancelled"
                    : "cancel requested; the agent stops it")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "wait", mixinStandardHelpOptions = true, description = "Wait for a job to end; the exit code is the job's (0, 3 partial, 1).")
    static final class Wait extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The job's id (haven job list).")
        long id;

        @Override
        public Integer call() {
            return WorkloadCommands.await(this, api(), id);
        }
    }
}
