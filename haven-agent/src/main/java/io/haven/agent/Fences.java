package io.haven.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Codec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The DR plans fenced at this agent's site: the agent refuses to start their workloads (no split
 * brain). The server sends the whole list with every task batch and heartbeat reply; the newest
 * list replaces the one held here and is written to {@code AGENT_HOME/fenced.json} (atomically),
 * so an agent restarted while the server is away still refuses. A list the server left out
 * (an older server) changes nothing.
 *
 * <p>When {@code fenced.json} exists but cannot be read, nothing is known about fences, so every
 * plan counts as fenced until the server sends a list. Thread-safe.
 */
final class Fences {
    static final String FILE = "fenced.json";

    private final Path file;
    private Set<String> plans;
    /** Why nothing is known (fenced.json unreadable), or null. */
    private String unknown;

    private Fences(Path file, Set<String> plans, String unknown) {
        this.file = file;
        this.plans = plans;
        this.unknown = unknown;
    }

    /** The fences kept in {@code home}; none when the file does not exist yet. */
    static Fences load(Path home) {
        Path f = home.resolve(FILE);
        if (!Files.exists(f)) {
            return new Fences(f, Set.of(), null);
        }
        try {
            JsonNode n = Codec.mapper().readTree(Files.readAllBytes(f));
            JsonNode list = n == null ? null : n.get("fenced");
            if (list == null || !list.isArray()) {
                return new Fences(f, Set.of(), f + " holds no 'fenced' list");
            }
            Set<String> s = new TreeSet<>();
            list.forEach(x -> s.add(x.asText()));
            return new Fences(f, Set.copyOf(s), null);
        } catch (IOException | RuntimeException e) {
            return new Fences(f, Set.of(), f + " is unreadable (" + e.getMessage() + ")");
        }
    }

    /**
     * Takes the server's newest list (null: the server did not say, nothing changes) and writes it
     * to disk when it differs from what is held.
     *
     * @throws HavenException IO when the list cannot be written (the new list is held anyway)
     */
    synchronized void update(List<String> fenced) {
        if (fenced == null) {
            return;
        }
        Set<String> next = Set.copyOf(new TreeSet<>(fenced));
        if (next.equals(plans) && unknown == null) {
            return;
        }
        plans = next;
        unknown = null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fenced", new ArrayList<>(new TreeSet<>(next)));
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(FILE + ".tmp");
            Files.writeString(tmp, Codec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot write the fenced plans to " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Why {@code plan}'s workloads may not start at this agent's {@code site} (null for "unknown"),
     * or null when they may.
     */
    synchronized String refusal(String plan, String site) {
        String where = site == null ? "this agent's site" : "site " + site;
        if (unknown != null) {
            return "plan " + plan + " may be fenced at " + where + ": " + unknown + " and the server has not sent the fenced "
                    + "plans since this agent started; it starts no DR workload until it does (no split brain)";
        }
        return plans.contains(plan) ? "plan " + plan + " is fenced at " + where + ": this site's agents do not start its "
                + "workloads (no split brain)" : null;
    }

    /** The fenced plans as held now. */
    synchronized Set<String> plans() {
        return plans;
    }
}
