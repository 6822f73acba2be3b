package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills {@code haven backup} and {@code haven prune} with SIGKILL at seeded random moments
 * (16 of each by default, to keep the default suite near 15 minutes; more with {@code -Dhaven.crash.kills=N}, another sequence with
 * {@code -Dhaven.crash.seed=S}). After every kill the repository must pass
 * {@code check --read-data} (which verifies that every chunk of every snapshot is present and
 * authentic; run after every kill), the oldest and newest snapshots must restore byte for byte
 * (after every fifth kill and at the end), and the next run of the command must complete.
 */
class CrashIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static int kills() {
        return Integer.getInteger("haven.crash.kills", 16);
    }

    private static Random random() {
        return new Random(Long.getLong("haven.crash.seed", 20261123L));
    }

    private static void randomFile(Path p, int size, Random rnd) throws IOException {
        byte[] data = new byte[size];
        rnd.nextBytes(data);
        Files.write(p, data);
    }

    /** Relative path → SHA-256 hex of each regular file. */
    static Map<String, String> contents(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return out;
    }

    private static JsonNode snapshots(HavenCli haven) throws Exception {
        return JSON.readTree(haven.run("snapshots", "--json").expect(0).out());
    }

    /**
     * check --read-data passes (every chunk of every snapshot is present and authentic), and
     * with {@code restore} the oldest and newest snapshots restore to what was backed up.
     */
    private void verify(HavenCli haven, Path src, Map<String, Map<String, String>> expected, String when, boolean restore)
            throws Exception {
        HavenCli.Result check = haven.run("check", "--read-data");
        assertThat(check.exit()).as("check %s:%n%s%s", when, check.out(), check.err()).isZero();
        if (!restore) {
            return;
        }
        JsonNode snaps = snapshots(haven);
        for (JsonNode s : new JsonNode[] {snaps.get(0), snaps.get(snaps.size() - 1)}) {
            String id = s.get("id").asText();
            Path restored = tmp.resolve("restored");
            haven.run("restore", id + ":" + src, "--target", restored.toString()).expect(0);
            assertThat(contents(restored)).as("snapshot %s %s", id.substring(0, 8), when).isEqualTo(expected.get(id));
            HavenCli.sh("rm", "-rf", restored.toString());
        }
    }

    private static long timed(HavenCli haven, String... args) {
        long t0 = System.nanoTime();
        haven.run(args).expect(0);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Starts the command, kills it after a random delay below {@code maxMillis}; true when it was killed. */
    private boolean runAndKill(HavenCli haven, Random rnd, long maxMillis, String... args) throws Exception {
        Process p = haven.builder(args).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile()).start();
        long delay = 50 + (long) (rnd.nextDouble() * maxMillis);
        if (!p.waitFor(delay, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            return true;
        }
        return false;
    }

    private String latestId(HavenCli haven) throws Exception {
        JsonNode snaps = snapshots(haven);
        return snaps.get(snaps.size() - 1).get("id").asText();
    }

    @Test
    void aKilledBackupLeavesACheckableRepositoryAndTheNextBackupCompletes() throws Exception {
        Random rnd = random();
        Path src = Files.createDirectories(tmp.resolve("src"));
        for (int i = 0; i < 24; i++) {
            randomFile(src.resolve("file-" + i + ".bin"), 64 * 1024 + rnd.nextInt(700 * 1024), rnd);
        }
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "crash").env("HAVEN_STALE_AFTER", "3");
        haven.run("init", "--kdf-memory", "8").expect(0);
        Map<String, Map<String, String>> expected = new HashMap<>();
        long normal = timed(haven, "backup", "--threads", "2", src.toString());
        expected.put(latestId(haven), contents(src));

        int killed = 0;
        for (int k = 0; k < kills(); k++) {
            for (int i = 0; i < 4; i++) {
                randomFile(src.resolve("file-" + rnd.nextInt(24) + ".bin"), 64 * 1024 + rnd.nextInt(700 * 1024), rnd);
            }
            int before = snapshots(haven).size();
            if (runAndKill(haven, rnd, normal + 200, "backup", src.toString())) {
                killed++;
            }
            if (snapshots(haven).size() > before) {
                // finished, or killed after its snapshot was saved (while it closed and exited)
                expected.put(latestId(haven), contents(src));
            }
            verify(haven, src, expected, "after backup kill " + k, k % 5 == 0);
            if (k % 5 == 4) {
                haven.run("backup", src.toString()).expect(0);
                expected.put(latestId(haven), contents(src));
            }
        }
        assertThat(killed).as("backups actually killed").isGreaterThanOrEqualTo(kills() / 2);
        haven.run("backup", src.toString()).expect(0);
        expected.put(latestId(haven), contents(src));
        verify(haven, src, expected, "at the end", true);
    }

    @Test
    void aKilledPruneLeavesACheckableRepositoryAndTheNextPruneCompletes() throws Exception {
        Random rnd = random();
        Path src = Files.createDirectories(tmp.resolve("src"));
        for (int i = 0; i < 16; i++) {
            randomFile(src.resolve("file-" + i + ".bin"), 64 * 1024 + rnd.nextInt(500 * 1024), rnd);
        }
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "crash").env("HAVEN_STALE_AFTER", "3");
        haven.run("init", "--kdf-memory", "8").expect(0);
        Map<String, Map<String, String>> expected = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            haven.run("backup", src.toString()).expect(0);
            expected.put(latestId(haven), contents(src));
        }
        long normal = timed(haven, "prune");
        int killed = 0;
        for (int k = 0; k < kills(); k++) {
            // new garbage every round: changed files, and the oldest snapshots forgotten
            for (int i = 0; i < 3; i++) {
                randomFile(src.resolve("file-" + rnd.nextInt(16) + ".bin"), 64 * 1024 + rnd.nextInt(500 * 1024), rnd);
            }
            haven.run("backup", src.toString()).expect(0);
            expected.put(latestId(haven), contents(src));
            haven.run("forget", "--keep-last", "3").expect(0);
            if (runAndKill(haven, rnd, normal + 400, "prune", "--repack-threshold", "10")) {
                killed++;
            }
            verify(haven, src, expected, "after prune kill " + k, k % 5 == 0);
            if (k % 3 == 2) {
                // the next prune completes; the killed one's marker stops counting after 3 s
                haven.run("prune", "--wait", "30").expect(0);
                try (Stream<Path> sets = Files.list(tmp.resolve("repo/condemned"))) {
                    assertThat(sets.filter(p -> !p.getFileName().toString().contains(".tmp-")).toList())
                            .as("condemned sets left after a completed prune").isEmpty();
                }
            }
        }
        assertThat(killed).as("prunes actually killed").isGreaterThanOrEqualTo(kills() / 3);
        haven.run("prune", "--wait", "30").expect(0);
        verify(haven, src, expected, "at the end", true);
    }
}
