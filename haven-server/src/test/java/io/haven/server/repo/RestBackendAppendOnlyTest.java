package io.haven.server.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.backend.RestBackend;
import io.haven.repository.check.Checker;
import io.haven.repository.maintenance.RepoFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Append-only access through the real server: an agent adds objects and snapshots, may rewrite
 * and delete only its own writer marker, and cannot delete or overwrite anything else; a
 * complete backup works under that rule.
 */
class RestBackendAppendOnlyTest {
    private static final String PACK = "data/ab/ab" + "12".repeat(31);
    private static final String MARKER = "writers/" + "0f".repeat(16);

    @TempDir
    Path dir;

    private RepoTestServer server;
    private LocalBackend store;
    private RestBackend agent;

    @BeforeEach
    void start() throws Exception {
        server = new RepoTestServer(dir.resolve("tls"));
        store = new LocalBackend(dir.resolve("repo"));
        server.access.appendOnly("main", store, "agent db1").appendOnly("main-as-db2", store, "agent db2")
                .full("main-admin", store);
        agent = server.client("main");
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        store.close();
        server.close();
    }

    private static byte[] bytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void assertRefused(ErrorCode code, ThrowingCallable call, String... inMessage) {
        assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(inMessage);
        });
    }

    @Test
    void deleteIsRefusedAndTheObjectStays() {
        byte[] data = bytes(1000, 1);
        agent.write(PACK, data);

        assertRefused(ErrorCode.FORBIDDEN, () -> agent.delete(PACK), "HTTP 403", "agent db1", "may not delete " + PACK);
        assertRefused(ErrorCode.FORBIDDEN, () -> agent.delete("data/00/never-written"), "HTTP 403");
        assertThat(store.read(PACK)).isEqualTo(data);
    }

    @Test
    void overwriteWithOtherBytesIsRefusedAndTheOriginalStays() {
        byte[] original = bytes(5000, 2);
        agent.write(PACK, original);

        assertRefused(ErrorCode.CONFLICT, () -> agent.write(PACK, bytes(5000, 3)), "HTTP 409", PACK, "cannot overwrite");
        assertRefused(ErrorCode.CONFLICT, () -> agent.write(PACK, bytes(10, 2)), "HTTP 409");
        assertRefused(ErrorCode.CONFLICT, () -> agent.write(PACK, new byte[0]), "HTTP 409");
        assertThat(store.read(PACK)).isEqualTo(original);
    }

    @Test
    void overwriteIsRefusedAlsoWhenTheObjectsDifferOnlyAfterTheFirstWindow() {
        byte[] original = bytes(RepositoryHandler.WINDOW + 1000, 4);
        store.write(PACK, original);
        byte[] other = original.clone();
        other[other.length - 1] ^= 1;

        assertRefused(ErrorCode.CONFLICT, () -> agent.write(PACK, other), "HTTP 409");
        assertThat(store.read(PACK)).isEqualTo(original);
    }

    @Test
    void writingTheSameBytesAgainSucceedsAndChangesNothing() {
        byte[] data = bytes(RepositoryHandler.WINDOW + 7, 5);
        agent.write(PACK, data);
        var before = store.stat(PACK).orElseThrow();

        agent.write(PACK, data);

        assertThat(store.read(PACK)).isEqualTo(data);
        assertThat(store.stat(PACK)).contains(before);
    }

    @Test
    void onlyTheDirectoriesABackupWritesCanBeAddedTo() {
        for (String name : List.of("config", "keys/" + "1".repeat(64), "condemned/" + "2".repeat(64), "tier/" + "3".repeat(64),
                "other/x", "writers/not-a-marker")) {
            assertRefused(ErrorCode.FORBIDDEN, () -> agent.write(name, bytes(10, 6)), "HTTP 403", name);
            assertThat(store.stat(name)).as(name).isEmpty();
        }
        for (String name : List.of(PACK, "tree/cd/cd" + "34".repeat(31), "index/" + "5".repeat(64),
                "snapshots/" + "6".repeat(64), MARKER)) {
            agent.write(name, bytes(10, 7));
            assertThat(store.stat(name)).as(name).isPresent();
        }
    }

    @Test
    void aLargeBodyRefusedBeforeItIsReadStillGetsTheRefusal() throws Exception {
        for (int i = 0; i < 3; i++) {
            // RestBackend asks for 100-continue: the server refuses before the body is sent
            assertRefused(ErrorCode.FORBIDDEN, () -> agent.write("config", bytes(24 << 20, 6)), "HTTP 403", "config");
            // a client that sends the body at once still reads the refusal: the server reads and discards the body
            var raw = server.raw("PUT", "/repo/v1/main/objects/config",
                    java.net.http.HttpRequest.BodyPublishers.ofByteArray(bytes(24 << 20, 6)));
            assertThat(raw.statusCode()).isEqualTo(403);
        }
        assertThat(store.stat("config")).isEmpty();
        agent.write(PACK, bytes(2 << 20, 1)); // with 100-continue, accepted
        assertThat(store.read(PACK)).isEqualTo(bytes(2 << 20, 1));
    }

    @Test
    void readsAndListsWorkAsForFullAccess() {
        store.write("config", bytes(100, 8));
        store.write(PACK, bytes(2000, 9));

        assertThat(agent.read("config")).isEqualTo(bytes(100, 8));
        assertThat(agent.read(PACK, 100, 50)).isEqualTo(java.util.Arrays.copyOfRange(bytes(2000, 9), 100, 150));
        assertThat(agent.list("")).containsExactlyInAnyOrder("config", PACK);
        assertThat(agent.stat(PACK)).get().extracting(i -> i.size()).isEqualTo(2000L);
    }

    @Test
    void aWriterMayRewriteAndDeleteItsOwnMarker() {
        agent.write(MARKER, bytes(200, 10));
        agent.write(MARKER, bytes(210, 11));
        assertThat(store.read(MARKER)).isEqualTo(bytes(210, 11));

        agent.delete(MARKER);
        assertThat(store.stat(MARKER)).isEmpty();
    }

    @Test
    void anotherAgentCannotRewriteOrDeleteAWriterMarker() {
        agent.write(MARKER, bytes(200, 12));
        try (RestBackend db2 = server.client("main-as-db2")) {
            assertRefused(ErrorCode.FORBIDDEN, () -> db2.write(MARKER, bytes(200, 13)), "agent db2", "of agent db1");
            assertRefused(ErrorCode.FORBIDDEN, () -> db2.delete(MARKER), "agent db2", "of agent db1");
        }
        assertThat(store.read(MARKER)).isEqualTo(bytes(200, 12));
        try (RestBackend admin = server.client("main-admin")) {
            admin.delete(MARKER); // full access: a prune may remove any marker
        }
        assertThat(store.stat(MARKER)).isEmpty();
    }

    @Test
    void aMarkerWhoseCreatorTheServerDoesNotKnowMayBeDeleted() {
        store.write(MARKER, bytes(200, 14)); // as if written before a restart of the server
        try (RestBackend db2 = server.client("main-as-db2")) {
            db2.delete(MARKER);
        }
        assertThat(store.stat(MARKER)).isEmpty();
    }

    @Test
    void aCompleteBackupRunsThroughAnAppendOnlyServerAndRestores() throws Exception {
        new RepoFixture(dir.resolve("repo")); // init on the server's disk: agents cannot write config or keys
        Path source = dir.resolve("source");
        RepoFixture.write(source.resolve("big.bin"), 20 << 20, 1);
        for (int i = 0; i < 50; i++) {
            RepoFixture.write(source.resolve("small/f" + i), 1000 + i * 37, 100 + i);
        }
        Files.writeString(source.resolve("empty-later"), "");

        Archiver.Result first;
        try (Repository repo = RepoFixture.open(server.client("main"))) {
            first = RepoFixture.backup(repo, source, Instant.parse("2026-05-01T10:00:00Z"));
            Thread.sleep(800); // a few heartbeats: the marker is rewritten through the server
        }
        RepoFixture.write(source.resolve("small/f0"), 5000, 999);
        RepoFixture.write(source.resolve("added"), 300_000, 1000);
        Archiver.Result second;
        try (Repository repo = RepoFixture.open(server.client("main"))) {
            second = RepoFixture.backup(repo, source, Instant.parse("2026-05-02T10:00:00Z"));
        }

        assertThat(store.list("writers")).as("markers deleted by their writers").isEmpty();
        assertThat(store.list("data").size()).isGreaterThanOrEqualTo(2);
        try (Repository repo = RepoFixture.open(server.client("main"))) {
            List<Repository.SnapshotEntry> snapshots = repo.snapshots();
            assertThat(snapshots).extracting(Repository.SnapshotEntry::id).containsExactly(first.snapshotId(), second.snapshotId());
            Map<String, String> restored = RepoFixture.restore(repo, snapshots.get(1), Files.createDirectories(dir.resolve("r")),
                    source);
            assertThat(restored).isEqualTo(RepoFixture.contents(source));
            Checker.Result check = RepoFixture.check(repo);
            assertThat(check.errors()).isEmpty();
        }
    }

    @Test
    void markerNamesAreHexOfTheLengthWritersUse() {
        assertThat(AppendOnlyRule.isWriterMarker("writers/" + HexFormat.of().formatHex(new byte[16]))).isTrue();
        assertThat(AppendOnlyRule.isWriterMarker("writers/" + "A".repeat(32))).isFalse();
        assertThat(AppendOnlyRule.isWriterMarker("writers/" + "a".repeat(31))).isFalse();
        assertThat(AppendOnlyRule.isWriterMarker("writers/x/" + "a".repeat(32))).isFalse();
        assertThat(AppendOnlyRule.isWriterMarker("data/" + "a".repeat(32))).isFalse();
    }
}
