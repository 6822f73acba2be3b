package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * DR runs from the command line: {@code haven drill}, {@code haven failover}, {@code haven failback},
 * {@code haven run list|show|watch|approve|deny|abort} and {@code haven plan status}
 * (docs/runbooks.md, docs/cli.md). Commands that start or move a run follow it until it ends or
 * waits for the operator (a failover waits for commit or rollback), printing its progress, then
 * print its report; the exit code is 0 when it succeeded (or failed over), 1 when it failed or
 * was aborted.
 */
final class RunCommands {
    private RunCommands() {}

    /** Follows a run: its phase and step changes as they happen, then its report. */
    static int follow(ApiCommand cmd, ApiClient api, String runId, boolean wait, Duration timeout) throws InterruptedException {
        return follow(cmd, () -> FollowReads.get(cmd, api, "/api/v1/runs/" + runId, "run " + runId, "haven run show " + runId), runId, wait,
                timeout, Duration.ofSeconds(1));
    }

    /** {@link #follow(ApiCommand, ApiClient, String, boolean, Duration)} reading the run through {@code read}, every {@code every}. */
    static int follow(ApiCommand cmd, java.util.function.Supplier<JsonNode> read, String runId, boolean wait, Duration timeout, Duration every)
            throws InterruptedException {
        JsonNode run = read.get();
        if (!cmd.json() && wait) {
            cmd.println(run.get("kind").asText() + " run " + runId + " of plan " + run.get("plan").asText() + " v" + run.get("planVersion").asText()
                    + ": site " + run.get("sourceSite").asText() + " -> site " + run.get("targetSite").asText());
        }
        String lastPhase = null;
        Map<String, String> steps = new LinkedHashMap<>();
        String askedFor = null;
        String waitsShown = "[]";
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        while (wait) {
            String phase = run.get("phase").asText();
            if (!cmd.json()) {
                if (!phase.equals(lastPhase)) {
                    cmd.println(Instant.now().toString().substring(11, 19) + "  " + phase.replace('_', ' '));
                    lastPhase = phase;
                }
                boolean firstLook = steps.isEmpty() && phase.startsWith("rolling_back");
                for (JsonNode st : run.path("report").path("steps")) {
                    String key = st.get("number").asText();
                    String status = st.get("status").asText();
                    if (!status.equalsIgnoreCase("PENDING") && !status.equals(steps.get(key))) {
                        steps.put(key, status);
                        if (!firstLook) { // a rollback followed from its start: what the run did is in the report, not news
                            stepLine(cmd, st, status.toLowerCase(Locale.ROOT).replace('_', ' '), st.path("message"));
                        }
                    }
                    JsonNode revert = st.path("revert");
                    if (revert.isObject() && revert.hasNonNull("endedAt") && !"reverted".equals(steps.get(key + "/revert"))) {
                        steps.put(key + "/revert", "reverted");
                        stepLine(cmd, st, revert.path("ok").asBoolean() ? "rolled back" : "rollback failed", revert.path("message"));
                    }
                }
                JsonNode ask = run.get("waitingForApproval");
                if (ask != null && !ask.get("step").asText().equals(askedFor)) {
                    askedFor = ask.get("step").asText();
                    cmd.println("  waiting for approval of step '" + askedFor + "' (until " + ask.get("deadline").asText() + "):");
                    cmd.println("    " + ask.get("prompt").asText().strip().replace("\n", "\n    "));
                    cmd.println("  approve with: haven run approve " + runId + "   deny with: haven run deny " + runId);
                }
                JsonNode waits = run.path("waitingOn");
                if (waits.isArray() && !waits.toString().equals(waitsShown)) {
                    waitsShown = waits.toString();
                    for (JsonNode w : waits) {
                        // the server words it, as it words the run's report
                        cmd.println(Instant.now().toString().substring(11, 19) + "  waiting: " + w.path("message").asText());
                    }
                }
            }
            if (run.get("ended").asBoolean() || phase.equals("failed_over")) {
                break;
            }
            if (System.nanoTime() > deadline) {
                cmd.println("still " + phase.replace('_', ' ') + " after " + io.haven.runbook.DurationText.format(timeout)
                        + "; the run goes on (haven run watch " + runId + ")");
                return Main.EXIT_UNKNOWN; // not a failure: the outcome is not known yet
            }
            Thread.sleep(every.toMillis());
            run = read.get();
        }
        JsonNode end = run;
        cmd.print(end, () -> cmd.println("\n" + end.get("text").asText()));
        String phase = end.get("phase").asText();
        String kind = end.path("kind").asText();
        String verb = kind.equals("failback") ? "failback" : "failover";
        if (!cmd.json() && phase.equals("failed_over")) {
            cmd.println("Plan " + end.get("plan").asText() + " is " + (kind.equals("failback") ? "failed back" : "failed over")
                    + ", not committed: haven " + verb + " " + end.get("plan").asText() + " --commit (or --rollback)");
        } else if (!cmd.json() && (phase.equals("failed") || phase.equals("aborted")) && !kind.equals("test")) {
            // a failed move may have stopped production, fenced a site or changed DNS before it failed
            cmd.println("The " + verb + " " + phase + " part way; what it did (see the report) is undone with: haven " + verb + " "
                    + end.get("plan").asText() + " --rollback");
        }
        return phase.equals("failed") || phase.equals("aborted") ? Main.EXIT_FAILURE : Main.EXIT_OK;
    }

