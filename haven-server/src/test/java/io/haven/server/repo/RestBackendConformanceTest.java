package io.haven.server.repo;

import io.haven.repository.backend.Backend;
import io.haven.repository.backend.BackendConformanceTest;
import io.haven.repository.backend.LocalBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend contract through {@code RestBackend} and {@link RepositoryHandler} over HTTPS, with
 * full access, each test in a fresh repository (its own directory) of one server.
 */
class RestBackendConformanceTest extends BackendConformanceTest {
    @TempDir
    static Path dir;

    private static RepoTestServer server;
    private static final List<LocalBackend> stores = new ArrayList<>();
    private static int next;

    @BeforeAll
    static void startServer() throws Exception {
        server = new RepoTestServer(dir.resolve("tls"));
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
        stores.forEach(LocalBackend::close);
    }

    @Override
    protected Backend newBackend() {
        String name = "r" + next++;
        LocalBackend store = new LocalBackend(dir.resolve(name));
        stores.add(store);
        server.access.full(name, store);
        return server.client(name);
    }
}
