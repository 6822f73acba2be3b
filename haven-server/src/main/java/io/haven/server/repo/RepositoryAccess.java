package io.haven.server.repo;

import io.haven.repository.backend.Backend;
import java.util.Objects;
import org.eclipse.jetty.server.Request;

/**
 * Who may use which repository through {@link RepositoryHandler}, and how. The handler asks once
 * per request, before it reads anything of the request but its path. The server's implementation
 * identifies the caller (an agent by its client certificate, say); tests supply a fake.
 *
 * <p>Implementations are thread safe: Jetty calls them from many threads at once.
 */
@FunctionalInterface
public interface RepositoryAccess {
    /**
     * What the caller of {@code request} may do with {@code repository} (the path segment after
     * {@code /repo/v1/}, decoded).
     *
     * @throws io.haven.core.HavenException UNAUTHENTICATED (HTTP 401) when the caller is not
     *     identified, FORBIDDEN (403) when it may not use this repository, NOT_FOUND (404) when
     *     there is no such repository; the message goes to the caller, so it must not reveal more
     *     than the caller may know
     */
    Grant authorize(Request request, String repository);

    /**
     * Access granted to one request.
     *
     * @param backend where the repository's objects are; shared by requests, never closed by the handler
     * @param appendOnly whether the caller may only add objects (see {@link AppendOnlyRule}); false is full access
     * @param actor who the caller is, for messages and for telling writer markers apart ("agent db1")
     */
    record Grant(Backend backend, boolean appendOnly, String actor) {
        public Grant {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(actor, "actor");
        }
    }
}
