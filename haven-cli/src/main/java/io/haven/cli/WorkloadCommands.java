package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code haven workload|job|snapshot …}: workloads, backups and restores as jobs, through the API only. */
final class WorkloadCommands {
    private WorkloadCommands() {}

    @Command(name = "workload", mixinStandardHelpOptions = true, description = "File-set workloads: paths on a host, backed up by policy.",
            subcommands = {WlList.class, WlShow.class, WlCreate.class, WlDelete.class, WlBackup.class, WlRestore.class})
    static final class Workload implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven workload --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List workloads.")
    static final class WlList extends ApiCommand {
        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/workloads");
            table(r, r.get("workloads"), List.of("NAME", "AGENT", "POOL", "LAST BACKUP", "LAST SUCCESS", "PATHS"), List.of(field("name"),
                    field("agent"), field("pool"), n -> n.hasNonNull("lastBackupState") ? n.get("lastBackupState").asText() + " "
                            + n.get("lastBackupAt").asText() : null, field("lastSuccessfulBackupAt"),
                    n -> String.join(",", ApiClient.JSON.convertValue(n.get("paths"), String[].class))));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a workload.")
    static final class WlShow extends ApiCommand {
        @Parameters(paramLabel = "WORKLOAD")
        String name;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/workloads/" + ApiClient.q(name));
            print(r, () -> println(Output.toPrettyJson(r)));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a file-set workload (admin).")
    static final class WlCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--agent", paramLabel = "AGENT", description = "The host it lives on.")
        String agent;
        @Option(names = "--pool", paramLabel = "GROUP", description = "Or: any agent of this group may back it up (shared storage).")
        String pool;
        @Option(names = "--path", required = true, paramLabel = "PATH", description = "Absolute path to back up (repeatable).")
        List<String> paths;
        @Option(names = "--exclude", paramLabel = "PATTERN", description = "Exclude (repeatable).")
        List<String> excludes = new ArrayList<>();

