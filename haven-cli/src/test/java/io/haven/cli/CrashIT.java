package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills {@code haven backup} with SIGKILL at seeded random moments. After every kill the
 * repository must pass {@code check --read-data}, every snapshot that existed before must
 * restore completely, and the next backup must complete. More kills with
 * {@code -Dhaven.crash.kills=N}.
 */
class CrashIT {
    @TempDir
    Path tmp;

    @Test
    void aKilledBackupLeavesACheckableRepositoryAndTheNextBackupCompletes() throws Exception {
        int kills = Integer.getInteger("haven.crash.kills", 6);
        Random rnd = new Random(Long.getLong("haven.crash.seed", 20261123L));
        Path src = Files.createDirectories(tmp.resolve("src"));
        for (int i = 0; i < 24; i++) {
            byte[] data = new byte[(1 + rnd.nextInt(4)) << 20];
            rnd.nextBytes(data);
            Files.write(src.resolve("file-" + i + ".bin"), data);
        }
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "crash");
        haven.run("init", "--kdf-memory", "8").expect(0);
        haven.run("backup", "--threads", "2", src.toString()).expect(0);
        Path reference = tmp.resolve("reference");
        haven.run("restore", "latest:" + src, "--target", reference.toString()).expect(0);

        int killed = 0;
        for (int k = 0; k < kills; k++) {
            // change some content so the backup has work to do
            for (int i = 0; i < 6; i++) {
                byte[] data = new byte[(1 + rnd.nextInt(3)) << 20];
                rnd.nextBytes(data);
                Files.write(src.resolve("file-" + rnd.nextInt(24) + ".bin"), data);
            }
            Process p = haven.builder("backup", src.toString()).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("killed.log").toFile()).start();
            long delay = 200 + rnd.nextInt(2500);
            if (!p.waitFor(delay, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                killed++;
            }
            HavenCli.Result check = haven.run("check", "--read-data");
            assertThat(check.exit()).as("check after kill %d at %d ms:%n%s%s", k, delay, check.out(), check.err()).isZero();
            Path restored = tmp.resolve("restored-" + k);
            String first = new ObjectMapper().readTree(haven.run("snapshots", "--json").expect(0).out()).get(0).get("id").asText();
            haven.run("restore", first + ":" + src, "--target", restored.toString()).expect(0);
            for (int i = 0; i < 24; i++) {
                assertThat(Files.mismatch(reference.resolve("file-" + i + ".bin"), restored.resolve("file-" + i + ".bin")))
                        .as("file %d of the first snapshot after kill %d", i, k).isEqualTo(-1L);
            }
            HavenCli.sh("rm", "-rf", restored.toString());
        }
        assertThat(killed).as("backups actually killed").isGreaterThan(0);
        haven.run("backup", src.toString()).expect(0);
        haven.run("check", "--read-data").expect(0);
        Path last = tmp.resolve("last");
        haven.run("restore", "latest:" + src, "--target", last.toString()).expect(0);
        for (int i = 0; i < 24; i++) {
            assertThat(Files.mismatch(src.resolve("file-" + i + ".bin"), last.resolve("file-" + i + ".bin"))).isEqualTo(-1L);
        }
    }
}
