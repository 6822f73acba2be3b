package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.repository.backend.S3TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cold tier through the real command: set, apply, restore old and new points, thaw, prune. */
class TierIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void localRepositoryWithAnArchiveDirectory() throws Exception {
        Path archive = tmp.resolve("archive");
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "tier password");
        Files.createDirectories(archive); // Haven does not create a cold directory (a mistyped path is refused)
        cycle(haven, archive.toString(), () -> countFiles(archive.resolve("data")), false);
        // the archive names its repository; the policy stores it absolute; it may not overlap the repository
        assertThat(archive.resolve("haven-cold-tier")).exists();
        JsonNode shown = JSON.readTree(haven.run("--json", "tier", "show").expect(0).out());
        assertThat(shown.get("policy").get("cold").asText()).isEqualTo("local:" + archive);
        assertThat(haven.run("tier", "set", "--cold", tmp.resolve("repo").toString()).expect(1).err()).contains("overlaps");
        assertThat(haven.run("tier", "set", "--cold", tmp.resolve("repo/data").toString()).expect(1).err()).contains("overlaps");
        HavenCli other = new HavenCli(tmp.resolve("other-repo"), "tier password");
        other.run("init", "--kdf-memory", "8").expect(0);
        assertThat(other.run("tier", "set", "--cold", archive.toString()).expect(1).err()).contains("belongs to another repository");
    }

    @Test
    void policyChangesAndAnArchiveThatIsNotMounted() throws Exception {
        Path archive = Files.createDirectories(tmp.resolve("archive"));
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "tier password");
        haven.run("init", "--kdf-memory", "8").expect(0);
        Path src = Files.createDirectories(tmp.resolve("src"));
        Random rnd = new Random(11);
        byte[] b = new byte[300_000];
        rnd.nextBytes(b);
        Files.write(src.resolve("old"), b);
        haven.run("backup", "--time", "2025-01-01T00:00:00Z", src.toString()).expect(0);
        Map<String, String> oldContents = CrashIT.contents(src);
        rnd.nextBytes(b);
        Files.write(src.resolve("old"), b);
        haven.run("backup", src.toString()).expect(0);
        Map<String, String> newContents = CrashIT.contents(src);
        String oldId = JSON.readTree(haven.run("snapshots", "--json").expect(0).out()).get(0).get("id").asText();

        // mistakes refused before anything is stored
        assertThat(haven.run("tier", "set", "--cold", tmp.resolve("no/such/mount").toString()).expect(1).err())
                .contains("is not a directory", "create it");
        assertThat(tmp.resolve("no")).doesNotExist();
        assertThat(haven.run("tier", "set", "--cold", archive.toString(), "--tag-after", "=5d").expect(1).err())
                .contains("--tag-after", "TAG=AGE");
        assertThat(haven.run("tier", "set", "--cold", archive.toString(), "--tag-after", "keep=1y", "--tag-after", "keep=2d")
                .expect(1).err()).contains("--tag-after", "'keep' twice", "1y and 2d");
        assertThat(haven.run("tier", "set", "--cold", archive.toString(), "--host-after", "db1").expect(1).err())
                .contains("--host-after needs HOST=AGE");
        assertThat(haven.run("tier", "show").expect(0).out()).contains("no tier policy");

        haven.run("tier", "set", "--cold", archive.toString(), "--after", "90d").expect(0);
        long moved = JSON.readTree(haven.run("--json", "tier", "apply").expect(0).out()).get("packs_moved").asLong();
        assertThat(moved).isPositive();

        // another cold location while packs are cold would lose them: refused, saying how to bring them back
        Path elsewhere = Files.createDirectories(tmp.resolve("archive2"));
        assertThat(haven.run("tier", "set", "--cold", elsewhere.toString()).expect(1).err())
                .contains(moved + " pack(s)", "lose track", "--after 100y", "haven tier apply");
        assertThat(JSON.readTree(haven.run("--json", "tier", "show").expect(0).out()).get("cold_packs").asLong()).isEqualTo(moved);

        // the archive volume is not mounted: the new point still restores, the old one says why it cannot
        Path offline = tmp.resolve("archive-offline");
        Files.move(archive, offline);
        Files.createDirectories(archive);
        haven.run("restore", "latest:" + src, "--target", tmp.resolve("new").toString()).expect(0);
        assertThat(CrashIT.contents(tmp.resolve("new"))).isEqualTo(newContents);
        assertThat(haven.run("restore", oldId + ":" + src, "--target", tmp.resolve("old").toString()).expect(1).err())
                .contains("not in warm storage", "mounted");
        HavenCli.Result show = haven.run("tier", "show").expect(1);
        assertThat(show.out()).contains("old after:   90d", "cold packs:  unknown");
        assertThat(show.err()).contains("mounted");
        Files.delete(archive);
        Files.move(offline, archive);

        // a restore from the archive says what it copied back and for how long
        HavenCli.Result old = haven.run("restore", oldId + ":" + src, "--target", tmp.resolve("old").toString()).expect(0);
        assertThat(old.err()).contains("thawed " + moved + " cold pack(s)", "for 7 day(s)");
        assertThat(CrashIT.contents(tmp.resolve("old"))).isEqualTo(oldContents);

        // a policy under which the old point is new brings its data back for good; then the location may change
        haven.run("tier", "set", "--cold", archive.toString(), "--after", "100y").expect(0);
        HavenCli.Result back = haven.run("tier", "apply").expect(0);
        assertThat(back.out()).contains("brought " + moved + " cold pack(s)", "newer snapshots use them");
        assertThat(countFiles(archive.resolve("data"))).isZero();
        haven.run("tier", "set", "--cold", elsewhere.toString(), "--after", "100y").expect(0);
        haven.run("restore", oldId + ":" + src, "--target", tmp.resolve("old-again").toString()).expect(0);
        assertThat(CrashIT.contents(tmp.resolve("old-again"))).isEqualTo(oldContents);
        haven.run("check", "--read-data").expect(0);
    }

    @Test
    void s3RepositoryWithASeparateColdBucket() throws Exception {
        try (S3TestServer s3 = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")))) {
            s3.createBucket("haven-cold");
            HavenCli haven = new HavenCli(tmp.resolve("unused"), "tier password")
                    .env("HAVEN_REPO", s3.location("site-a/repo").toString())
                    .env("XDG_CACHE_HOME", tmp.resolve("cache").toString());
            for (Map.Entry<String, String> e : s3.environment().entrySet()) {
                haven.env(e.getKey(), e.getValue());
            }
            String cold = s3.location("haven-cold", "site-a").toString();
            cycle(haven, cold, () -> countFiles(s3.dataDir().resolve("haven-cold/site-a/data")), true);
        }
    }

    interface Count {
        long get() throws Exception;
    }

    private static long countFiles(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).count();
        }
    }

    private void cycle(HavenCli haven, String cold, Count coldFiles, boolean s3Repository) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Random rnd = new Random(9);
        for (int i = 0; i < 4; i++) {
            byte[] b = new byte[200_000 + rnd.nextInt(300_000)];
            rnd.nextBytes(b);
            Files.write(src.resolve("f" + i), b);
        }
        haven.run("init", "--kdf-memory", "8").expect(0);

        // bad input first: nothing to apply, a storage class where it cannot be, a malformed age
        assertThat(haven.run("tier", "apply").expect(1).err()).contains("no tier policy", "haven tier set");
        if (s3Repository) {
            assertThat(haven.run("tier", "set", "--cold", "class:STANDARD").expect(1).err()).contains("STANDARD", "archive class");
            assertThat(haven.run("tier", "set", "--cold", "DEEP_ARCHIVE", "--retrieval", "Expedited").expect(1).err())
                    .contains("no Expedited retrieval from DEEP_ARCHIVE");
        } else {
            assertThat(haven.run("tier", "set", "--cold", "GLACIER").expect(1).err())
                    .contains("a storage class needs a repository in S3; use a directory or s3: bucket location");
        }
        assertThat(haven.run("tier", "set", "--cold", cold, "--after", "ninety days").expect(1).err()).contains("--after");
        assertThat(haven.run("tier", "show").expect(0).out()).contains("no tier policy");

        haven.run("backup", "--time", "2025-01-01T00:00:00Z", src.toString()).expect(0);
        Map<String, String> oldContents = CrashIT.contents(src);
        // the data of the old point shares no pack with the new one (packs are what moves)
        Files.write(src.resolve("f1"), new byte[] {1, 2, 3});
        for (String f : new String[] {"f0", "f2", "f3", "f4"}) {
            byte[] fresh = new byte[250_000];
            rnd.nextBytes(fresh);
            Files.write(src.resolve(f), fresh);
        }
        haven.run("backup", src.toString()).expect(0);
        Map<String, String> newContents = CrashIT.contents(src);
        JsonNode snaps = JSON.readTree(haven.run("snapshots", "--json").expect(0).out());
        String oldId = snaps.get(0).get("id").asText();

        if (s3Repository) {
            // a storage class is accepted for a repository in S3; s3proxy keeps a copied object in
            // STANDARD whatever class the copy asks for, and the freeze says so and moves nothing
            haven.run("tier", "set", "--cold", "glacier", "--after", "90d").expect(0);
            assertThat(haven.run("tier", "show").expect(0).out()).contains("S3 storage class GLACIER");
            HavenCli.Result refused = haven.run("tier", "apply").expect(1);
            assertThat(refused.err()).contains("GLACIER", "keeps it in STANDARD", "does not support");
            assertThat(JSON.readTree(haven.run("--json", "tier", "show").expect(0).out()).get("cold_packs").asLong()).isZero();
        }

        haven.run("tier", "set", "--cold", cold, "--after", "90d", "--thaw-days", "3").expect(0);
        JsonNode dry = JSON.readTree(haven.run("--json", "tier", "apply", "--dry-run").expect(0).out());
        assertThat(dry.get("packs_moved").asLong()).isPositive();
        assertThat(dry.get("snapshots_old").asInt()).isEqualTo(1);
        assertThat(coldFiles.get()).isZero();

        JsonNode applied = JSON.readTree(haven.run("--json", "tier", "apply").expect(0).out());
        long moved = applied.get("packs_moved").asLong();
        assertThat(moved).isEqualTo(dry.get("packs_moved").asLong());
        assertThat(coldFiles.get()).isEqualTo(moved);
        JsonNode shown = JSON.readTree(haven.run("--json", "tier", "show").expect(0).out());
        assertThat(shown.get("cold_packs").asLong()).isEqualTo(moved);
        assertThat(shown.get("policy").get("thaw_days").asInt()).isEqualTo(3);

        HavenCli.Result check = haven.run("check", "--read-data").expect(0);
        assertThat(check.out() + check.err()).contains("cold tier");

        Path newTarget = tmp.resolve("restore-new");
        haven.run("restore", "latest:" + src, "--target", newTarget.toString()).expect(0);
        assertThat(CrashIT.contents(newTarget)).isEqualTo(newContents);

        // the archive copies back on request, so the thaw is done when the command asks for it
        JsonNode thaw = JSON.readTree(haven.run("--json", "thaw", oldId).expect(0).out());
        assertThat(thaw.get("packs_cold").asLong()).isEqualTo(moved);
        assertThat(thaw.get("done").asBoolean()).isTrue();
        Path oldTarget = tmp.resolve("restore-old");
        haven.run("restore", oldId + ":" + src, "--target", oldTarget.toString()).expect(0);
        assertThat(CrashIT.contents(oldTarget)).isEqualTo(oldContents);

        haven.run("forget", oldId, "--prune").expect(0);
        assertThat(coldFiles.get()).isZero();
        haven.run("check", "--read-data").expect(0);
    }
}