        @Override
        public Integer call() {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", name);
            b.put("agent", agent);
            b.put("pool", pool);
            b.put("paths", paths);
            b.put("excludes", excludes);
            JsonNode r = api().post("/api/v1/workloads", b);
            print(r, () -> println("workload " + r.get("name").asText() + " created"));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a workload (admin); its jobs and snapshots stay.")
    static final class WlDelete extends ApiCommand {
        @Parameters(paramLabel = "WORKLOAD")
        String name;

        @Override
        public Integer call() {
            JsonNode r = api().send("DELETE", "/api/v1/workloads/" + ApiClient.q(name), null);
            print(r, () -> println("workload " + name + " deleted"));
            return Main.EXIT_OK;
        }
    }

    /** Waits for a job to end, printing its progress; returns its exit code (0 succeeded, 3 partial, 1 otherwise). */
    static int await(ApiCommand cmd, ApiClient api, long id) {
        long shownLog = 0;
        String last = "";
        while (true) {
            JsonNode j = FollowReads.get(cmd, api, "/api/v1/jobs/" + id, "job " + id, "haven job show " + id);
            if (!cmd.json()) {
                JsonNode logs = FollowReads.get(cmd, api, "/api/v1/jobs/" + id + "/logs?after=" + shownLog, "job " + id, "haven job show " + id);
                for (JsonNode l : logs.get("lines")) {
                    shownLog = l.get("id").asLong();
                    cmd.env().err().println("  " + l.get("level").asText() + ": " + l.get("line").asText());
                }
                String now = j.get("state").asText();
                if (!now.equals(last)) {
                    cmd.env().err().println("job " + id + ": " + now);
                    last = now;
                }
            }
            String s = j.get("state").asText();
            if (!s.equals("queued") && !s.equals("running")) {
                if (cmd.json()) {
                    cmd.println(Output.toJson(j));
                } else {
                    JobCommands.describe(cmd, j);
                }
                return s.equals("succeeded") ? Main.EXIT_OK : s.equals("partial") ? Main.EXIT_PARTIAL : Main.EXIT_FAILURE;
            }
            try {
                Thread.sleep(Duration.ofSeconds(1).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Main.EXIT_FAILURE;
            }
        }
    }

    @Command(name = "backup", mixinStandardHelpOptions = true, description = {"Back up a workload now (operator).",
        "If its agent is offline, the job waits in the queue and runs when the agent returns."})
    static final class WlBackup extends ApiCommand {
        @Parameters(paramLabel = "WORKLOAD")
        String name;
        @Option(names = "--policy", paramLabel = "POLICY", description = "When several policies cover the workload.")
        String policy;
        @Option(names = "--force", description = "Read every file, not only changed ones.")
        boolean force;
        @Option(names = "--wait", description = "Wait for the job to end and show its log; the exit code is the job's.")
        boolean await;

        @Override
        public Integer call() {
            ApiClient api = api();
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("policy", policy);
            b.put("force", force);
            JsonNode j = api.post("/api/v1/workloads/" + ApiClient.q(name) + "/backup", b);
            if (await) {
                if (!json()) {
                    println("job " + j.get("id").asText() + " queued");
                }
                return await(this, api, j.get("id").asLong());
            }
            print(j, () -> println("job " + j.get("id").asText() + " " + j.get("state").asText() + " (haven job show " + j.get("id").asText() + ")"));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true, description = {"Restore a workload's snapshot through an agent (operator).",
        "Default: the latest snapshot, to its own host, at its original paths."})
    static final class WlRestore extends ApiCommand {
        @Parameters(paramLabel = "WORKLOAD")
        String name;
        @Option(names = "--snapshot", paramLabel = "ID", description = "Snapshot id or prefix (default: latest).")
        String snapshot;
        @Option(names = "--at", paramLabel = "TIME", description = "Or: the newest snapshot at or before this time (ISO-8601).")
        String at;
        @Option(names = "--agent", paramLabel = "AGENT", description = "Restore on this host (default: the workload's).")
        String agent;
        @Option(names = "--target", paramLabel = "DIR", description = {"Restore under this directory (default: / — the original paths;",
            "with --sync and --path: that path itself, synced in place)."})
        String target;
        @Option(names = "--path", paramLabel = "PATH", description = "Only this path of the snapshot.")
        String path;
        @Option(names = "--include", paramLabel = "PATTERN", description = "Only matching entries (repeatable).")
        List<String> include = new ArrayList<>();
        @Option(names = "--sync", description = {"Make the target equal to the snapshot: write only what differs, delete what it lacks.",
            "Never for / (in any spelling): sync one directory, --path DIR in place or --target DIR."})
        boolean sync;
        @Option(names = "--no-space-check", description = {"Restore even when the target's free space looks too small on the agent",
            "(the estimate counts every file in full; a disk that fills up still fails the restore)."})
        boolean noSpaceCheck;
        @Option(names = "--wait", description = "Wait for the job to end; the exit code is the job's.")
        boolean await;

        @Override
        public Integer call() {
            ApiClient api = api();
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("sync", sync);
            if (noSpaceCheck) {
                // sent only when given: a server from before the option refuses fields it does not know
                b.put("noSpaceCheck", true);
            }
            b.put("workload", name);
            b.put("snapshot", snapshot);
            b.put("at", at);
            b.put("agent", agent);
            b.put("targetPath", target);
            b.put("path", path);
            b.put("include", include);
            JsonNode j = api.post("/api/v1/restores", b);
            if (await) {
                if (!json()) {
                    println("job " + j.get("id").asText() + " queued: " + j.get("message").asText());
                }
                return await(this, api, j.get("id").asLong());
            }
            print(j, () -> println("job " + j.get("id").asText() + " " + j.get("state").asText() + ": " + j.get("message").asText()));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Snapshots of workloads (through the server).",
            subcommands = {SnapList.class})
    static final class Snapshot implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven snapshot --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List a workload's snapshots, oldest first.")
    static final class SnapList extends ApiCommand {
        @Option(names = "--workload", required = true, paramLabel = "WORKLOAD")
        String workload;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/snapshots?workload=" + ApiClient.q(workload));
            table(r, r.get("snapshots"), List.of("ID", "TIME", "HOST", "PATHS"), List.of(n -> n.get("id").asText().substring(0, 10),
                    field("time"), field("host"), n -> String.join(",", ApiClient.JSON.convertValue(n.get("paths"), String[].class))));
            return Main.EXIT_OK;
        }
    }

    static String bytes(JsonNode n) {
        return DataSize.format(n.asLong());
    }
}
