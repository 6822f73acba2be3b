package io.haven.server.http;

import io.haven.server.auth.Role;
import java.util.Objects;

/**
 * A method and path (exact match) served by an endpoint. {@code role} null means no
 * credentials are needed; otherwise the caller needs a valid token of a user with at least that role.
 */
public record Route(String method, String path, Role role, Endpoint endpoint) {
    /** The code behind a route. Exceptions become JSON errors (see {@link Router}). */
    @FunctionalInterface
    public interface Endpoint {
        Reply handle(Call call) throws Exception;
    }

    public Route {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(endpoint, "endpoint");
    }

    public boolean mutating() {
        return !method.equals("GET") && !method.equals("HEAD");
    }
}
