package io.haven.server.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.repository.backend.FaultyBackend;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.backend.TransientBackendException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP protocol of {@link RepositoryHandler} as docs/backends.md states it, request by request. */
class RepositoryHandlerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PACK = "data/ab/ab" + "12".repeat(31);
    private static final String OBJECTS = "/repo/v1/main/objects/";

    @TempDir
    Path dir;

    private RepoTestServer server;
    private LocalBackend store;

    @BeforeEach
    void start() throws Exception {
        server = new RepoTestServer(dir.resolve("tls"));
        store = new LocalBackend(dir.resolve("repo"));
        server.access.full("main", store).appendOnly("agent", store, "agent db1");
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        server.close();
    }

    private static byte[] bytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static JsonNode error(HttpResponse<byte[]> r) throws Exception {
        assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertThat(e.get("code").asText()).isEqualTo(r.headers().firstValue("X-Haven-Error").orElseThrow());
        assertThat(e.get("message").asText()).isNotBlank();
        return e;
    }

    @Test
    void headGivesTheSizeAndTheModificationTimeInEpochMilliseconds() throws Exception {
        store.write(PACK, bytes(1234, 1));
        HttpResponse<byte[]> r = server.raw("HEAD", OBJECTS + PACK);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(1234);
        assertThat(r.headers().firstValueAsLong("X-Haven-Modified"))
                .hasValue(store.stat(PACK).orElseThrow().modified().toEpochMilli());
        assertThat(r.body()).isEmpty();

        HttpResponse<byte[]> missing = server.raw("HEAD", OBJECTS + "data/00/none");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("X-Haven-Error")).contains("not_found");
    }

    @Test
    void getSendsTheObjectAndAnsweredRangesWith206AndContentRange() throws Exception {
        byte[] data = bytes(3000, 2);
        store.write(PACK, data);

        HttpResponse<byte[]> whole = server.raw("GET", OBJECTS + PACK);
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.headers().firstValue("Content-Type")).contains("application/octet-stream");
        assertThat(whole.body()).isEqualTo(data);

        HttpResponse<byte[]> part = server.raw("GET", OBJECTS + PACK, "Range", "bytes=100-199");
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.headers().firstValue("Content-Range")).contains("bytes 100-199/3000");
        assertThat(part.body()).isEqualTo(Arrays.copyOfRange(data, 100, 200));

        HttpResponse<byte[]> open = server.raw("GET", OBJECTS + PACK, "Range", "bytes=2990-");
        assertThat(open.statusCode()).isEqualTo(206);
        assertThat(open.body()).isEqualTo(Arrays.copyOfRange(data, 2990, 3000));

        HttpResponse<byte[]> beyond = server.raw("GET", OBJECTS + PACK, "Range", "bytes=2990-4000");
        assertThat(beyond.statusCode()).as("a range reaching past the end is cut").isEqualTo(206);
        assertThat(beyond.headers().firstValue("Content-Range")).contains("bytes 2990-2999/3000");
        assertThat(beyond.body()).hasSize(10);

        HttpResponse<byte[]> past = server.raw("GET", OBJECTS + PACK, "Range", "bytes=3000-3001");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(past.headers().firstValue("Content-Range")).contains("bytes */3000");
        assertThat(error(past).get("code").asText()).isEqualTo("range_not_satisfiable");

        for (String bad : List.of("bytes=5-1", "bytes=-5", "bytes=1-2,4-5", "items=1-2")) {
            HttpResponse<byte[]> r = server.raw("GET", OBJECTS + PACK, "Range", bad);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(error(r).get("code").asText()).isEqualTo("usage");
        }
    }

    @Test
    void objectsLargerThanAWindowAreSentWholeAndInRangesAcrossWindows() throws Exception {
        byte[] data = bytes(2 * RepositoryHandler.WINDOW + 12_345, 3);
        store.write(PACK, data);

        assertThat(server.raw("GET", OBJECTS + PACK).body()).isEqualTo(data);
        int from = RepositoryHandler.WINDOW - 10;
        int to = 2 * RepositoryHandler.WINDOW + 10;
        HttpResponse<byte[]> r = server.raw("GET", OBJECTS + PACK, "Range", "bytes=" + from + "-" + to);
        assertThat(r.statusCode()).isEqualTo(206);
        assertThat(r.body()).isEqualTo(Arrays.copyOfRange(data, from, to + 1));
    }

    @Test
    void putAnswers201ForANewObjectAnd200ForTheSameBytesAgain() throws Exception {
        byte[] data = bytes(500, 4);
        for (String repo : List.of("main", "agent")) {
            String name = "index/" + (repo.equals("main") ? "1" : "2").repeat(64);
            HttpResponse<byte[]> created = server.raw("PUT", "/repo/v1/" + repo + "/objects/" + name,
                    HttpRequest.BodyPublishers.ofByteArray(data));
            assertThat(created.statusCode()).as(repo).isEqualTo(201);
            HttpResponse<byte[]> again = server.raw("PUT", "/repo/v1/" + repo + "/objects/" + name,
                    HttpRequest.BodyPublishers.ofByteArray(data));
            assertThat(again.statusCode()).as(repo).isEqualTo(200);
            assertThat(store.read(name)).isEqualTo(data);
        }
        HttpResponse<byte[]> conflict = server.raw("PUT", "/repo/v1/agent/objects/index/" + "2".repeat(64),
                HttpRequest.BodyPublishers.ofByteArray(bytes(500, 5)));
        assertThat(conflict.statusCode()).isEqualTo(409);
        assertThat(error(conflict).get("code").asText()).isEqualTo("conflict");
    }

    @Test
    void storageFailuresAre5xxBeforeTheAnswerStartsAndCutTheAnswerAfter() throws Exception {
        byte[] data = bytes(2 * RepositoryHandler.WINDOW + 100, 11);
        store.write(PACK, data);
        FaultyBackend faulty = new FaultyBackend(store)
                .plan(FaultyBackend.Op.READ_RANGE, FaultyBackend.transientError(), FaultyBackend.pass(),
                        FaultyBackend.permanent(ErrorCode.IO), FaultyBackend.transientError())
                .plan(FaultyBackend.Op.WRITE, FaultyBackend.permanent(ErrorCode.IO));
        server.access.full("faulty", faulty);
        String objects = "/repo/v1/faulty/objects/";

        HttpResponse<byte[]> unavailable = server.raw("GET", objects + PACK);
        assertThat(unavailable.statusCode()).isEqualTo(503);
        assertThat(unavailable.headers().firstValue("Content-Length")).isPresent();
        assertThat(error(unavailable).get("code").asText()).isEqualTo("unavailable");

        assertThatThrownBy(() -> server.raw("GET", objects + PACK)).as("cut after the first window").isInstanceOf(IOException.class);

        HttpResponse<byte[]> failed = server.raw("PUT", objects + "index/" + "7".repeat(64), HttpRequest.BodyPublishers.ofString("x"));
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(error(failed).get("code").asText()).isEqualTo("io");

        try (var client = server.client("faulty")) {
            assertThatThrownBy(() -> client.read(PACK)).isInstanceOf(TransientBackendException.class).hasMessageContaining("HTTP 503");
        }
        assertThat(faulty.unusedPlan()).isEmpty();
    }

    @Test
    void putWithoutContentLengthIsRefused() throws Exception {
        HttpResponse<byte[]> r = server.raw("PUT", OBJECTS + PACK,
                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[10])));
        assertThat(r.statusCode()).isEqualTo(411);
        assertThat(error(r).get("code").asText()).isEqualTo("length_required");
        assertThat(store.stat(PACK)).isEmpty();
    }

    @Test
    void deleteAnswers204AlsoForAnAbsentObjectAnd403ForAppendOnlyAccess() throws Exception {
        store.write(PACK, bytes(10, 6));
        HttpResponse<byte[]> refused = server.raw("DELETE", "/repo/v1/agent/objects/" + PACK);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(error(refused).get("code").asText()).isEqualTo("forbidden");
        assertThat(store.stat(PACK)).isPresent();

        assertThat(server.raw("DELETE", OBJECTS + PACK).statusCode()).isEqualTo(204);
        assertThat(server.raw("DELETE", OBJECTS + PACK).statusCode()).isEqualTo(204);
        assertThat(store.stat(PACK)).isEmpty();
    }

    @Test
    void listGivesNamesRelativeToTheRepository() throws Exception {
        store.write(PACK, bytes(10, 7));
        store.write("config", bytes(10, 8));
        store.write("keys/k1", bytes(10, 9));

        HttpResponse<byte[]> r = server.raw("GET", "/repo/v1/main/list?dir=data");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(JSON.readTree(r.body()).get("names")).extracting(JsonNode::asText).containsExactly(PACK);

        JsonNode all = JSON.readTree(server.raw("GET", "/repo/v1/main/list").body()).get("names");
        assertThat(all).extracting(JsonNode::asText).containsExactlyInAnyOrder(PACK, "config", "keys/k1");
        JsonNode none = JSON.readTree(server.raw("GET", "/repo/v1/main/list?dir=snapshots%2F").body()).get("names");
        assertThat(none).isEmpty();
    }

    @Test
    void invalidNamesAre400() throws Exception {
        store.write("config", bytes(10, 10));
        // Jetty itself refuses ambiguous or suspicious paths (with its own, non-JSON, 400)
        for (String bad : List.of("data/%5Cx", "data//x", "data/%2E%2E/config", "%2E%2E/config", "data/x%01", "data/x.tmp-1", "")) {
            HttpResponse<byte[]> r = server.raw("GET", OBJECTS + bad);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
        }
        HttpResponse<byte[]> tmp = server.raw("PUT", OBJECTS + "data/x.tmp-1", HttpRequest.BodyPublishers.ofString("x"));
        assertThat(tmp.statusCode()).isEqualTo(400);
        assertThat(error(tmp).get("message").asText()).contains("invalid object name 'data/x.tmp-1'", "temporary files");
        assertThat(store.list("data")).isEmpty();
        HttpResponse<byte[]> list = server.raw("GET", "/repo/v1/main/list?dir=..%2Fx");
        assertThat(list.statusCode()).isEqualTo(400);
        assertThat(error(list).get("code").asText()).isEqualTo("usage");
    }

    @Test
    void unknownEndpointsAre404AndOtherMethods405() throws Exception {
        for (String path : List.of("/repo/v1/main", "/repo/v1/main/", "/repo/v1/main/stuff", "/repo/v1/")) {
            HttpResponse<byte[]> r = server.raw("GET", path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(error(r).get("code").asText()).isEqualTo("not_found");
        }
        HttpResponse<byte[]> post = server.raw("POST", OBJECTS + PACK, HttpRequest.BodyPublishers.ofString("x"));
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).contains("HEAD, GET, PUT, DELETE");
        HttpResponse<byte[]> putList = server.raw("PUT", "/repo/v1/main/list", HttpRequest.BodyPublishers.ofString("x"));
        assertThat(putList.statusCode()).isEqualTo(405);
        assertThat(putList.headers().firstValue("Allow")).contains("GET");
    }

    @Test
    void unknownRepositoriesAre404WithTheirOwnCode() throws Exception {
        HttpResponse<byte[]> r = server.raw("GET", "/repo/v1/nowhere/objects/config");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(error(r).get("code").asText()).isEqualTo("repository_not_found");
    }

    @Test
    void pathsOutsideTheRepositoryPrefixAreLeftToOtherHandlers() throws Exception {
        int before = server.access.calls();
        HttpResponse<byte[]> r = server.raw("GET", "/api/v1/health");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.headers().firstValue("X-Haven-Error")).isEmpty();
        assertThat(server.access.calls()).isEqualTo(before);
    }

    @Test
    void namesTravelPercentEncodedSegmentBySegment() throws Exception {
        String name = "keys/a b+c";
        store.write(name, "x".getBytes(StandardCharsets.UTF_8));
        assertThat(server.raw("GET", OBJECTS + "keys/a%20b%2Bc").body()).isEqualTo("x".getBytes(StandardCharsets.UTF_8));
        try (var client = server.client("main")) {
            assertThat(client.read(name)).isEqualTo("x".getBytes(StandardCharsets.UTF_8));
            assertThat(client.list("keys")).containsExactly(name);
            for (String odd : List.of("keys/\u00fcber", "keys/a;b", "keys/q?x=1#f", "keys/(x)[y]{z}", "keys/a&b=c", "keys/~x")) {
                client.write(odd, odd.getBytes(StandardCharsets.UTF_8));
                assertThat(store.read(odd)).as(odd).isEqualTo(odd.getBytes(StandardCharsets.UTF_8));
                assertThat(client.read(odd)).as(odd).isEqualTo(odd.getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
