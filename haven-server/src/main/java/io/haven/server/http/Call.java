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
    public record Principal(User user, Tokens.Kind via, long tokenId) {}

    /** An enrolled agent, identified by the client certificate it presented. */
    public record AgentPrincipal(long id, String name, java.security.cert.X509Certificate certificate) {}

    private final String method;
    private final String path;
    private final Map<String, String> query;
    private final byte[] body;
    private final String address;
    private final Principal principal;
    private final AgentPrincipal agent;
    private final Map<String, String> params;
    String auditActor;
    String auditTarget;

    Call(String method, String path, Map<String, String> query, byte[] body, String address, Principal principal,
            AgentPrincipal agent, Map<String, String> params) {
        this.agent = agent;
        this.params = Map.copyOf(params);
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

    /** A {@code {name}} segment of the route's path; null when the route has none of that name. */
    public String param(String name) {
        return params.get(name);
    }

    /** A numeric path segment; USAGE when it is not a positive number. */
    public long longParam(String name) {
        String v = params.get(name);
        try {
            long n = Long.parseLong(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new io.haven.core.HavenException(io.haven.core.ErrorCode.USAGE, name + " must be a positive number, not '" + v + "'");
    }

    /** The calling agent on agent routes; null elsewhere. */
    public AgentPrincipal agent() {
        return agent;
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
