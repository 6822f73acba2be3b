package io.haven.server.repo;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.server.Request;

/**
 * A hand-written {@link RepositoryAccess}: grants by repository name as the test sets them, or
 * refuses every request with a chosen error. Strict: an unknown repository is NOT_FOUND, as the
 * server's implementation answers. Thread safe.
 */
final class FakeAccess implements RepositoryAccess {
    private final Map<String, Grant> grants = new ConcurrentHashMap<>();
    private final AtomicInteger calls = new AtomicInteger();
    private volatile ErrorCode refusal;
    private volatile String refusalMessage;

    /** Full access to {@code repository}. */
    FakeAccess full(String repository, Backend backend) {
        grants.put(repository, new Grant(backend, false, "admin"));
        return this;
    }

    /** Append-only access to {@code repository} for {@code actor}. */
    FakeAccess appendOnly(String repository, Backend backend, String actor) {
        grants.put(repository, new Grant(backend, true, actor));
        return this;
    }

    /** From now on, every request fails with {@code code} and {@code message}. */
    void refuse(ErrorCode code, String message) {
        refusalMessage = message;
        refusal = code;
    }

    /** How many requests were authorized or refused. */
    int calls() {
        return calls.get();
    }

    @Override
    public Grant authorize(Request request, String repository) {
        calls.incrementAndGet();
        ErrorCode r = refusal;
        if (r != null) {
            throw new HavenException(r, refusalMessage);
        }
        Grant g = grants.get(repository);
        if (g == null) {
            throw new HavenException(ErrorCode.NOT_FOUND, "this server has no repository '" + repository + "'");
        }
        return g;
    }
}
