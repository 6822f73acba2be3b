package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.haven.agent.AgentDaemon;
import io.haven.agent.Enroller;
import io.haven.agent.HostProbe;
import io.haven.agent.Identity;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code haven agent …}: on a protected host, {@code enroll} and {@code run}; for operators,
 * {@code token}, {@code list}, {@code show}, {@code disable}, {@code enable}, {@code revoke} and
 * {@code set} through the API.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "Run a Haven agent on this host, or manage agents.",
        subcommands = {AgentCommand.Enroll.class, AgentCommand.Run.class, AgentCommand.Token.class, AgentCommand.ListAgents.class,
            AgentCommand.Show.class, AgentCommand.Disable.class, AgentCommand.Enable.class, AgentCommand.Revoke.class,
            AgentCommand.Set.class})
final class AgentCommand implements Runnable {
    @Override
    public void run() {
        throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven agent --help'");
    }

    static Path dir(Env env, String dir) {
        return env.resolve(dir != null ? dir : env.get("HAVEN_AGENT_DIR", "/var/lib/haven-agent"));
    }

    static Map<String, String> labels(List<String> kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String s : kv) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new HavenException(ErrorCode.USAGE, "a label is KEY=VALUE, not '" + s + "'");
            }
            m.put(s.substring(0, eq), s.substring(eq + 1));
        }
        return m;
    }

    @Command(name = "enroll", mixinStandardHelpOptions = true, description = "Enrol this host with a server, using a one-time token.")
    static final class Enroll extends RepoCommand {
        @Option(names = "--server", required = true, paramLabel = "URL", description = "The server, e.g. https://10.0.0.5:8443.")
        String server;
        @Option(names = "--token", required = true, paramLabel = "TOKEN", description = "The one-time token (hve_….PIN) from 'haven agent token'.")
        String token;
        @Option(names = "--name", paramLabel = "NAME", description = "This agent's name (default: the host name).")
        String name;
        @Option(names = "--site", paramLabel = "SITE", description = "The site this host is at.")
        String site;
        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label (repeatable).")
        List<String> labels = new java.util.ArrayList<>();
        @Option(names = "--dir", paramLabel = "DIR", description = "Where the agent keeps its key and certificate (default: $HAVEN_AGENT_DIR or /var/lib/haven-agent).")
        String dir;

        @Override
        public Integer call() {
            var facts = HostProbe.facts();
            String n = name != null ? name : facts.hostname();
            Identity id = Enroller.enroll(URI.create(server), token, n, site, labels(labels), facts, dir(env(), dir), new SecureRandom());
            if (json()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("agentId", id.agentId());
                m.put("name", id.name());
                m.put("site", id.site());
                m.put("dir", id.dir().toString());
                println(Output.toJson(m));
            } else {
                println("enrolled as agent '" + id.name() + "' (id " + id.agentId() + ")" + (id.site() == null ? "" : " at site " + id.site())
                        + "; certificate and key in " + id.dir());
                println("start it with: haven agent run --dir " + id.dir());
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the agent until stopped (SIGTERM or Ctrl-C).")
    static final class Run extends RepoCommand {
        @Option(names = "--dir", paramLabel = "DIR", description = "The enrolled agent's directory (default: $HAVEN_AGENT_DIR or /var/lib/haven-agent).")
        String dir;
        @Option(names = "--max-tasks", paramLabel = "N", defaultValue = "2", description = "Tasks run at once (default: ${DEFAULT-VALUE}).")
        int maxTasks;

        @Override
        public Integer call() throws InterruptedException {
            Identity id = Identity.load(dir(env(), dir));
            AgentDaemon d = new AgentDaemon(id, new AgentDaemon.Options(maxTasks, threads(), Duration.ofSeconds(2), env().err()));
            CountDownLatch done = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                d.close();
                try {
                    done.await(java.util.concurrent.TimeUnit.SECONDS.toMillis(10), java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                d.run();
            } finally {
                done.countDown();
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true, description = "Make a one-time enrolment token (admin).")
    static final class Token extends ApiCommand {
        @Option(names = "--site", paramLabel = "SITE", description = "Enrol into this site.")
        String site;
        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Labels the agent gets (repeatable).")
        List<String> labels = new java.util.ArrayList<>();
        @Option(names = "--expires", paramLabel = "MINUTES", defaultValue = "60", description = "Lifetime in minutes (default: ${DEFAULT-VALUE}).")
        int minutes;

        @Override
        public Integer call() {
            ApiClient api = api();
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("site", site);
            body.put("labels", labels(labels));
            body.put("expiresInMinutes", minutes);
            JsonNode r = api.post("/api/v1/enrollment-tokens", body);
            print(r, () -> {
                println(r.get("token").asText());
                println("valid once, until " + r.get("expiresAt").asText() + "; on the host run:");
                println("  haven agent enroll --server " + api.base() + " --token " + r.get("token").asText());
            });
            return Main.EXIT_OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List agents.")
    static final class ListAgents extends ApiCommand {
        /** Agents asked for per request: 1,000 agents with their host facts are about 650 KB. */
        static final int PAGE = 500;

        @Override
        public Integer call() {
            ApiClient api = api();
            ObjectNode r = JsonNodeFactory.instance.objectNode();
            ArrayNode all = r.putArray("agents");
            all.addAll(fetchAll(api::get, PAGE));
            table(r, all, List.of("NAME", "SITE", "STATE", "ONLINE", "LAST SEEN", "TASKS", "HOST"),
                    List.of(field("name"), field("site"), field("state"), field("online"), field("lastSeenAt"), field("maxTasks"),
                            n -> n.path("facts").path("hostname").asText(null)));
            return Main.EXIT_OK;
        }

        /**
         * Every agent, read page by page through {@code get} (a path under /api/v1 to its JSON
         * reply). A server without paging answers everything at once, without {@code next}. A
         * {@code next} that comes back again (or a page without agents) is the server's error,
         * not a reason to ask forever.
         */
        static List<JsonNode> fetchAll(java.util.function.Function<String, JsonNode> get, int pageSize) {
            List<JsonNode> all = new java.util.ArrayList<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            String after = null;
            while (true) {
                JsonNode page = get.apply("/api/v1/agents?limit=" + pageSize + (after == null ? "" : "&after=" + ApiClient.q(after)));
                page.path("agents").forEach(all::add);
                String next = page.path("next").isTextual() ? page.get("next").asText() : null;
                if (next == null) {
                    return all;
                }
                if (page.path("agents").isEmpty() || !seen.add(next)) {
                    throw new HavenException(ErrorCode.INTERNAL, "the server's agent list does not advance past '" + next
                            + "'; try again, or upgrade the server");
                }
                after = next;
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one agent with its host facts.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "AGENT")
        String agent;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/agents/" + ApiClient.q(agent));
            print(r, () -> println(Output.toPrettyJson(r)));
            return Main.EXIT_OK;
        }
    }

    abstract static class StateChange extends ApiCommand {
        @Parameters(paramLabel = "AGENT")
        String agent;

        abstract String action();

        @Override
        public Integer call() {
            JsonNode r = api().post("/api/v1/agents/" + ApiClient.q(agent) + "/" + action(), Map.of());
            print(r, () -> println("agent " + r.get("name").asText() + " is " + r.get("state").asText()));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true, description = "Refuse an agent's calls until it is enabled (admin).")
    static final class Disable extends StateChange {
        String action() {
            return "disable";
        }
    }

    @Command(name = "enable", mixinStandardHelpOptions = true, description = "Accept a disabled agent again (admin).")
    static final class Enable extends StateChange {
        String action() {
            return "enable";
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke an agent's certificate for good (admin).")
    static final class Revoke extends StateChange {
        String action() {
            return "revoke";
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Change an agent's site or labels (admin).")
    static final class Set extends ApiCommand {
        @Parameters(paramLabel = "AGENT")
        String agent;
        @Option(names = "--site", paramLabel = "SITE", description = "Move it to this site ('' for none).")
        String site;
        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Replace its labels (repeatable).")
        List<String> labels;

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("site", site);
            body.put("labels", labels == null ? null : labels(labels));
            JsonNode r = api().post("/api/v1/agents/" + ApiClient.q(agent), body);
            print(r, () -> println("agent " + r.get("name").asText() + ": site " + r.path("site").asText("-") + ", labels "
                    + r.get("labels")));
            return Main.EXIT_OK;
        }
    }
}
