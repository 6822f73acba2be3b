package io.haven.server.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.backend.RestBackend;
import io.haven.repository.backend.TransientBackendException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a client sees when the server refuses it, does not know the repository, or is down. */
class RestBackendRefusalTest {
    private static final String PACK = "data/ab/ab" + "12".repeat(31);

    @TempDir
    Path dir;

    private RepoTestServer server;
    private LocalBackend store;
    private RestBackend client;

    @BeforeEach
    void start() throws Exception {
        server = new RepoTestServer(dir.resolve("tls"));
        store = new LocalBackend(dir.resolve("repo"));
        store.write(PACK, new byte[100]);
        server.access.full("main", store);
        client = server.client("main");
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        store.close();
        server.close();
    }

    /** Every operation of {@code b}, each expected to fail the same way. */
    private static List<ThrowingCallable> everyOperation(RestBackend b) {
        return List.of(() -> b.list("data"), () -> b.stat(PACK), () -> b.read(PACK), () -> b.read(PACK, 10, 10),
                () -> b.write(PACK, new byte[100]), () -> b.delete(PACK));
    }

    private static void assertEach(List<ThrowingCallable> calls, ErrorCode code, Class<?> type, String... inMessage) {
        for (ThrowingCallable call : calls) {
            assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e).isInstanceOf(type);
                assertThat(e.code()).isEqualTo(code);
                assertThat(e.getMessage()).contains(inMessage);
            });
        }
    }

    @Test
    void aCallerTheServerCannotIdentifyIsUnauthenticatedWithTheServersMessage() {
        server.access.refuse(ErrorCode.UNAUTHENTICATED, "no client certificate was presented");
        assertEach(everyOperation(client).subList(0, 1), ErrorCode.UNAUTHENTICATED, HavenException.class,
                "HTTP 401", "no client certificate was presented");
        // a HEAD answer has no body: the code comes from the X-Haven-Error header
        assertEach(everyOperation(client), ErrorCode.UNAUTHENTICATED, HavenException.class, "HTTP 401");
        assertThat(store.stat(PACK)).isPresent();
    }

    @Test
    void aCallerWithoutAccessIsForbiddenWithTheServersMessage() {
        server.access.refuse(ErrorCode.FORBIDDEN, "agent db9 may not use repository main");
        assertEach(everyOperation(client), ErrorCode.FORBIDDEN, HavenException.class, "HTTP 403", "/repo/v1/main");
        assertEach(everyOperation(client).subList(1, 6), ErrorCode.FORBIDDEN, HavenException.class, PACK);
        assertEach(List.of(() -> client.read(PACK)), ErrorCode.FORBIDDEN, HavenException.class,
                "agent db9 may not use repository main");
        assertThat(store.stat(PACK)).isPresent();
    }

    @Test
    void anUnknownRepositoryIsNotFoundForEveryOperationIncludingStatAndDelete() {
        try (RestBackend nowhere = server.client("nowhere")) {
            assertEach(everyOperation(nowhere), ErrorCode.REPOSITORY_NOT_FOUND, HavenException.class, "HTTP 404");
            assertEach(List.of(() -> nowhere.read(PACK)), ErrorCode.REPOSITORY_NOT_FOUND, HavenException.class,
                    "no repository 'nowhere'");
        }
    }

    @Test
    void aMissingObjectIsNotFoundWhileTheRepositoryExists() {
        String absent = "data/cd/cd" + "34".repeat(31);
        assertEach(List.of(() -> client.read(absent), () -> client.read(absent, 0, 1)), ErrorCode.NOT_FOUND,
                HavenException.class, absent);
        assertThat(client.stat(absent)).isEmpty();
        client.delete(absent);
    }

    @Test
    void invalidNamesAreRefusedByTheClientBeforeAnyRequest() {
        int before = server.access.calls();
        for (String bad : List.of("../config", "/config", "data//x", "data/./x", "data\\x", "data/x\u0001", "data/x.tmp-1", "data/100%",
                "")) {
            assertThatThrownBy(() -> client.read(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("invalid object name");
            assertThatThrownBy(() -> client.write(bad, new byte[1])).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> client.list("../x")).isInstanceOf(IllegalArgumentException.class);
        assertThat(server.access.calls()).isEqualTo(before);
    }

    @Test
    void aServerThatIsDownIsATransientFailure() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (RestBackend down = new RestBackend(URI.create("https://127.0.0.1:" + port + "/repo/v1/main"), server.clientSsl(),
                Duration.ofSeconds(5))) {
            assertEach(everyOperation(down), ErrorCode.IO, TransientBackendException.class, "127.0.0.1:" + port, "cannot connect");
        }
    }

    @Test
    void aServerThatStopsMidwayIsATransientFailure() throws Exception {
        server.close();
        assertEach(everyOperation(client), ErrorCode.IO, TransientBackendException.class, "/repo/v1/main");
    }
}
