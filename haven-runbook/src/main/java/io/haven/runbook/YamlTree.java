package io.haven.runbook;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * A YAML document as a tree whose every node, and every mapping key, knows its line and column.
 * Jackson's {@code JsonNode} trees drop locations, so the tree is built here from the YAML
 * parser's tokens. Syntax errors and duplicate keys become problems; parsing stops at a syntax
 * error.
 */
final class YamlTree {
    private static final YAMLFactory YAML = YAMLFactory.builder().build();

    record Mark(int line, int column) {
        static final Mark NONE = new Mark(0, 0);

        static Mark of(JsonLocation l) {
            return l == null || l.getLineNr() < 1 ? NONE : new Mark(l.getLineNr(), Math.max(l.getColumnNr(), 1));
        }
    }

    sealed interface Node {
        Mark at();

        /** A word for what the node is, for "must be X, not Y" messages. */
        default String what() {
            return switch (this) {
                case MapNode m -> "a mapping";
                case ListNode l -> "a list";
                case ScalarNode s -> switch (s.kind()) {
                    case STRING -> "the text \"" + s.text() + "\"";
                    case INT, FLOAT -> "the number " + s.text();
                    case BOOL -> s.text();
                    case NULL -> "nothing";
                };
            };
        }
    }

    record Entry(String key, Mark keyAt, Node value) {}

    record MapNode(Mark at, Map<String, Entry> entries) implements Node {}

    record ListNode(Mark at, List<Node> items) implements Node {}

    enum Kind { STRING, INT, FLOAT, BOOL, NULL }

    /** A single value; {@code number} is the value of an INT (YAML allows 0x1F, 1_000), null otherwise or when too large. */
    record ScalarNode(Mark at, Kind kind, String text, Long number) implements Node {
        ScalarNode(Mark at, Kind kind, String text) {
            this(at, kind, text, null);
        }
    }

    private final JsonParser parser;
    private final List<Problem> problems;

    private YamlTree(JsonParser parser, List<Problem> problems) {
        this.parser = parser;
        this.problems = problems;
    }

    /**
     * Parses the first document of {@code yaml}. Returns null (with a problem added) when the text
     * holds no document or is not YAML.
     */
    static Node parse(String yaml, List<Problem> problems) {
        try (JsonParser p = YAML.createParser(yaml)) {
            YamlTree t = new YamlTree(p, problems);
            JsonToken first = p.nextToken();
            if (first == null) {
                problems.add(new Problem(0, 0, "", "the plan is empty"));
                return null;
            }
            Node root = t.node(first);
            JsonToken more = p.nextToken();
            if (more != null) {
                Mark m = Mark.of(p.currentTokenLocation());
                problems.add(new Problem(m.line(), m.column(), "", "a plan file holds one YAML document; remove the second one (after ---)"));
            }
            return root;
        } catch (JsonProcessingException e) {
            Mark m = Mark.of(e.getLocation());
            String msg = e.getOriginalMessage().lines().findFirst().orElse("not valid YAML");
            if (e.getCause() instanceof MarkedYAMLException y && y.getProblemMark() != null) {
                // SnakeYAML knows where the problem is; Jackson only where it stopped reading
                m = new Mark(y.getProblemMark().getLine() + 1, y.getProblemMark().getColumn() + 1);
                msg = (y.getContext() != null ? y.getContext() + ": " : "") + y.getProblem();
            }
            problems.add(new Problem(m.line(), m.column(), "", "not valid YAML: " + msg));
            return null;
        } catch (IOException e) {
            problems.add(new Problem(0, 0, "", "cannot read the plan: " + e.getMessage()));
            return null;
        }
    }

    private Long longValue() throws IOException {
        try {
            return parser.getLongValue();
        } catch (InputCoercionException e) {
            return null;
        }
    }

    private Node node(JsonToken t) throws IOException {
        Mark at = Mark.of(parser.currentTokenLocation());
        return switch (t) {
            case START_OBJECT -> {
                Map<String, Entry> entries = new LinkedHashMap<>();
                for (JsonToken k = parser.nextToken(); k != JsonToken.END_OBJECT; k = parser.nextToken()) {
                    String key = parser.currentName();
                    Mark keyAt = Mark.of(parser.currentTokenLocation());
                    Node value = node(parser.nextToken());
                    if (entries.containsKey(key)) {
                        problems.add(new Problem(keyAt.line(), keyAt.column(), "", "key '" + key + "' appears twice in one mapping (first on line "
                                + entries.get(key).keyAt().line() + ")"));
                    } else {
                        entries.put(key, new Entry(key, keyAt, value));
                    }
                }
                yield new MapNode(at, Collections.unmodifiableMap(entries));
            }
            case START_ARRAY -> {
                List<Node> items = new ArrayList<>();
                for (JsonToken i = parser.nextToken(); i != JsonToken.END_ARRAY; i = parser.nextToken()) {
                    items.add(node(i));
                }
                yield new ListNode(at, List.copyOf(items));
            }
            case VALUE_STRING, VALUE_EMBEDDED_OBJECT -> new ScalarNode(at, Kind.STRING, parser.getText());
            case VALUE_NUMBER_INT -> new ScalarNode(at, Kind.INT, parser.getText(), longValue());
            case VALUE_NUMBER_FLOAT -> new ScalarNode(at, Kind.FLOAT, parser.getText());
            case VALUE_TRUE, VALUE_FALSE -> new ScalarNode(at, Kind.BOOL, parser.getText());
            case VALUE_NULL -> new ScalarNode(at, Kind.NULL, "");
            default -> throw new IOException("unexpected YAML token " + t);
        };
    }
}
