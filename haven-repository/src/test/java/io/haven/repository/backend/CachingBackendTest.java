package io.haven.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.crypto.ObjectHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache decorator keeps the backend contract, and caches what it should and nothing else. */
class CachingBackendTest extends BackendConformanceTest {
    @TempDir
    Path dir;

    @Override
    protected Backend newBackend() {
        return new CachingBackend(new LocalBackend(dir.resolve("remote")), dir.resolve("cache"));
    }

    /** An object name the way the repository makes them: the SHA-256 of the bytes. */
    private static String named(String directory, byte[] data) {
        String hex = ObjectHash.of(data).hex();
        return directory.equals("tree") ? "tree/" + hex.substring(0, 2) + "/" + hex : directory + "/" + hex;
    }

    private FaultyBackend remote;
    private CachingBackend cache;

    private void counted() {
        remote = new FaultyBackend(new LocalBackend(dir.resolve("counted-remote")));
        cache = new CachingBackend(remote, dir.resolve("counted-cache"));
    }

    @Test
    void anObjectNamedByItsHashIsReadFromTheRemoteOnceAndThenFromDisk() {
        counted();
        byte[] data = bytes(5000, 1);
        String name = named("index", data);
        remote.write(name, data);

        assertThat(cache.read(name)).isEqualTo(data);
        assertThat(cache.read(name)).isEqualTo(data);
        assertThat(cache.read(name, 100, 50)).isEqualTo(Arrays.copyOfRange(data, 100, 150));

        assertThat(remote.calls(FaultyBackend.Op.READ)).isEqualTo(1);
        assertThat(remote.calls(FaultyBackend.Op.READ_RANGE)).isZero();
        assertThat(cache.hits()).isEqualTo(2);
        assertThat(cache.misses()).isEqualTo(1);
        assertThat(dir.resolve("counted-cache").resolve(name)).hasBinaryContent(data);
    }

    @Test
    void whatThisProcessWritesIsServedFromDiskWithoutAnyRemoteRead() {
        counted();
        byte[] pack = bytes(100_000, 2);
        String name = named("tree", pack);
        cache.write(name, pack);

        assertThat(cache.read(name, 90_000, 10_000)).isEqualTo(Arrays.copyOfRange(pack, 90_000, 100_000));
        assertThat(remote.calls(FaultyBackend.Op.READ)).isZero();
        assertThat(remote.calls(FaultyBackend.Op.READ_RANGE)).isZero();
        assertThat(remote.read(name)).isEqualTo(pack);
    }

    @Test
    void aDamagedCachedCopyIsDroppedAndTheRemoteCopyReadInstead() throws IOException {
        counted();
        byte[] data = bytes(3000, 3);
        String name = named("snapshots", data);
        cache.write(name, data);
        Path copy = dir.resolve("counted-cache").resolve(name);
        byte[] damaged = data.clone();
        damaged[10] ^= 1;
        Files.write(copy, damaged);

        // the next process checks each copy's hash once before it trusts it
        CachingBackend next = new CachingBackend(remote, dir.resolve("counted-cache"));
        assertThat(next.read(name)).isEqualTo(data);
        assertThat(remote.calls(FaultyBackend.Op.READ)).isEqualTo(1);
        assertThat(next.failures()).isEqualTo(1);
        assertThat(copy).hasBinaryContent(data);
        assertThat(next.read(name, 5, 10)).isEqualTo(Arrays.copyOfRange(data, 5, 15));
        assertThat(remote.calls(FaultyBackend.Op.READ)).isEqualTo(1);
    }

    @Test
    void dataPacksAndObjectsNotNamedByTheirHashAreNeverCached() {
        counted();
        byte[] data = bytes(4000, 4);
        String dataPack = named("data", data);
        String misnamed = "index/" + "ab".repeat(32);
        cache.write(dataPack, data);
        cache.write(misnamed, data);
        cache.read(dataPack);
        cache.read(dataPack, 0, 10);
        cache.read(misnamed);
        cache.read(misnamed);

        assertThat(remote.calls(FaultyBackend.Op.READ)).isEqualTo(3);
        assertThat(remote.calls(FaultyBackend.Op.READ_RANGE)).isEqualTo(1);
        assertThat(dir.resolve("counted-cache/data")).doesNotExist();
        assertThat(dir.resolve("counted-cache").resolve(misnamed)).doesNotExist();
    }

