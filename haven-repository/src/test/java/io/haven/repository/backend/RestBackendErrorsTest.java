package io.haven.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.ScriptedHttpServer.Answer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How {@link RestBackend} reads the answers of a misbehaving server or network (a scripted HTTP
 * server, and raw sockets that stall), and what its requests look like. The real server's answers
 * are tested in haven-server ({@code RestBackendConformanceTest}, {@code RepositoryHandlerTest}).
 */
class RestBackendErrorsTest {
    private static final String PACK = "data/ab/ab" + "12".repeat(31);
    private final ScriptedHttpServer http;
    private final RestBackend backend;
    private final List<ServerSocket> sockets = new ArrayList<>();

    RestBackendErrorsTest() throws IOException {
        http = new ScriptedHttpServer();
        backend = new RestBackend(http.endpoint().resolve("/repo/v1/main/"), null, Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() throws IOException {
        backend.close();
        http.close();
        for (ServerSocket s : sockets) {
            s.close();
        }
        assertThat(http.unexpected()).as("requests without a scripted answer").isZero();
    }

    private static Answer error(int status, String code, String message) {
        String json = "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}";
        return new Answer(status, Map.of("Content-Type", "application/json", RestBackend.ERROR_HEADER, code),
                json.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertFails(Runnable call, ErrorCode code, boolean isTransient, String... inMessage) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e instanceof TransientBackendException).as("transient").isEqualTo(isTransient);
            assertThat(e.getMessage()).contains(inMessage);
        });
    }

    private static byte[] bytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void theLocationIsTheBaseWithoutItsTrailingSlash() {
        assertThat(backend.location()).isEqualTo(http.endpoint() + "/repo/v1/main");
        assertThat(backend.local()).isFalse();
    }

    @Test
    void baseUrisWithQueriesCredentialsOrOtherSchemesAreRefused() {
        for (String bad : List.of("ftp://host/repo/v1/main", "https://user:pw@host/repo/v1/main", "https://host/repo?x=1",
                "file:///repo")) {
            assertThatThrownBy(() -> new RestBackend(URI.create(bad), null, Duration.ofSeconds(1)))
                    .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
        }
    }

