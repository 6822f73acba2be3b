package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * What following a run prints ({@link RunCommands#follow}), fed the run's states as the server
 * words them, one per read: a rollback followed from its start shows what it undoes, not the
 * failover's steps again; a failover followed from its start shows each step as it ends.
 */
class FollowLoopTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private ApiCommand command() {
        Env env = new Env(Map.of(), Path.of("").toAbsolutePath(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]), false);
        CommandLine cl = new CommandLine(new Main(env)).addSubcommand(RunCommands.Runs.class);
        return cl.getSubcommands().get("run").getSubcommands().get("watch").getCommand();
    }

    private static JsonNode run(String phase, boolean ended, String steps) throws Exception {
        return JSON.readTree("""
                {"id": "run-1", "plan": "shop", "planVersion": 1, "kind": "planned", "sourceSite": "hq", "targetSite": "dr",
                 "phase": "%s", "ended": %s, "waitingOn": [], "text": "THE REPORT (%s)", "report": {"steps": [%s]}}
                """.formatted(phase, ended, phase, steps));
    }

    private static final String BOOT = """
            {"number": 1, "name": "database", "kind": "boot", "status": "SUCCEEDED", "message": "1 workload(s) up: db"}""";

    private static String dns(String status, String revert) {
        return """
                {"number": 2, "name": "point-www", "kind": "dns", "status": "%s", "message": "www.shop.test. A 10.0.0.2", "revert": %s}"""
                .formatted(status, revert);
    }

    private int follow(JsonNode... states) throws Exception {
        Deque<JsonNode> left = new ArrayDeque<>(java.util.List.of(states));
        return RunCommands.follow(command(), () -> left.size() > 1 ? left.poll() : left.peek(), "run-1", true, null, Duration.ofMillis(1));
    }

    @Test
    void aRollbackFollowedFromItsStartShowsTheDnsRecordPutBackAndNotTheFailoversSteps() throws Exception {
        String reverting = """
                {"startedAt": "2026-12-01T10:00:00Z", "endedAt": null, "ok": false, "message": null}""";
        String reverted = """
                {"startedAt": "2026-12-01T10:00:00Z", "endedAt": "2026-12-01T10:00:01Z", "ok": true, "message": "www.shop.test. A 10.0.0.1"}""";
        int exit = follow(
                run("rolling_back", false, BOOT + "," + dns("SUCCEEDED", reverting)),
                run("rolling_back", false, BOOT + "," + dns("SUCCEEDED", reverted)),
                run("rolled_back", true, BOOT + "," + dns("SUCCEEDED", reverted)));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(exit).isEqualTo(Main.EXIT_OK);
        assertThat(printed).containsPattern("(?m)^\\d\\d:\\d\\d:\\d\\d  rolling back$")
                .containsPattern("(?m)^\\d\\d:\\d\\d:\\d\\d    step 2 point-www \\(dns\\): rolled back - www\\.shop\\.test\\. A 10\\.0\\.0\\.1$")
                .containsPattern("(?m)^\\d\\d:\\d\\d:\\d\\d  rolled back$")
                .contains("THE REPORT (rolled_back)")
                .doesNotContain("succeeded");
        assertThat(printed.split("rolled back - ", -1)).as("the revert is printed once").hasSize(2);
    }

    @Test
    void aFailoverFollowedFromItsStartShowsEachStepAsItEndsThenTheCommitHint() throws Exception {
        int exit = follow(
                run("running_steps", false, BOOT + "," + dns("PENDING", "null")),
                run("running_steps", false, BOOT + "," + dns("SUCCEEDED", "null")),
                run("failed_over", false, BOOT + "," + dns("SUCCEEDED", "null")));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(exit).isEqualTo(Main.EXIT_OK);
        assertThat(printed).startsWith("planned run run-1 of plan shop v1: site hq -> site dr\n")
                .containsPattern("(?m)^\\d\\d:\\d\\d:\\d\\d    step 1 database \\(boot\\): succeeded - 1 workload\\(s\\) up: db$")
                .containsPattern("(?m)^\\d\\d:\\d\\d:\\d\\d    step 2 point-www \\(dns\\): succeeded - www\\.shop\\.test\\. A 10\\.0\\.0\\.2$")
                .contains("THE REPORT (failed_over)")
                .contains("Plan shop is failed over, not committed: haven failover shop --commit (or --rollback)")
                .doesNotContain("rolled back");
    }
}
