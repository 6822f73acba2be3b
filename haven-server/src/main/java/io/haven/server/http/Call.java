package io.haven.server.http;

import io.haven.server.auth.Tokens;
import io.haven.server.auth.User;
import java.util.Map;

/**
 * One request as an endpoint sees it. Endpoints may set {@link #auditActor} (when the caller is
 * not yet identified, as in a login) and {@link #auditTarget} (what was changed). Used by one
 * thread at a time.
 */
public final class Call {
    /** Who is calling: the user and the kind of token presented. */
    public record Principal(User user, Tokens.Kind via) {}

    private final String method;
    private final String path;
    private final Map<String, String> query;
    private final byte[] body;
    private final String address;
    private final Principal principal;
    String auditActor;
    String auditTarget;

    Call(String method, String path, Map<String, String> query, byte[] body, String address, Principal principal) {
        this.method = method;
        this.path = path;
        this.query = Map.copyOf(query);
        this.body = body;
        this.address = address;
        this.principal = principal;
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    public String query(String name) {
        return query.get(name);
    }

    public byte[] body() {
        return body;
    }

    public String address() {
        return address;
    }

    /** The caller; null only on routes that need no credentials. */
    public Principal principal() {
        return principal;
    }

    public void auditActor(String actor) {
        this.auditActor = actor;
    }

    public void auditTarget(String target) {
        this.auditTarget = target;
    }
}