    /** {@code 10:04:05    step 3 point-www (dns): STATE - MESSAGE} */
    private static void stepLine(ApiCommand cmd, JsonNode step, String state, JsonNode message) {
        cmd.println(Instant.now().toString().substring(11, 19) + "    step " + step.get("number").asText() + " " + step.get("name").asText()
                + " (" + step.get("kind").asText() + "): " + state + (message.isTextual() ? " - " + message.asText() : ""));
    }

    static Duration duration(String text) {
        try {
            return io.haven.runbook.DurationText.parse(text);
        } catch (IllegalArgumentException e) {
            throw new HavenException(ErrorCode.USAGE, "--timeout is a duration like 30s, 10m or 1h30m, not '" + text + "': " + e.getMessage());
        }
    }

    static Instant point(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new HavenException(ErrorCode.USAGE, "--point is an ISO-8601 time like 2026-11-30T10:00:00Z, not '" + text + "'");
        }
    }

    static Map<String, Object> start(String kind, boolean confirm, Instant point) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("kind", kind);
        body.put("confirm", confirm);
        if (point != null) {
            body.put("pointAt", point.toString());
        }
        return body;
    }

    /** The newest failover or failback of {@code plan} that can still be committed or rolled back. */
    static String lastMove(ApiClient api, String plan) {
        for (JsonNode r : api.get("/api/v1/runs?plan=" + ApiClient.q(plan) + "&limit=20").get("runs")) {
            if (!r.get("kind").asText().equals("test")) {
                return r.get("id").asText();
            }
        }
        throw new HavenException(ErrorCode.NOT_FOUND, "plan " + plan + " has no failover or failback to commit or roll back");
    }

    abstract static class Following extends ApiCommand {
        @Option(names = "--no-wait", description = "Start it and return at once (follow it with 'haven run watch RUN').")
        boolean noWait;
        @Option(names = "--timeout", paramLabel = "DURATION", description = "Stop following after this long (the run goes on), e.g. 30m.")
        String timeout;

        Duration timeout() {
            return timeout == null ? null : duration(timeout);
        }

        int started(ApiClient api, JsonNode run) throws InterruptedException {
            String id = run.get("id").asText();
            if (noWait) {
                print(run, () -> println(run.get("kind").asText() + " run " + id + " of plan " + run.get("plan").asText() + " started; "
                        + "follow it with: haven run watch " + id));
                return Main.EXIT_OK;
            }
            return follow(this, api, id, true, timeout());
        }
    }

    @Command(name = "drill", mixinStandardHelpOptions = true, description = {"Test failover: boot copies of the plan's DR copies in a sandbox "
        + "at the recovery site, run the runbook, check the probes, report, and clean up.",
        "Production and replication are untouched; DNS steps never run."})
    static final class Drill extends Following {
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String plan;
        @Option(names = "--point", paramLabel = "TIME", description = "Recover the newest point at or before this time (default: the newest; "
                + "not for plans with a PostgreSQL workload, whose copy holds only its newest point).")
        String point;

        @Override
        public Integer call() throws InterruptedException {
            ApiClient api = api();
            JsonNode run = api.post("/api/v1/plans/" + ApiClient.q(plan) + "/runs", start("test", false, point(point)));
            return started(api, run);
        }
    }

    @Command(name = "failover", mixinStandardHelpOptions = true, description = {"Fail a plan over to its recovery site, or commit or roll back "
        + "a failover.",
        "--planned stops the protected site gracefully and loses nothing; --forced recovers without it (the site is lost) and fences it."})
    static final class Failover extends Following {
        static final class Mode {
            @Option(names = "--planned", required = true, description = "Graceful: stop, final snapshot, apply, boot. No data lost.")
            boolean planned;
            @Option(names = "--forced", required = true, description = "The protected site is lost: recover from the newest (or --point) recovery point.")
            boolean forced;
            @Option(names = "--commit", required = true, description = "Make the failed-over state final.")
            boolean commit;
            @Option(names = "--rollback", required = true, description = "Undo the failover (or a failed one), newest change first.")
            boolean rollback;
        }

        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String plan;
        @ArgGroup(exclusive = true, multiplicity = "1")
        Mode mode;
        @Option(names = "--point", paramLabel = "TIME", description = "--forced: recover the newest point at or before this time (not for plans with "
                + "a PostgreSQL workload).")
        String point;
        @Option(names = "--yes", description = "--forced: confirm without the interactive question.")
        boolean yes;

        @Override
        public Integer call() throws InterruptedException {
            ApiClient api = api();
            if (mode.commit || mode.rollback) {
                String id = lastMove(api, plan);
                JsonNode run = api.post("/api/v1/runs/" + id + (mode.commit ? "/commit" : "/rollback"), Map.of());
                if (mode.commit) {
                    print(run, () -> println(run.path("kind").asText().equals("failback")
                            ? "run " + id + " committed: plan " + plan + " is home at site " + run.get("targetSite").asText()
                            : "run " + id + " committed: plan " + plan + " stays at site " + run.get("targetSite").asText()
                                    + "; site " + run.get("sourceSite").asText() + " stays fenced until a failback"));
                    return Main.EXIT_OK;
                }
                return started(api, run);
            }
            if (point != null && !mode.forced) {
                throw new HavenException(ErrorCode.USAGE, "--point goes with --forced; a planned failover recovers from a final snapshot");
            }
            if (mode.forced && !yes) {
                confirm();
            }
            JsonNode run = api.post("/api/v1/plans/" + ApiClient.q(plan) + "/runs", start(mode.planned ? "planned" : "forced", mode.forced,
                    point(point)));
            return started(api, run);
        }

        private void confirm() {
            if (!env().terminal()) {
                throw new HavenException(ErrorCode.USAGE, "a forced failover needs confirmation: add --yes (data newer than the recovery point "
                        + "is lost, and the protected site is fenced)");
            }
            env().err().println("A forced failover brings plan " + plan + " up at its recovery site from the recovery point, without stopping "
                    + "the protected site, which is fenced. Data newer than the point is lost.");
            env().err().print("Type the plan's name to go on: ");
            env().err().flush();
            String answer;
            try {
                answer = new BufferedReader(new InputStreamReader(env().in(), StandardCharsets.UTF_8)).readLine();
            } catch (IOException e) {
                answer = null;
            }
            if (answer == null || !answer.strip().equals(plan)) {
                throw new HavenException(ErrorCode.USAGE, "not confirmed; nothing was done");
            }
        }
    }

    @Command(name = "failback", mixinStandardHelpOptions = true, description = {"Bring a plan home after a committed failover: replicate back "
        + "to the protected site, then a planned failover home (DNS back).",
        "--commit and --rollback end it like a failover."})
    static final class Failback extends Following {
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String plan;
        @Option(names = "--commit", description = "Make the failback final.")
        boolean commit;
        @Option(names = "--rollback", description = "Undo the failback.")
        boolean rollback;

        @Override
        public Integer call() throws InterruptedException {
            ApiClient api = api();
            if (commit && rollback) {
                throw new HavenException(ErrorCode.USAGE, "--commit or --rollback, not both");
            }
            if (commit || rollback) {
                String id = lastMove(api, plan);
                JsonNode run = api.post("/api/v1/runs/" + id + (commit ? "/commit" : "/rollback"), Map.of());
                if (commit) {
                    print(run, () -> println("run " + id + " committed: plan " + plan + " is home at site " + run.get("targetSite").asText()));
                    return Main.EXIT_OK;
                }
                return started(api, run);
            }
            return started(api, api.post("/api/v1/plans/" + ApiClient.q(plan) + "/runs", start("failback", false, null)));
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "DR runs: list, show, watch, approve, deny, abort.",
            subcommands = {ListRuns.class, Show.class, Watch.class, Approve.class, Deny.class, Abort.class})
    static final class Runs implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven run --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List runs, newest first.")
    static final class ListRuns extends ApiCommand {
        @Option(names = "--plan", paramLabel = "PLAN")
        String plan;
        @Option(names = "--open", description = "Only runs not ended.")
        boolean open;
        @Option(names = "--limit", paramLabel = "N", defaultValue = "50")
        int limit;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/runs?limit=" + limit + (plan == null ? "" : "&plan=" + ApiClient.q(plan)) + (open ? "&open=true" : ""));
            table(r, r.get("runs"), List.of("ID", "PLAN", "KIND", "PHASE", "BY", "CREATED"),
                    List.of(field("id"), n -> n.get("plan").asText() + " v" + n.get("planVersion").asText(), field("kind"), field("phase"),
                            field("createdBy"), field("createdAt")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print a run's report (partial while it runs).")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "RUN", description = "The run's id (haven run list).")
        String run;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/runs/" + ApiClient.q(run));
            print(r, () -> println(r.get("text").asText()));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "watch", mixinStandardHelpOptions = true, description = "Follow a run until it ends or waits for commit or rollback.")
    static final class Watch extends Following {
        @Parameters(paramLabel = "RUN", description = "The run's id (haven run list).")
        String run;

        @Override
        public Integer call() throws InterruptedException {
            return follow(this, api(), run, true, timeout());
        }
    }

    /** An operator's answer to a run: approve, deny, abort. */
    abstract static class RunAction extends ApiCommand {
        @Parameters(paramLabel = "RUN", description = "The run's id (haven run list).")
        String run;

        int act(String action, String reason, String done) {
            JsonNode r = api().post("/api/v1/runs/" + ApiClient.q(run) + "/" + action, reason == null ? Map.of() : Map.of("reason", reason));
            print(r, () -> println(done + "run " + run + " is " + r.get("phase").asText().replace('_', ' ')
                    + (action.equals("abort") && r.hasNonNull("failure") ? ": " + r.get("failure").asText() : "")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve the run's waiting approval step (operator).")
    static final class Approve extends RunAction {
        @Override
        public Integer call() {
            return act("approve", null, "approved; ");
        }
    }

    @Command(name = "deny", mixinStandardHelpOptions = true, description = "Deny the run's waiting approval step; the run is aborted (operator).")
    static final class Deny extends RunAction {
        @Option(names = "--reason", paramLabel = "TEXT")
        String reason;

        @Override
        public Integer call() {
            return act("deny", reason, "denied; ");
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Abort a run where it is (a drill still cleans up) (operator).")
    static final class Abort extends RunAction {
        @Option(names = "--reason", paramLabel = "TEXT")
        String reason;

        @Override
        public Integer call() {
            return act("abort", reason, "");
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = {"Start a plan's workloads at the site it runs at, boot step by "
        + "boot step, each until its probe is green (operator).", "Haven then runs them, so a planned failover can stop them gracefully."})
    static final class StartPlan extends ApiCommand {
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String plan;

        @Override
        public Integer call() {
            JsonNode r = api().postAny("/api/v1/plans/" + ApiClient.q(plan) + "/start", Map.of());
            print(r, () -> {
                for (JsonNode w : r.get("workloads")) {
                    println(w.get("workload").asText() + " at site " + w.get("site").asText() + ": " + (w.get("ok").asBoolean() ? "up" : "FAILED")
                            + " - " + w.path("message").asText());
                }
            });
            return r.get("started").asBoolean() ? Main.EXIT_OK : Main.EXIT_FAILURE;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = {"How recoverable a plan's workloads are: the newest point, its "
        + "age against the RPO target, the replication.", "Exit code 0 when every workload is recoverable within its RPO target and nothing "
        + "needs attention (a failover that failed part way and left the plan's own site fenced), 1 otherwise."})
    static final class Status extends ApiCommand {
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String plan;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/plans/" + ApiClient.q(plan) + "/status");
            if (json()) {
                println(Output.toJson(r));
            } else {
                // targets and ages as plans write durations (15s, 5m, 1h30m): Output.duration's
                // "0:15" for an operation's time read as a quarter past midnight here
                println("plan " + r.get("plan").asText() + " v" + r.get("version").asText() + " (" + r.get("mode").asText() + ", RPO target "
                        + age(r.get("rpoSeconds").asLong()) + "): runs at site " + r.get("activeSite").asText()
                        + (r.get("fencedAt").isEmpty() ? "" : "; fenced at " + String.join(", ", ApiClient.JSON.convertValue(r.get("fencedAt"),
                                String[].class)))
                        + (r.hasNonNull("openRun") ? "; run " + r.get("openRun").asText() + " open" : "")
                        + (r.hasNonNull("nextDrillAt") ? "; next drill " + r.get("nextDrillAt").asText() : ""));
                table(r, r.get("workloads"), List.of("WORKLOAD", "RECOVERABLE", "POINT", "AGE", "RPO", "REPLICATION"), List.of(field("workload"),
                        n -> n.get("recoverable").asBoolean() ? "yes" : "no: " + n.path("why").asText(),
                        n -> n.hasNonNull("pointAt") ? n.get("pointAt").asText() : null,
                        n -> n.hasNonNull("ageSeconds") ? age(n.get("ageSeconds").asLong()) : null,
                        n -> n.get("meetsRpo").asBoolean() ? "met" : n.path("rpo").asText().equals("pending") ? "pending" : "MISSED",
                        field("replication")));
            }
            if (!json() && r.hasNonNull("attention")) {
                println("ATTENTION: " + r.get("attention").asText());
            }
            return r.get("recoverable").asBoolean() && r.get("meetsRpo").asBoolean() && !r.hasNonNull("attention")
                    ? Main.EXIT_OK : Main.EXIT_FAILURE;
        }

        /** Whole seconds as a plan writes a duration: 15s, 5m, 1h30m, 2d3h (0s for none or less). */
        static String age(long seconds) {
            return io.haven.runbook.DurationText.format(java.time.Duration.ofSeconds(Math.max(0, seconds)));
        }
    }
}
