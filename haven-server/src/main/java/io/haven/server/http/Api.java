package io.haven.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;

/**
 * Reading request bodies and writing JSON replies, shared by the endpoint classes. Unknown fields
 * in a user's request are refused (the mapper is configured so), so a typo is an error rather than
 * a silently ignored setting. Thread-safe.
 */
public final class Api {
    private final ObjectMapper json;

    public Api(ObjectMapper json) {
        this.json = json;
    }

    public ObjectMapper json() {
        return json;
    }

    /** The body as a {@code type}; USAGE when there is none. */
    public <T> T read(Call c, Class<T> type) throws IOException {
        if (c.body().length == 0) {
            throw new HavenException(ErrorCode.USAGE, c.method() + " " + c.path() + " needs a JSON body");
        }
        return json.readValue(c.body(), type);
    }

    /** The body as a {@code type}, or {@code empty} when there is no body. */
    public <T> T readOr(Call c, Class<T> type, T empty) throws IOException {
        return c.body().length == 0 ? empty : json.readValue(c.body(), type);
    }

    public Reply ok(Object body) throws IOException {
        return reply(200, body);
    }

    public Reply created(Object body) throws IOException {
        return reply(201, body);
    }

    public Reply reply(int status, Object body) throws IOException {
        return new Reply(status, "application/json", json.writeValueAsBytes(body));
    }

    /** A positive integer query parameter with a default and a maximum. */
    public static int intQuery(Call c, String name, int dflt, int max) {
        String v = c.query(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new HavenException(ErrorCode.USAGE, name + " must be a number from 0 to " + max + ", not '" + v + "'");
    }

    /** A required, non-blank text field. */
    public static String required(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "'" + field + "' is required");
        }
        return value;
    }

    /** Names of inventory objects: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit. */
    public static String name(String value, String what) {
        required(value, "name");
        if (!value.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new HavenException(ErrorCode.USAGE, "a " + what + " name is 1 to 64 letters, digits, '.', '_' or '-', "
                    + "starting with a letter or digit; '" + value + "' is not");
        }
        return value;
    }
}
