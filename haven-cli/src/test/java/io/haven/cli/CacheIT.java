package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.repository.backend.S3TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A site cache on local disk in front of a main repository in S3 (s3proxy on loopback), through the real command. */
class CacheIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    S3TestServer s3;
    HavenCli main;
    HavenCli cache;
    Path cacheDir;
    Path src;

    @BeforeEach
    void start() throws Exception {
        s3 = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")));
        String mainLoc = s3.location("hq/repo").toString();
        main = new HavenCli(tmp.resolve("unused"), "site password").env("HAVEN_REPO", mainLoc)
                .env("XDG_CACHE_HOME", tmp.resolve("xdg").toString());
        cacheDir = tmp.resolve("site-cache");
        cache = new HavenCli(cacheDir, "site password").env("XDG_CACHE_HOME", tmp.resolve("xdg").toString());
        for (Map.Entry<String, String> e : s3.environment().entrySet()) {
            main.env(e.getKey(), e.getValue());
            cache.env(e.getKey(), e.getValue());
        }
        main.run("init", "--kdf-memory", "8").expect(0);
        src = Files.createDirectories(tmp.resolve("src"));
        Random rnd = new Random(4);
        for (int i = 0; i < 5; i++) {
            byte[] b = new byte[300_000 + rnd.nextInt(200_000)];
            rnd.nextBytes(b);
            Files.write(src.resolve("f" + i), b);
        }
    }

    @AfterEach
    void stop() {
        s3.close();
    }

    @Test
    void backupsLandInTheCacheSyncUploadsThemAndBothRestore() throws Exception {
        String mainLoc = s3.location("hq/repo").toString();
        assertThat(cache.env("HAVEN_PASSWORD", "wrong").run("cache", "init", "--for", mainLoc, cacheDir.toString()).expect(1).err())
                .contains("wrong password");
        cache.env("HAVEN_PASSWORD", "site password");
        cache.run("cache", "init", "--for", mainLoc, "--max-size", "1MiB", cacheDir.toString()).expect(0);
        assertThat(cache.run("cache", "init", "--for", mainLoc, cacheDir.toString()).expect(1).err()).contains("not empty");

        cache.run("backup", src.toString()).expect(0);
        Map<String, String> expected = CrashIT.contents(src);
        JsonNode status = JSON.readTree(cache.run("--json", "cache", "status").expect(0).out());
        assertThat(status.get("snapshots_not_synced").asInt()).isEqualTo(1);
        assertThat(JSON.readTree(main.run("snapshots", "--json").expect(0).out()).size()).isZero();

        JsonNode sync = JSON.readTree(cache.run("--json", "cache", "sync", "--bwlimit", "50MiB/s").expect(0).out());
        assertThat(sync.get("snapshots_synced").asInt()).isEqualTo(1);
        assertThat(sync.get("bytes_uploaded").asLong()).isGreaterThan(1_000_000);
        assertThat(sync.get("bytes_evicted").asLong()).isPositive();   // over 1 MiB: the uploaded data left the cache
        assertThat(JSON.readTree(main.run("snapshots", "--json").expect(0).out()).size()).isEqualTo(1);
        main.run("check", "--read-data").expect(0);
        cache.run("check", "--read-data").expect(0);

        Path fromMain = tmp.resolve("from-main");
        main.run("restore", "latest:" + src, "--target", fromMain.toString()).expect(0);
        assertThat(CrashIT.contents(fromMain)).isEqualTo(expected);
        Path fromCache = tmp.resolve("from-cache");
        cache.run("restore", "latest:" + src, "--target", fromCache.toString()).expect(0);   // evicted: read from main
        assertThat(CrashIT.contents(fromCache)).isEqualTo(expected);

        // maintenance belongs to the main repository
        assertThat(cache.run("prune").expect(1).err()).contains("site cache", "main repository");
        assertThat(cache.run("forget", "--keep-last", "1").expect(1).err()).contains("site cache");
        assertThat(main.run("cache", "sync").expect(1).err()).contains("not a site cache");
    }

    @Test
    void aSyncKilledAtRandomMomentsLeavesTheMainRepositoryValidAndTheNextOneFinishes() throws Exception {
        cache.run("cache", "init", "--for", s3.location("hq/repo").toString(), cacheDir.toString()).expect(0);
        cache.run("backup", src.toString()).expect(0);
        Files.write(src.resolve("f1"), new byte[] {4, 5, 6});
        cache.run("backup", src.toString()).expect(0);
        Map<String, String> latest = CrashIT.contents(src);
        Random rnd = new Random(21);
        for (int round = 0; round < 3; round++) {
            Process p = cache.builder("cache", "sync", "--bwlimit", "300KiB/s").redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("sync-" + round + ".log").toFile()).start();
            Thread.sleep(1200 + rnd.nextInt(2500));
            p.destroyForcibly();   // SIGKILL: the launcher execs the JVM
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            main.run("check", "--read-data").expect(0);
        }
        cache.run("cache", "sync").expect(0);
        assertThat(JSON.readTree(main.run("snapshots", "--json").expect(0).out()).size()).isEqualTo(2);
        main.run("check", "--read-data").expect(0);
        Path target = tmp.resolve("restored");
        main.run("restore", "latest:" + src, "--target", target.toString()).expect(0);
        assertThat(CrashIT.contents(target)).isEqualTo(latest);
    }
}
