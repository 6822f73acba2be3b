package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.repository.backend.S3TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real {@code haven} command against a real S3 server (s3proxy) on loopback. */
class S3IT {
    @TempDir
    Path tmp;
    S3TestServer s3;
    HavenCli haven;

    @BeforeEach
    void start() throws Exception {
        s3 = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")));
        haven = new HavenCli(tmp.resolve("unused"), "s3 password").env("HAVEN_REPO", s3.location("team/repo").toString())
                .env("HAVEN_STALE_AFTER", "3");
        for (Map.Entry<String, String> e : s3.environment().entrySet()) {
            haven.env(e.getKey(), e.getValue());
        }
    }

    @AfterEach
    void stop() {
        s3.close();
    }

    @Test
    void backupForgetPruneCheckAndRestoreThroughS3() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Random rnd = new Random(3);
        for (int i = 0; i < 6; i++) {
            byte[] b = new byte[300_000 + rnd.nextInt(900_000)];
            rnd.nextBytes(b);
            Files.write(src.resolve("f" + i), b);
        }
        haven.run("init", "--kdf-memory", "8").expect(0);
        assertThat(haven.run("init", "--kdf-memory", "8").exit()).isEqualTo(1);
        haven.run("backup", src.toString()).expect(0);
        // a prefix that holds objects is refused, as a directory that is not empty is: a repository
        // inside another one's data/ would lose its objects to the other's prune
        String nested = s3.location("team/repo/data").toString();
        assertThat(haven.run("--repo", nested, "init", "--kdf-memory", "8").expect(1).err())
                .contains("is not empty", "object(s), such as ", "choose an empty or new prefix");
        Files.delete(src.resolve("f0"));
        Files.write(src.resolve("f1"), new byte[] {1, 2, 3});
        haven.run("backup", src.toString()).expect(0);
        Map<String, String> expected = CrashIT.contents(src);
        haven.run("forget", "--keep-last", "1", "--prune").expect(0);
        JsonNode snaps = new ObjectMapper().readTree(haven.run("snapshots", "--json").expect(0).out());
        assertThat(snaps.size()).isEqualTo(1);
        JsonNode check = new ObjectMapper().readTree(haven.run("--json", "check", "--read-data").expect(0).out());
        assertThat(check.get("ok").asBoolean()).isTrue();
        Path target = tmp.resolve("restored");
        haven.run("restore", "latest:" + src, "--target", target.toString()).expect(0);
        assertThat(CrashIT.contents(target)).isEqualTo(expected);
        // the objects are where the format says: under the prefix, same names as on disk
        assertThat(s3.dataDir().resolve(s3.bucket())).exists();
    }

    @Test
    void wrongCredentialsAndAMissingBucketGiveClearErrors() {
        HavenCli.Result bad = haven.env("AWS_SECRET_ACCESS_KEY", "not-the-secret").run("snapshots");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).containsIgnoringCase("access").contains("AWS_");
        HavenCli.Result noBucket = haven.env("AWS_SECRET_ACCESS_KEY", s3.secretKey())
                .env("HAVEN_REPO", s3.location("no-such-bucket", "").toString()).run("snapshots");
        assertThat(noBucket.exit()).isEqualTo(1);
        assertThat(noBucket.err()).contains("no-such-bucket");
    }
}
