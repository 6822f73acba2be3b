package io.haven.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.index.Index;
import io.haven.repository.index.PackRecord;
import io.haven.repository.pack.PackHeader;
import io.haven.repository.snapshot.Snapshot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepositoryTest {
    private static final int KDF_KIB = 8192;
    private static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2026-03-04T05:06:07.123456789Z"));
    private static final Repository.Actor ACTOR = new Repository.Actor("testhost", "tester");
    private static final char[] PASSWORD = "first password".toCharArray();

    @TempDir
    Path dir;

    private Repository init() {
        return Repository.init(new LocalBackend(dir), PASSWORD, KDF_KIB, ACTOR, CLOCK, new SecureRandom());
    }

    private Repository open(char[] password) {
        return Repository.open(new LocalBackend(dir), password, CLOCK, new SecureRandom());
    }

    private static void assertCode(ErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static Snapshot snapshot(String time, BlobId tree) {
        return new Snapshot(1, time, tree.hex(), List.of("/data"), "testhost", "tester", 1000, 1000, List.of(),
                List.of(), null, "test", null);
    }

    // ---------------------------------------------------------------- init and open

    @Test
    void initThenOpenWithTheRightPassword() {
        Repository created = init();
        Repository opened = open(PASSWORD.clone());

        assertThat(opened.config()).isEqualTo(created.config());
        assertThat(opened.key().material()).isEqualTo(created.key().material());
        assertThat(opened.keyName()).isEqualTo(created.keyName());
        assertThat(opened.config().chunker()).isEqualTo(Config.ChunkerParams.defaults());
        assertThat(opened.config().created()).isEqualTo("2026-03-04T05:06:07.123456789Z");
        assertThat(Files.exists(dir.resolve("config"))).isTrue();
        assertThat(dir.resolve(created.keyName())).isRegularFile();
    }

    @Test
    void openWithAWrongPasswordFails() {
        init();
        assertCode(ErrorCode.WRONG_PASSWORD, () -> open("wrong password".toCharArray()));
    }

    @Test
    void aDamagedKeyFileIsNamedWhenNoKeyOpens() throws IOException {
        Repository created = init();
        Path key = dir.resolve(created.keyName());
        byte[] b = Files.readAllBytes(key);
        int at = new String(b, StandardCharsets.UTF_8).indexOf("\"master_key\"") + 20;
        b[at] = (byte) (b[at] == 'A' ? 'B' : 'A');
        key.toFile().setWritable(true);
        Files.write(key, b);
        assertThatThrownBy(() -> open(PASSWORD.clone())).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.WRONG_PASSWORD);
            assertThat(e.getMessage()).contains("1 of its 1 key file(s) are damaged", created.keyName(), "key file is damaged");
        });
    }

    @Test
    void aConfigWithBadValuesSaysWhatIsWrongWithoutClassNames() throws IOException {
        init();
        Path config = dir.resolve("config");
        String good = Files.readString(config);
        config.toFile().setWritable(true);
        Files.writeString(config, good.replace("\"zstd\"", "\"zstc\""));
        assertThatThrownBy(() -> open(PASSWORD.clone())).hasMessageContaining("compression 'zstc'");
        Files.writeString(config, good.replaceAll("\"min_size\"\\s*:\\s*262144", "\"min_size\":0"));
        assertThatThrownBy(() -> open(PASSWORD.clone())).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT);
            assertThat(e.getMessage()).contains("repository config is not valid", "invalid chunker parameters 0/")
                    .doesNotContain("io.haven", "Cannot construct");
        });
        Files.writeString(config, good.replaceAll("\"pack_size\"\\s*:\\s*16777216", "\"pack_size\":\"big\""));
        assertThatThrownBy(() -> open(PASSWORD.clone())).hasMessageContaining("at 'pack_size'").hasMessageNotContaining("io.haven");
    }

    @Test
    void openOfAnEmptyDirectoryFindsNoRepository() {
        assertCode(ErrorCode.REPOSITORY_NOT_FOUND, () -> open(PASSWORD));
        assertCode(ErrorCode.REPOSITORY_NOT_FOUND,
                () -> Repository.open(new LocalBackend(dir.resolve("missing")), PASSWORD, CLOCK, new SecureRandom()));
    }

    @Test
    void initTwiceIsRefused() throws IOException {
        init();
        List<Path> before;
        try (var s = Files.walk(dir)) {
            before = s.sorted().toList();
        }
        assertCode(ErrorCode.REPOSITORY_EXISTS, this::init);
        try (var s = Files.walk(dir)) {
            assertThat(s.sorted().toList()).isEqualTo(before);
        }
        // and the first repository still opens
        open(PASSWORD);
    }

    @Test
    void configIsPlainJsonInTheSpecifiedShape() throws IOException {
        init();
        var json = Json.MAPPER.readTree(Files.readAllBytes(dir.resolve("config")));
        assertThat(json.path("format").asText()).isEqualTo("haven-repository");
        assertThat(json.path("version").asInt()).isEqualTo(2);
        assertThat(json.path("id").asText()).matches("[0-9a-f]{32}");
        assertThat(json.path("chunker").path("min_size").asInt()).isEqualTo(262144);
        assertThat(json.path("chunker").path("avg_size").asInt()).isEqualTo(1048576);
        assertThat(json.path("chunker").path("max_size").asInt()).isEqualTo(4194304);
        assertThat(json.path("pack_size").asInt()).isEqualTo(16777216);
        assertThat(json.path("compression").path("algorithm").asText()).isEqualTo("zstd");
    }

    @Test
    void aNewerFormatVersionIsRefused() throws IOException {
        init();
        Path config = dir.resolve("config");
        String json = Files.readString(config).replaceFirst("\"version\"\\s*:\\s*2", "\"version\" : 3");
        Files.writeString(config, json);
        assertCode(ErrorCode.CORRUPT, () -> open(PASSWORD));
    }

    // ---------------------------------------------------------------- blobs

    @Test
    void aSavedBlobLoadsAfterReopening() {
        Repository repo = init();
        byte[] data = random(100_000, 1);
        byte[] tree = "not really a tree, but a tree blob".getBytes(StandardCharsets.UTF_8);
        BlobId dataId = repo.key().blobId(data, 0, data.length);
        RepositoryWriter writer = repo.newWriter();
        assertThat(writer.save(BlobType.DATA, dataId, data, 0, data.length)).isPositive();
        BlobId treeId = writer.saveTree(tree);
        writer.flush();
        assertThat(writer.packsStored()).isEqualTo(2);
        repo.close();

        Repository reopened = open(PASSWORD);
        assertThat(reopened.backend().list("index")).hasSize(1);
        assertThat(reopened.backend().list("data")).hasSize(1);
        assertThat(reopened.backend().list("tree")).hasSize(1);
        assertThat(reopened.loadBlob(dataId)).isEqualTo(data);
        assertThat(reopened.loadBlob(treeId)).isEqualTo(tree);
        Index.Location loc = reopened.index().lookup(dataId);
        assertThat(loc.type()).isEqualTo(BlobType.DATA);
        assertThat(loc.packName()).startsWith("data/");
        assertThat(reopened.index().lookup(treeId).packName()).startsWith("tree/");
    }

    @Test
    void storedObjectsAreNamedByTheHashOfTheirBytes() throws IOException {
        Repository repo = init();
        RepositoryWriter writer = repo.newWriter();
        writer.saveTree(random(5000, 2));
        writer.flush();
        BlobId snap = repo.saveSnapshot(snapshot("2026-01-01T00:00:00Z", BlobId.of(new byte[32])));
        assertThat(snap).isNotNull();

        for (String top : List.of("keys", "tree", "index", "snapshots")) {
            List<String> names = repo.backend().list(top);
            assertThat(names).as(top).isNotEmpty();
            for (String name : names) {
                String hex = name.substring(name.lastIndexOf('/') + 1);
                assertThat(io.haven.repository.crypto.ObjectHash.of(Files.readAllBytes(dir.resolve(name))).hex())
                        .as(name).isEqualTo(hex);
                if (top.equals("tree")) {
                    assertThat(name).isEqualTo("tree/" + hex.substring(0, 2) + "/" + hex);
                }
            }
        }
    }

    @Test
    void aPackHeaderAgreesWithTheIndex() {
        Repository repo = init();
        RepositoryWriter writer = repo.newWriter();
        for (int i = 0; i < 5; i++) {
            byte[] d = random(10_000 + i, 10 + i);
            writer.save(BlobType.DATA, repo.key().blobId(d, 0, d.length), d, 0, d.length);
        }
        writer.flush();
        Repository reopened = open(PASSWORD);
        PackRecord indexed = reopened.index().packs().iterator().next();
        byte[] pack = reopened.backend().read(indexed.objectName());
        assertThat(PackHeader.read(reopened.key(), indexed.packId(), pack, "pack")).isEqualTo(indexed);
    }

    @Test
    void savingTheSameBlobTwiceStoresItOnce() {
        Repository repo = init();
        // large enough to be stored alone, not in a group of small blobs
        byte[] data = random(100_000, 3);
        BlobId id = repo.key().blobId(data, 0, data.length);
        RepositoryWriter writer = repo.newWriter();
        assertThat(writer.save(BlobType.DATA, id, data, 0, data.length)).isPositive();
        assertThat(writer.save(BlobType.DATA, id, data, 0, data.length)).isZero();
        assertThat(writer.has(id)).isTrue();
        writer.flush();

        // a later writer sees it in the index
        RepositoryWriter second = open(PASSWORD).newWriter();
        assertThat(second.has(id)).isTrue();
        assertThat(second.save(BlobType.DATA, id, data, 0, data.length)).isZero();
        second.flush();
        assertThat(second.packsStored()).isZero();

        Repository reopened = open(PASSWORD);
        assertThat(reopened.backend().list("data")).hasSize(1);
        assertThat(reopened.index().blobCount()).isEqualTo(1);
        assertThat(reopened.index().packs()).singleElement()
                .satisfies(p -> assertThat(p.blobs()).hasSize(1));
    }

    @Test
    void aFlushWithNothingNewWritesNothing() {
        Repository repo = init();
        RepositoryWriter writer = repo.newWriter();
        writer.flush();
        assertThat(repo.backend().list("index")).isEmpty();
        assertThat(repo.backend().list("data")).isEmpty();
    }

    @Test
    void aModifiedDataPackIsDetectedOnLoad() throws IOException {
        Repository repo = init();
        byte[] data = random(20_000, 4);
        BlobId id = repo.key().blobId(data, 0, data.length);
        RepositoryWriter writer = repo.newWriter();
        writer.save(BlobType.DATA, id, data, 0, data.length);
        writer.flush();
        repo.close();

        Repository reopened = open(PASSWORD);
        Index.Location loc = reopened.index().lookup(id);
        Path pack = dir.resolve(loc.packName());
        byte[] bytes = Files.readAllBytes(pack);
        bytes[loc.offset() + loc.length() / 2] ^= 0x01;
        Files.write(pack, bytes);

        assertCode(ErrorCode.CORRUPT, () -> reopened.loadBlob(id));
        assertCode(ErrorCode.CORRUPT, () -> open(PASSWORD).loadBlob(id));
    }

    @Test
    void aPackThatHoldsAnotherBlobUnderTheIndexedIdIsDetected() throws IOException {
        // swap two sealed blobs of equal size inside a pack: each authenticates, but the ids do not match
        Repository repo = init();
        // blobs stored alone (a member of a group is covered by GroupedBlobsTest)
        byte[] a = random(70_000, 5);
        byte[] b = random(70_000, 6);
        BlobId idA = repo.key().blobId(a, 0, a.length);
        BlobId idB = repo.key().blobId(b, 0, b.length);
        RepositoryWriter writer = repo.newWriter();
        writer.save(BlobType.DATA, idA, a, 0, a.length);
        writer.save(BlobType.DATA, idB, b, 0, b.length);
        writer.flush();

        Repository reopened = open(PASSWORD);
        Index.Location la = reopened.index().lookup(idA);
        Index.Location lb = reopened.index().lookup(idB);
        assertThat(la.length()).isEqualTo(lb.length());
        Path pack = dir.resolve(la.packName());
        byte[] bytes = Files.readAllBytes(pack);
        byte[] swapped = bytes.clone();
        System.arraycopy(bytes, la.offset(), swapped, lb.offset(), la.length());
        System.arraycopy(bytes, lb.offset(), swapped, la.offset(), lb.length());
        Files.write(pack, swapped);

        assertCode(ErrorCode.CORRUPT, () -> reopened.loadBlob(idA));
    }

    @Test
    void aModifiedIndexFileIsDetected() throws IOException {
        Repository repo = init();
        byte[] data = random(1000, 7);
        BlobId id = repo.key().blobId(data, 0, data.length);
        RepositoryWriter writer = repo.newWriter();
        writer.save(BlobType.DATA, id, data, 0, data.length);
        writer.flush();
        Path index = dir.resolve(repo.backend().list("index").get(0));
        byte[] bytes = Files.readAllBytes(index);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(index, bytes);

        assertCode(ErrorCode.CORRUPT, () -> open(PASSWORD).loadBlob(id));
    }

    @Test
    void anUnknownBlobIsNotFound() {
        Repository repo = init();
        assertCode(ErrorCode.NOT_FOUND, () -> repo.loadBlob(BlobId.of(new byte[32])));
    }

    // ---------------------------------------------------------------- snapshots

    @Test
    void snapshotsResolveByLatestAndByUniquePrefix() {
        Repository repo = init();
        assertCode(ErrorCode.NOT_FOUND, () -> repo.resolve("latest"));
        BlobId tree = BlobId.of(new byte[32]);
        BlobId newest = repo.saveSnapshot(snapshot("2026-05-01T00:00:00.5Z", tree));
        BlobId oldest = repo.saveSnapshot(snapshot("2025-05-01T00:00:00Z", tree));
        BlobId middle = repo.saveSnapshot(snapshot("2026-05-01T00:00:00Z", tree));

        Repository reopened = open(PASSWORD);
        assertThat(reopened.snapshots()).extracting(Repository.SnapshotEntry::id).containsExactly(oldest, middle, newest);
        assertThat(reopened.resolve("latest").id()).isEqualTo(newest);
        assertThat(reopened.resolve(middle.hex().substring(0, 12)).id()).isEqualTo(middle);
        assertThat(reopened.resolve(oldest.hex().toUpperCase()).snapshot().time()).isEqualTo("2025-05-01T00:00:00Z");
        assertCode(ErrorCode.NOT_FOUND, () -> reopened.resolve("zz"));
        assertCode(ErrorCode.USAGE, () -> reopened.resolve(""));
    }

    @Test
    void aModifiedSnapshotIsDetected() throws IOException {
        Repository repo = init();
        BlobId id = repo.saveSnapshot(snapshot("2026-05-01T00:00:00Z", BlobId.of(new byte[32])));
        Path file = dir.resolve("snapshots/" + id.hex());
        byte[] bytes = Files.readAllBytes(file);
        bytes[20] ^= 1;
        Files.write(file, bytes);
        Repository reopened = open(PASSWORD);
        assertCode(ErrorCode.CORRUPT, () -> reopened.resolve(id.hex().substring(0, 8)));
        // listing leaves the damaged snapshot out, and says so, instead of failing every command
        assertThat(reopened.snapshots()).isEmpty();
        assertThat(reopened.unreadableSnapshots()).singleElement().asString().contains(id.hex());
        assertCode(ErrorCode.NOT_FOUND, () -> reopened.resolve("latest"));
    }

    /**
     * A snapshot that another process forgets between the listing and the read is no longer a
     * snapshot: the list leaves it out instead of failing (a server listing while its retention
     * runs, for one).
     */
    @Test
    void aSnapshotForgottenWhileTheListIsReadIsLeftOut() {
        Repository repo = init();
        BlobId kept = repo.saveSnapshot(snapshot("2026-05-01T00:00:00Z", BlobId.of(new byte[32])));
        BlobId gone = repo.saveSnapshot(snapshot("2026-05-02T00:00:00Z", BlobId.of(new byte[32])));
        Backend forgetsAfterListing = new io.haven.repository.backend.ForwardingBackend(new LocalBackend(dir)) {
            @Override
            public List<String> list(String directory) {
                List<String> names = inner.list(directory);
                if (directory.equals("snapshots")) {
                    inner.delete("snapshots/" + gone.hex());
                }
                return names;
            }
        };
        Repository reader = Repository.open(forgetsAfterListing, PASSWORD, CLOCK, new SecureRandom());
        assertThat(reader.snapshots()).extracting(Repository.SnapshotEntry::id).containsExactly(kept);
        assertThat(reader.unreadableSnapshots()).isEmpty();
    }

    // ---------------------------------------------------------------- keys

    @Test
    void anAddedPasswordOpensTheSameRepository() {
        Repository repo = init();
        String second = repo.addKey("second password".toCharArray(), KDF_KIB, ACTOR);

        Repository bySecond = open("second password".toCharArray());
        assertThat(bySecond.keyName()).isEqualTo(second);
        assertThat(bySecond.key().material()).isEqualTo(repo.key().material());
        assertThat(open(PASSWORD).keyName()).isEqualTo(repo.keyName());
        assertThat(repo.keys()).hasSize(2);
    }

    @Test
    void removeKeyRefusesTheKeyInUseAndRemovesAnother() {
        Repository repo = init();
        String second = repo.addKey("second password".toCharArray(), KDF_KIB, ACTOR);
        String firstId = repo.keyName().substring("keys/".length());
        String secondId = second.substring("keys/".length());

        assertCode(ErrorCode.USAGE, () -> repo.removeKey(firstId));
        assertCode(ErrorCode.USAGE, () -> repo.removeKey(firstId.substring(0, 8)));
        assertThat(repo.keys()).hasSize(2);

        assertThat(repo.removeKey(secondId.substring(0, 8))).isEqualTo(second);
        assertThat(repo.keys()).extracting(Repository.KeyEntry::name).containsExactly(repo.keyName());
        assertCode(ErrorCode.WRONG_PASSWORD, () -> open("second password".toCharArray()));
        open(PASSWORD);
    }

    @Test
    void theSecondPasswordCanRemoveTheFirstKey() {
        Repository repo = init();
        repo.addKey("second password".toCharArray(), KDF_KIB, ACTOR);
        Repository bySecond = open("second password".toCharArray());
        bySecond.removeKey(repo.keyName().substring("keys/".length()));

        assertCode(ErrorCode.WRONG_PASSWORD, () -> open(PASSWORD));
        open("second password".toCharArray());
    }

    @Test
    void removingAnUnknownKeyIsNotFound() {
        Repository repo = init();
        assertCode(ErrorCode.NOT_FOUND, () -> repo.removeKey("zzzz"));
    }
}
