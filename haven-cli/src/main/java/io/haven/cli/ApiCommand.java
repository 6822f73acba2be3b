package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** A command that speaks only the server's REST API, with the saved login (see {@link LoginStore}). */
abstract class ApiCommand extends RepoCommand {
    /** True for the commands that read a repository's password (to send it to the server): they keep {@code --password-file}. */
    boolean readsRepositoryPassword() {
        return false;
    }

    ApiClient api() {
        LoginStore.Login l = LoginStore.of(env()).load(env());
        return new ApiClient(l.server(), l.caPem(), l.token());
    }

    /** Prints the server's JSON with --json, else {@code text}. */
    void print(JsonNode n, Runnable text) {
        if (json()) {
            println(Output.toJson(n));
        } else {
            text.run();
        }
    }

    /** Prints rows as an aligned table (or the JSON with --json). */
    void table(JsonNode whole, JsonNode rows, List<String> headers, List<Function<JsonNode, String>> columns) {
        if (json()) {
            println(Output.toJson(whole));
            return;
        }
        List<String[]> lines = new ArrayList<>();
        lines.add(headers.toArray(String[]::new));
        for (JsonNode r : rows) {
            String[] l = new String[columns.size()];
            for (int i = 0; i < l.length; i++) {
                String v = columns.get(i).apply(r);
                l[i] = v == null ? "-" : v;
            }
            lines.add(l);
        }
        int[] w = new int[headers.size()];
        for (String[] l : lines) {
            for (int i = 0; i < l.length; i++) {
                w[i] = Math.max(w[i], l[i].length());
            }
        }
        for (String[] l : lines) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < l.length; i++) {
                sb.append(i == l.length - 1 ? l[i] : String.format("%-" + w[i] + "s  ", l[i]));
            }
            println(sb.toString().stripTrailing());
        }
        if (rows.isEmpty()) {
            println("(none)");
        }
    }

    static Function<JsonNode, String> field(String name) {
        return n -> n.hasNonNull(name) ? (n.get(name).isContainerNode() ? n.get(name).toString() : n.get(name).asText()) : null;
    }
}
