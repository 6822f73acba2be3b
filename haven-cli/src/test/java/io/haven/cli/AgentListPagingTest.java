package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.haven.core.HavenException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * {@code haven agent list} reads the agents page by page. A hand-written fake of the server's
 * paging ({@code GET /api/v1/agents?limit=N&after=NAME}, see ControlPlaneTest for the server's
 * side) answers here, so that several pages are read without enrolling hundreds of agents.
 */
class AgentListPagingTest {
    /** Answers like the server: names in order, at most {@code limit} after {@code after}, and 'next'. */
    private static final class FakeServer implements Function<String, JsonNode> {
        final List<String> names;
        final List<String> asked = new ArrayList<>();
        final boolean paging;

        FakeServer(List<String> names, boolean paging) {
            this.names = names;
            this.paging = paging;
        }

        @Override
        public JsonNode apply(String path) {
            asked.add(path);
            int limit = Integer.parseInt(param(path, "limit"));
            String after = param(path, "after");
            ObjectNode r = JsonNodeFactory.instance.objectNode();
            ArrayNode agents = r.putArray("agents");
            List<String> rest = names.stream().filter(n -> after == null || n.compareTo(after) > 0).toList();
            List<String> page = paging ? rest.subList(0, Math.min(limit, rest.size())) : names;
            page.forEach(n -> agents.addObject().put("name", n));
            if (paging) {
                r.put("next", rest.size() > limit ? page.get(page.size() - 1) : null);
            }
            return r;
        }

        private static String param(String path, String name) {
            for (String kv : path.substring(path.indexOf('?') + 1).split("&")) {
                if (kv.startsWith(name + "=")) {
                    return URLDecoder.decode(kv.substring(name.length() + 1), StandardCharsets.UTF_8);
                }
            }
            return null;
        }
    }

    private static List<String> names(List<JsonNode> agents) {
        return agents.stream().map(a -> a.get("name").asText()).toList();
    }

    @Test
    void readsEveryPageInOrder() {
        List<String> all = List.of("a1", "a2", "b 1", "b&2", "c1");
        FakeServer server = new FakeServer(all, true);

        assertThat(names(AgentCommand.ListAgents.fetchAll(server, 2))).containsExactlyElementsOf(all);
        assertThat(server.asked).containsExactly("/api/v1/agents?limit=2", "/api/v1/agents?limit=2&after=a2",
                "/api/v1/agents?limit=2&after=b%262");
    }

    @Test
    void anExactMultipleOfThePageEndsWithoutAnEmptyPage() {
        FakeServer server = new FakeServer(List.of("a", "b", "c", "d"), true);

        assertThat(names(AgentCommand.ListAgents.fetchAll(server, 2))).containsExactly("a", "b", "c", "d");
        assertThat(server.asked).hasSize(2);
    }

    @Test
    void aServerWithoutPagingAnswersOnce() {
        FakeServer server = new FakeServer(List.of("a", "b", "c"), false);

        assertThat(names(AgentCommand.ListAgents.fetchAll(server, 2))).containsExactly("a", "b", "c");
        assertThat(server.asked).hasSize(1);
    }

    @Test
    void aNextThatDoesNotAdvanceIsAnErrorNotAnEndlessLoop() {
        Function<String, JsonNode> stuck = path -> {
            ObjectNode r = JsonNodeFactory.instance.objectNode();
            r.putArray("agents").addObject().put("name", "a");
            r.put("next", "a");
            return r;
        };

        assertThatThrownBy(() -> AgentCommand.ListAgents.fetchAll(stuck, 2)).isInstanceOf(HavenException.class)
                .hasMessageContaining("does not advance past 'a'");
    }

    @Test
    void aNextThatComesBackInACycleIsAnErrorToo() {
        Function<String, JsonNode> cycling = path -> {
            ObjectNode r = JsonNodeFactory.instance.objectNode();
            boolean atB = path.endsWith("after=a");
            r.putArray("agents").addObject().put("name", atB ? "b" : "a");
            r.put("next", atB ? "b" : "a");
            if (path.endsWith("after=b")) {
                r.put("next", "a"); // back to the start
            }
            return r;
        };

        assertThatThrownBy(() -> AgentCommand.ListAgents.fetchAll(cycling, 1)).isInstanceOf(HavenException.class)
                .hasMessageContaining("does not advance past 'a'");
    }
}