    @Test
    void requestsCarryEncodedNamesTheRangeAndTheBody() {
        byte[] data = bytes(1000, 1);
        http.answer(Answer.status(201), new Answer(206, Map.of(), Arrays.copyOfRange(data, 10, 20)),
                new Answer(200, Map.of("Content-Type", "application/json"), "{\"names\":[\"keys/a b\"]}".getBytes()),
                Answer.status(204));

        backend.write(PACK, data, 600);
        assertThat(backend.read(PACK, 10, 10)).isEqualTo(Arrays.copyOfRange(data, 10, 20));
        assertThat(backend.list("keys/")).containsExactly("keys/a b");
        backend.delete("keys/a b+c");

        List<ScriptedHttpServer.Request> r = http.requests();
        assertThat(r.get(0).method()).isEqualTo("PUT");
        assertThat(r.get(0).uri().getRawPath()).isEqualTo("/repo/v1/main/objects/" + PACK);
        assertThat(r.get(0).header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(r.get(0).body()).isEqualTo(Arrays.copyOf(data, 600));
        assertThat(r.get(1).header("Range")).isEqualTo("bytes=10-19");
        assertThat(r.get(2).uri().getRawPath()).isEqualTo("/repo/v1/main/list");
        assertThat(r.get(2).uri().getRawQuery()).isEqualTo("dir=keys");
        assertThat(r.get(3).method()).isEqualTo("DELETE");
        assertThat(r.get(3).uri().getRawPath()).isEqualTo("/repo/v1/main/objects/keys/a%20b%2Bc");
    }

    @Test
    void serverFailuresAndThrottlingAreTransient() {
        http.answer(error(503, "unavailable", "the disk is away"), error(500, "io", "cannot write"), Answer.status(429),
                Answer.status(408), error(502, "bad_gateway", "proxy"));
        assertFails(() -> backend.read(PACK), ErrorCode.IO, true, PACK, backend.location(), "HTTP 503", "the disk is away");
        assertFails(() -> backend.write(PACK, new byte[3]), ErrorCode.IO, true, "HTTP 500", "cannot write");
        assertFails(() -> backend.list("data"), ErrorCode.IO, true, "HTTP 429");
        assertFails(() -> backend.delete(PACK), ErrorCode.IO, true, "HTTP 408");
        assertFails(() -> backend.read(PACK, 0, 1), ErrorCode.IO, true, "HTTP 502");
    }

    @Test
    void refusalsCarryTheServersMessage() {
        http.answer(error(401, "unauthenticated", "no client certificate"), error(403, "forbidden", "append-only: no deletes"),
                error(409, "conflict", "other bytes stored"));
        assertFails(() -> backend.read(PACK), ErrorCode.UNAUTHENTICATED, false, "HTTP 401", "no client certificate");
        assertFails(() -> backend.delete(PACK), ErrorCode.FORBIDDEN, false, "HTTP 403", "append-only: no deletes", PACK);
        assertFails(() -> backend.write(PACK, new byte[3]), ErrorCode.CONFLICT, false, "HTTP 409", "other bytes stored", PACK);
    }

    @Test
    void missingObjectsAndUnknownRepositoriesAreToldApart() {
        http.answer(error(404, "not_found", "no object"), Answer.status(404), error(404, "not_found", "gone"),
                error(404, "repository_not_found", "no repository 'main'"),
                new Answer(404, Map.of(RestBackend.ERROR_HEADER, "repository_not_found"), new byte[0]),
                error(404, "repository_not_found", "no repository 'main'"));
        assertFails(() -> backend.read(PACK), ErrorCode.NOT_FOUND, false, PACK, "missing");
        assertThat(backend.stat(PACK)).isEmpty();
        backend.delete(PACK);
        assertFails(() -> backend.read(PACK), ErrorCode.REPOSITORY_NOT_FOUND, false, "no repository 'main'");
        assertFails(() -> backend.stat(PACK), ErrorCode.REPOSITORY_NOT_FOUND, false, "HTTP 404");
        assertFails(() -> backend.delete(PACK), ErrorCode.REPOSITORY_NOT_FOUND, false, "HTTP 404");
    }

    @Test
    void rangesPastTheEndOrShortAnswersAreCorruptAndAServerIgnoringRangeStillWorks() {
        byte[] data = bytes(100, 2);
        http.answer(error(416, "range_not_satisfiable", "past the end"), new Answer(206, Map.of(), new byte[5]),
                Answer.ok(data), Answer.ok(data));
        assertFails(() -> backend.read(PACK, 100, 10), ErrorCode.CORRUPT, false, PACK, "shorter than expected");
        assertFails(() -> backend.read(PACK, 95, 10), ErrorCode.CORRUPT, false, PACK, "shorter than expected");
        assertThat(backend.read(PACK, 20, 30)).isEqualTo(Arrays.copyOfRange(data, 20, 50));
        assertFails(() -> backend.read(PACK, 90, 20), ErrorCode.CORRUPT, false, PACK);
    }

    @Test
    void otherAnswersArePermanentIoErrorsShowingWhatTheServerSaid() {
        http.answer(new Answer(302, Map.of("Location", "http://elsewhere/"), new byte[0]),
                new Answer(400, Map.of("Content-Type", "text/html"), "<html><body>Bad Request</body></html>".getBytes()),
                error(501, "not_implemented", "no"),
                new Answer(200, Map.of("Content-Type", "application/json"), "{\"nothing\":1}".getBytes()),
                new Answer(200, Map.of("Content-Type", "application/json"), "{\"names\":[\"../x\"]}".getBytes()));
        assertFails(() -> backend.read(PACK), ErrorCode.IO, false, "HTTP 302");
        assertFails(() -> backend.read(PACK), ErrorCode.IO, false, "HTTP 400", "Bad Request");
        assertFails(() -> backend.read(PACK), ErrorCode.IO, false, "HTTP 501");
        assertFails(() -> backend.list("data"), ErrorCode.IO, false, "not a listing");
        assertFails(() -> backend.list("data"), ErrorCode.IO, false, "not a listing");
    }

    /** A server on loopback that reads a request and answers {@code answer} (may be empty), then holds the connection open. */
    private URI stallingServer(byte[] answer) throws IOException {
        ServerSocket s = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        sockets.add(s);
        Thread.ofVirtual().start(() -> {
            List<Socket> open = new ArrayList<>();
            try {
                while (true) {
                    Socket c = s.accept();
                    open.add(c);
                    InputStream in = c.getInputStream();
                    int state = 0;
                    while (state < 4) { // to the end of the request's headers
                        int b = in.read();
                        if (b < 0) {
                            break;
                        }
                        state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : 0;
                    }
                    OutputStream out = c.getOutputStream();
                    out.write(answer);
                    out.flush();
                }
            } catch (IOException e) {
                // closed by the test
            }
        });
        return URI.create("http://127.0.0.1:" + s.getLocalPort() + "/repo/v1/main");
    }

    @Test
    void aServerThatNeverAnswersTimesOutAsTransient() throws IOException {
        try (RestBackend b = new RestBackend(stallingServer(new byte[0]), null, Duration.ofSeconds(1))) {
            long start = System.nanoTime();
            assertFails(() -> b.read(PACK), ErrorCode.IO, true, PACK, "timed out");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void anAnswerWhoseBodyStallsTimesOutAsTransient() throws IOException {
        byte[] head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nContent-Type: application/octet-stream\r\n\r\n0123456789"
                .getBytes(StandardCharsets.US_ASCII);
        try (RestBackend b = new RestBackend(stallingServer(head), null, Duration.ofSeconds(1))) {
            long start = System.nanoTime();
            assertFails(() -> b.read(PACK), ErrorCode.IO, true, PACK, "timed out");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void anAnswerCutShortIsTransient() throws IOException {
        byte[] head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789"
                .getBytes(StandardCharsets.US_ASCII);
        ServerSocket s = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        sockets.add(s);
        Thread.ofVirtual().start(() -> {
            try (Socket c = s.accept()) {
                c.getInputStream().read(new byte[4096]);
                c.getOutputStream().write(head);
            } catch (IOException e) {
                // closed by the test
            }
        });
        try (RestBackend b = new RestBackend(URI.create("http://127.0.0.1:" + s.getLocalPort() + "/r"), null, Duration.ofSeconds(5))) {
            assertFails(() -> b.read(PACK), ErrorCode.IO, true, PACK);
        }
    }
}
