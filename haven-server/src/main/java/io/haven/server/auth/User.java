package io.haven.server.auth;

import java.time.Instant;
import java.util.Objects;

/** A person (or script owner) who may call the API. */
public record User(long id, String username, Role role, Instant createdAt, boolean disabled) {
    public User {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