    @Test
    void aListingDropsCopiesOfObjectsTheRemoteNoLongerHas() {
        counted();
        byte[] kept = bytes(100, 5);
        byte[] gone = bytes(100, 6);
        cache.write(named("snapshots", kept), kept);
        cache.write(named("snapshots", gone), gone);
        remote.delete(named("snapshots", gone));   // another machine's forget

        assertThat(cache.list("snapshots")).containsExactly(named("snapshots", kept));
        assertThat(dir.resolve("counted-cache").resolve(named("snapshots", gone))).doesNotExist();
        assertThat(dir.resolve("counted-cache").resolve(named("snapshots", kept))).exists();
    }

    @Test
    void retainKeepsOnlyTheNamedTreePacks() {
        counted();
        byte[] a = bytes(100, 7);
        byte[] b = bytes(100, 8);
        cache.write(named("tree", a), a);
        cache.write(named("tree", b), b);

        cache.retain("tree", List.of(named("tree", a)));

        assertThat(dir.resolve("counted-cache").resolve(named("tree", a))).exists();
        assertThat(dir.resolve("counted-cache").resolve(named("tree", b))).doesNotExist();
    }

    @Test
    void aCacheThatCannotBeWrittenOnlyCostsSpeed() throws IOException {
        Path notADirectory = Files.writeString(dir.resolve("a-file"), "x");
        FaultyBackend r = new FaultyBackend(new LocalBackend(dir.resolve("r")));
        CachingBackend c = new CachingBackend(r, notADirectory);
        byte[] data = bytes(1000, 9);
        String name = named("keys", data);

        c.write(name, data);
        assertThat(c.read(name)).isEqualTo(data);
        assertThat(c.read(name)).isEqualTo(data);
        assertThat(c.list("keys")).containsExactly(name);
        assertThat(r.calls(FaultyBackend.Op.READ)).isEqualTo(2);
        assertThat(c.failures()).isPositive();
    }

    @Test
    void theCacheOfARepositoryIsAFolderNamedByItsId() {
        CachingBackend c = CachingBackend.forRepository(new LocalBackend(dir.resolve("r")), dir.resolve("root"), "0123abcd");
        assertThat(c.directory()).isEqualTo(dir.resolve("root/0123abcd"));
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> CachingBackend.forRepository(new LocalBackend(dir.resolve("r")), dir.resolve("root"), "../etc"))
                .isInstanceOf(io.haven.core.HavenException.class);
    }

    @Test
    void aTreePackDamagedInTheCacheAfterItWasCheckedIsReadFromTheRepositoryInstead() throws IOException {
        counted();
        var clock = java.time.InstantSource.fixed(java.time.Instant.parse("2026-03-04T05:06:07Z"));
        io.haven.repository.Repository.init(remote, "pw".toCharArray(), 8192,
                new io.haven.repository.Repository.Actor("h", "u"), clock, new java.security.SecureRandom()).close();
        var repo = io.haven.repository.Repository.open(cache, "pw".toCharArray(), clock, new java.security.SecureRandom());
        var tree = new io.haven.repository.tree.Tree(List.of());
        byte[] encoded = tree.encode();
        var writer = repo.newWriter();
        io.haven.repository.BlobId id = writer.saveTree(encoded);
        writer.flush();
        var loc = repo.index().lookup(id);
        assertThat(cache.isCached(loc.packName())).isTrue();

        Path copy = dir.resolve("counted-cache").resolve(loc.packName());
        byte[] bytes = Files.readAllBytes(copy);
        bytes[loc.offset() + 20] ^= 0x40;
        Files.write(copy, bytes);
        int remoteReads = remote.calls(FaultyBackend.Op.READ);

        assertThat(repo.loadBlob(id, loc)).isEqualTo(encoded);
        assertThat(cache.failures()).isEqualTo(1);
        assertThat(remote.calls(FaultyBackend.Op.READ)).isEqualTo(remoteReads + 1);
        assertThat(Files.readAllBytes(copy)).isNotEqualTo(bytes);
        repo.close();
    }
}
