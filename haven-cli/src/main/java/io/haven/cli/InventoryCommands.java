package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code haven site|group|repository|policy …}: the inventory, through the server's API only. */
final class InventoryCommands {
    private InventoryCommands() {}

    @Command(name = "site", mixinStandardHelpOptions = true, description = "Sites (where hosts are).",
            subcommands = {SiteList.class, SiteCreate.class})
    static final class Site implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven site --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List sites.")
    static final class SiteList extends ApiCommand {
        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/sites");
            table(r, r.get("sites"), List.of("NAME", "DESCRIPTION"), List.of(field("name"), field("description")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a site (admin).")
    static final class SiteCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--description", paramLabel = "TEXT")
        String description;

        @Override
        public Integer call() {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", name);
            b.put("description", description);
            JsonNode r = api().post("/api/v1/sites", b);
            print(r, () -> println("site " + r.get("name").asText() + " created"));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "group", mixinStandardHelpOptions = true, description = "Groups of hosts (policies attach to groups).",
            subcommands = {GroupList.class, GroupCreate.class, GroupAdd.class, GroupRemove.class, GroupDelete.class})
    static final class Group implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven group --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List groups and their members.")
    static final class GroupList extends ApiCommand {
        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/groups");
            table(r, r.get("groups"), List.of("NAME", "MEMBERS", "DESCRIPTION"), List.of(field("name"),
                    n -> String.join(",", ApiClient.JSON.convertValue(n.get("members"), String[].class)), field("description")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a group (admin).")
    static final class GroupCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--description", paramLabel = "TEXT")
        String description;

        @Override
        public Integer call() {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", name);
            b.put("description", description);
            JsonNode r = api().post("/api/v1/groups", b);
            print(r, () -> println("group " + r.get("name").asText() + " created"));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add agents to a group (admin).")
    static class GroupAdd extends ApiCommand {
        @Parameters(index = "0", paramLabel = "GROUP")
        String group;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "AGENT")
        List<String> agents;

        String path() {
            return "/members";
        }

        @Override
        public Integer call() {
            JsonNode r = api().post("/api/v1/groups/" + ApiClient.q(group) + path(), Map.of("agents", agents));
            print(r, () -> println("group " + r.get("name").asText() + ": " + r.get("members")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove agents from a group (admin).")
    static final class GroupRemove extends GroupAdd {
        @Override
        String path() {
            return "/members/remove";
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a group (admin); refused while a policy or pool uses it.")
    static final class GroupDelete extends ApiCommand {
        @Parameters(paramLabel = "GROUP")
        String group;

        @Override
        public Integer call() {
            JsonNode r = api().send("DELETE", "/api/v1/groups/" + ApiClient.q(group), null);
            print(r, () -> println("group " + group + " deleted"));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "repository", mixinStandardHelpOptions = true, description = "Repositories the server holds for its agents.",
            subcommands = {RepoList.class, RepoCreate.class})
    static final class Repo implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven repository --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List repositories.")
    static final class RepoList extends ApiCommand {
        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/repositories");
            table(r, r.get("repositories"), List.of("NAME", "LOCATION"), List.of(field("name"), field("location")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = {"Register a repository on the server (admin): "
            + "created when the directory is empty or missing, else opened with the password.",
        "The password comes from HAVEN_PASSWORD, --password-file or a prompt."})
    static final class RepoCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "The repository's name on the server.")
        String name;
        @Option(names = "--location", required = true, paramLabel = "DIR", description = "A directory on the server's host.")
        String location;

        @Override
        boolean readsRepositoryPassword() {
            return true;
        }

        @Override
        public Integer call() {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", name);
            b.put("location", location);
            b.put("password", new String(password(true)));
            JsonNode r = api().post("/api/v1/repositories", b);
            print(r, () -> println("repository " + r.get("name").asText() + " at " + r.get("location").asText()
                    + (r.path("created").asBoolean() ? " created" : " registered")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "policy", mixinStandardHelpOptions = true, description = "Backup policies (attached to groups).",
            subcommands = {PolicyList.class, PolicyShow.class, PolicyCreate.class, PolicySet.class, PolicyDelete.class})
    static final class Policy implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven policy --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List policies.")
    static final class PolicyList extends ApiCommand {
        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/policies");
            table(r, r.get("policies"), List.of("NAME", "GROUP", "REPOSITORY", "SCHEDULE", "ZONE", "NEXT BACKUP"),
                    List.of(field("name"), field("group"), field("repository"), field("schedule"), field("timezone"), field("nextBackupAt")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Change a policy (admin); only the options given change.")
    static final class PolicySet extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--schedule", paramLabel = "WHEN")
        String schedule;
        @Option(names = "--timezone", paramLabel = "ZONE")
        String timezone;
        @Option(names = "--exclude", paramLabel = "PATTERN", description = "Replaces the excludes (repeatable).")
        List<String> excludes;
        @Option(names = "--bwlimit", paramLabel = "RATE", description = "0 for none.")
        String bwlimit;
        @Option(names = "--maintenance", paramLabel = "WHEN")
        String maintenance;

        @Override
        public Integer call() {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("schedule", schedule);
            b.put("timezone", timezone);
            b.put("excludes", excludes);
            b.put("bandwidthLimit", bwlimit == null ? null : bwlimit.equals("0") ? 0L : DataSize.parse(bwlimit.replace("/s", "")).bytes());
            b.put("maintenanceSchedule", maintenance);
            JsonNode r = api().post("/api/v1/policies/" + ApiClient.q(name), b);
            print(r, () -> println("policy " + r.get("name").asText() + " changed; next backup " + r.get("nextBackupAt").asText()));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a policy (admin); its jobs stay in the history.")
    static final class PolicyDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            JsonNode r = api().send("DELETE", "/api/v1/policies/" + ApiClient.q(name), null);
            print(r, () -> println("policy " + name + " deleted"));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a policy.")
    static final class PolicyShow extends ApiCommand {
        @Parameters(paramLabel = "POLICY")
        String name;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/policies/" + ApiClient.q(name));
            print(r, () -> println(Output.toPrettyJson(r)));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a backup policy for a group (admin).")
    static final class PolicyCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--group", required = true, paramLabel = "GROUP")
        String group;
        @Option(names = "--repository", required = true, paramLabel = "REPOSITORY")
        String repository;
        @Option(names = "--schedule", required = true, paramLabel = "WHEN", description = "Cron ('0 2 * * *') or an interval ('every 6h').")
        String schedule;
        @Option(names = "--timezone", paramLabel = "ZONE", description = "IANA time zone of the schedule (default UTC).")
        String timezone;
        @Option(names = "--exclude", paramLabel = "PATTERN", description = "Excluded from every workload (repeatable).")
        List<String> excludes = new ArrayList<>();
        @Option(names = "--bwlimit", paramLabel = "RATE", description = "Upload limit per agent, e.g. 10MiB (per second).")
        String bwlimit;
        @Option(names = "--keep-last", paramLabel = "N")
        int last;
        @Option(names = "--keep-hourly", paramLabel = "N")
        int hourly;
        @Option(names = "--keep-daily", paramLabel = "N")
        int daily;
        @Option(names = "--keep-weekly", paramLabel = "N")
        int weekly;
        @Option(names = "--keep-monthly", paramLabel = "N")
        int monthly;
        @Option(names = "--keep-yearly", paramLabel = "N")
        int yearly;
        @Option(names = "--keep-within", paramLabel = "DURATION")
        String within;
        @Option(names = "--maintenance", paramLabel = "WHEN", description = "When retention (forget + prune) runs (default '0 4 * * *').")
        String maintenance;

        @Override
        public Integer call() {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", name);
            b.put("group", group);
            b.put("repository", repository);
            b.put("schedule", schedule);
            b.put("timezone", timezone);
            b.put("excludes", excludes);
            b.put("bandwidthLimit", bwlimit == null ? 0 : DataSize.parse(bwlimit.replace("/s", "")).bytes());
            if (last != 0 || hourly != 0 || daily != 0 || weekly != 0 || monthly != 0 || yearly != 0 || within != null) {
                // sent as given (a negative count too), so that the server refuses what it cannot apply
                Map<String, Object> keep = new LinkedHashMap<>();
                keep.put("keepLast", last);
                keep.put("keepHourly", hourly);
                keep.put("keepDaily", daily);
                keep.put("keepWeekly", weekly);
                keep.put("keepMonthly", monthly);
                keep.put("keepYearly", yearly);
                keep.put("keepWithin", within);
                b.put("retention", keep);
            }
            b.put("maintenanceSchedule", maintenance);
            JsonNode r = api().post("/api/v1/policies", b);
            print(r, () -> println("policy " + r.get("name").asText() + " created; next backup " + r.get("nextBackupAt").asText()));
            return Main.EXIT_OK;
        }
    }
}
