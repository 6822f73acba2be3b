package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.runbook.PlanYaml;
import io.haven.runbook.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code haven plan validate|apply|export|list|show|versions|delete}: DR plans (docs/runbooks.md). */
@Command(name = "plan", mixinStandardHelpOptions = true, description = "DR plans: validate and apply YAML, export, list, versions.",
        subcommands = {PlanCommands.Validate.class, PlanCommands.Apply.class, PlanCommands.Export.class, PlanCommands.ListPlans.class,
            PlanCommands.Show.class, PlanCommands.Versions.class, PlanCommands.Edit.class, PlanCommands.Delete.class,
            RunCommands.Status.class, RunCommands.StartPlan.class})
final class PlanCommands implements Runnable {
    @Override
    public void run() {
        throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven plan --help'");
    }

    static String read(Env env, String file) {
        try {
            return Files.readString(env.resolve(file), StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new HavenException(ErrorCode.USAGE, "cannot read " + file + ": no such file");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new HavenException(ErrorCode.USAGE, "cannot read " + file + ": permission denied");
        } catch (IOException e) {
            throw new HavenException(ErrorCode.USAGE, "cannot read " + file + ": " + e.getMessage());
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true, description = {"Check a plan file: every problem with its line, column "
        + "and field.", "Offline by default; --server also checks it against the server's inventory (sites, agents)."})
    static final class Validate extends ApiCommand {
        @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE")
        String file;
        @Option(names = "--server", description = "Also check against the inventory of the server you are logged in to.")
        boolean server;

        @Override
        public Integer call() {
            String yaml = read(env(), file);
            String source = Path.of(file).getFileName().toString();
            List<String> lines = new ArrayList<>();
            List<Map<String, Object>> out = new ArrayList<>();
            if (server) {
                JsonNode r = api().post("/api/v1/plans/validate", Map.of("yaml", yaml, "source", source));
                for (JsonNode p : r.get("problems")) {
                    lines.add(p.get("text").asText());
                    out.add(ApiClient.JSON.convertValue(p, Map.class));
                }
            } else {
                for (Problem p : PlanYaml.validate(yaml)) {
                    lines.add(p.format(source));
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("line", p.line());
                    m.put("column", p.column());
                    m.put("path", p.path());
                    m.put("message", p.message());
                    m.put("text", p.format(source));
                    out.add(m);
                }
            }
            if (json()) {
                println(Output.toJson(Map.of("valid", lines.isEmpty(), "problems", out)));
            } else if (lines.isEmpty()) {
                println(source + ": valid" + (server ? " (also against the server's inventory)" : ""));
            } else {
                lines.forEach(l -> env().err().println(l));
                env().err().println(lines.size() + " problem(s)");
            }
            return lines.isEmpty() ? Main.EXIT_OK : Main.EXIT_FAILURE;
        }
    }

    @Command(name = "apply", mixinStandardHelpOptions = true, description = "Store a plan on the server (admin): a new version when it changed.")
    static final class Apply extends ApiCommand {
        @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE")
        String file;

        @Override
        public Integer call() {
            String yaml = read(env(), file);
            JsonNode r = api().post("/api/v1/plans", Map.of("yaml", yaml, "source", Path.of(file).getFileName().toString()));
            print(r, () -> println("plan " + r.get("name").asText() + (r.get("changed").asBoolean() ? " applied as version "
                    : " unchanged at version ") + r.get("version").asText()));
            return Main.EXIT_OK;
        }
    }

    // not mixinStandardHelpOptions: its --version (Haven's version) would shadow the plan version option
    @Command(name = "export", description = "Print a plan's YAML (the newest version, or --version N).")
    static final class Export extends ApiCommand {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String name;
        @Option(names = "--version", paramLabel = "N")
        Integer version;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/plans/" + ApiClient.q(name) + (version == null ? "" : "?version=" + version));
            if (json()) {
                println(Output.toJson(r));
            } else {
                env().out().print(r.get("yaml").asText());
                env().out().flush();
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List plans.")
    static final class ListPlans extends ApiCommand {
        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/plans");
            table(r, r.get("plans"), List.of("NAME", "VERSION", "FROM", "TO", "MODE", "RPO", "WORKLOADS"), List.of(field("name"),
                    field("version"), field("protectedSite"), field("recoverySite"), field("mode"), n -> n.get("rpoSeconds").asText() + "s",
                    n -> String.join(",", ApiClient.JSON.convertValue(n.get("workloads"), String[].class))));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a plan: sites, mode, RPO, workloads and runbook steps.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String name;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/plans/" + ApiClient.q(name));
            print(r, () -> {
                println("plan " + r.get("name").asText() + " v" + r.get("version").asText() + ": " + r.get("protectedSite").asText() + " → "
                        + r.get("recoverySite").asText() + ", " + r.get("mode").asText() + ", RPO " + r.get("rpoSeconds").asText() + " s");
                println("  workloads: " + String.join(", ", ApiClient.JSON.convertValue(r.get("workloads"), String[].class)));
                if (r.hasNonNull("retention")) {
                    println("  replication points kept: " + keeps(r.get("retention")));
                }
                int i = 1;
                for (JsonNode s : r.get("steps")) {
                    println("  " + i++ + ". " + s.asText());
                }
            });
            return Main.EXIT_OK;
        }
    }

    /** A plan's {@code retention} as {@code last 10, hourly 48, daily 30} (the counts above 0). */
    static String keeps(JsonNode retention) {
        List<String> parts = new java.util.ArrayList<>();
        for (String rule : List.of("last", "hourly", "daily", "weekly", "monthly")) {
            if (retention.path(rule).asInt() > 0) {
                parts.add(rule + " " + retention.get(rule).asInt());
            }
        }
        return String.join(", ", parts);
    }

    @Command(name = "versions", mixinStandardHelpOptions = true, description = "A plan's versions, newest first.")
    static final class Versions extends ApiCommand {
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String name;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/plans/" + ApiClient.q(name) + "/versions");
            table(r, r.get("versions"), List.of("VERSION", "AT", "BY"), List.of(field("version"), field("createdAt"), field("createdBy")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "edit", mixinStandardHelpOptions = true, description = {"Change a stored plan (admin); each change is validated "
        + "and stored as the next version.", "Give one of --add-step, --remove-step, --move-step, --rename-step, --move-workload, "
        + "--remove-workload, --rename-workload."})
    static final class Edit extends ApiCommand {
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String plan;
        @Option(names = "--add-step", paramLabel = "FILE", description = "A YAML file with one step as in the plan's runbook.")
        String addStep;
        @Option(names = "--remove-step", paramLabel = "STEP", description = "A boot step must be empty first.")
        String removeStep;
        @Option(names = "--move-step", paramLabel = "STEP")
        String moveStep;
        @Option(names = "--rename-step", paramLabel = "STEP")
        String renameStep;
        @Option(names = "--move-workload", paramLabel = "WORKLOAD")
        String moveWorkload;
        @Option(names = "--remove-workload", paramLabel = "WORKLOAD")
        String removeWorkload;
        @Option(names = "--rename-workload", paramLabel = "WORKLOAD")
        String renameWorkload;
        @Option(names = "--position", paramLabel = "N", description = "The step's number once added or moved: 1 = first, as "
                + "'plan show' and run reports number steps (default for --add-step: last).")
        Integer position;
        @Option(names = "--to", paramLabel = "BOOT_STEP", description = "The boot step a workload moves to.")
        String to;
        @Option(names = "--name", paramLabel = "NAME", description = "The new name.")
        String name;

        @Override
        public Integer call() throws IOException {
            Map<String, Object> b = new LinkedHashMap<>();
            int given = 0;
            if (addStep != null) {
                given++;
                b.put("edit", "add-step");
                // as text: the server checks the step alone first and reports its problems at this file's lines
                b.put("definitionYaml", read(env(), addStep));
                b.put("source", addStep);
            }
            if (removeStep != null) {
                given++;
                b.put("edit", "remove-step");
                b.put("step", removeStep);
            }
            if (moveStep != null) {
                given++;
                b.put("edit", "move-step");
                b.put("step", moveStep);
            }
            if (renameStep != null) {
                given++;
                b.put("edit", "rename-step");
                b.put("step", renameStep);
            }
            if (moveWorkload != null) {
                given++;
                b.put("edit", "move-workload");
                b.put("workload", moveWorkload);
            }
            if (removeWorkload != null) {
                given++;
                b.put("edit", "remove-workload");
                b.put("workload", removeWorkload);
            }
            if (renameWorkload != null) {
                given++;
                b.put("edit", "rename-workload");
                b.put("workload", renameWorkload);
            }
            if (given != 1) {
                throw new HavenException(ErrorCode.USAGE, "give exactly one edit (--add-step, --remove-step, --move-step, --rename-step, "
                        + "--move-workload, --remove-workload or --rename-workload)");
            }
            if (position != null && position < 1) {
                throw new HavenException(ErrorCode.USAGE, "--position counts from 1 (the first step), as 'plan show' and run reports "
                        + "number steps; not " + position);
            }
            b.put("position", position == null ? null : position - 1); // the API's position is an index
            b.put("to", to);
            b.put("name", name);
            JsonNode r = api().post("/api/v1/plans/" + ApiClient.q(plan) + "/edits", b);
            print(r, () -> {
                println("plan " + r.get("name").asText() + (r.path("changed").asBoolean(true) ? " is now version "
                        : " unchanged (the edit changes nothing) at version ") + r.get("version").asText() + ":");
                int i = 1;
                for (JsonNode s : r.get("steps")) {
                    println("  " + i++ + ". " + s.asText());
                }
            });
            return Main.EXIT_OK;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a plan and its versions (admin).")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "PLAN", description = "The DR plan's name (haven plan list).")
        String name;

        @Override
        public Integer call() {
            JsonNode r = api().send("DELETE", "/api/v1/plans/" + ApiClient.q(name), null);
            print(r, () -> println("plan " + name + " deleted"));
            return Main.EXIT_OK;
        }
    }
}
