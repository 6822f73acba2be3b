package io.haven.server.http;

import io.haven.server.auth.Role;
import java.util.Objects;

/**
 * A method and path served by an endpoint. A path segment written {@code {name}} matches any one
 * segment, read with {@link Call#param}. Who may call:
 * <ul>
 *   <li>{@link Access#PUBLIC}: anyone (health, login, enrolment);
 *   <li>{@link Access#USER}: a valid bearer token of a user with at least {@code role};
 *   <li>{@link Access#AGENT}: an enrolled, active agent, identified by its client certificate.
 * </ul>
 * {@code audited} routes write an audit row when they are mutating (agents' telemetry — heartbeats,
 * polls, progress — is not audited: it would bury the operators' actions).
 */
public record Route(String method, String path, Access access, Role role, boolean audited, Endpoint endpoint) {
    /** Who may call a route. */
    public enum Access { PUBLIC, USER, AGENT }

    /** The code behind a route. Exceptions become JSON errors (see {@link Router}). */
    @FunctionalInterface
    public interface Endpoint {
        Reply handle(Call call) throws Exception;
    }

    public Route {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(endpoint, "endpoint");
        if ((access == Access.USER) != (role != null)) {
            throw new IllegalArgumentException("a role is given exactly for user routes: " + method + " " + path);
        }
    }

    /** A user route when {@code role} is set, else a public one (audited when mutating). */
    public Route(String method, String path, Role role, Endpoint endpoint) {
        this(method, path, role == null ? Access.PUBLIC : Access.USER, role, true, endpoint);
    }

    /** A route only enrolled agents may call. */
    public static Route agent(String method, String path, boolean audited, Endpoint endpoint) {
        return new Route(method, path, Access.AGENT, null, audited, endpoint);
    }

    public boolean mutating() {
        return !method.equals("GET") && !method.equals("HEAD");
    }

    /** Whether the path has {@code {name}} segments. */
    public boolean templated() {
        return path.contains("{");
    }
}
