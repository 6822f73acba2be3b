package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several {@code haven backup} processes (three "hosts" with partly shared data) and a
 * {@code haven prune} run at the same time on one repository, round after round, with
 * {@code forget} between rounds. Nothing may be lost: every snapshot restores to what was
 * backed up, check --read-data passes, and shared chunks are stored about once.
 */
class ConcurrentIT {
    @TempDir
    Path tmp;

    @Test
    void concurrentBackupsAndPruneLoseNothing() throws Exception {
        Random rnd = new Random(Long.getLong("haven.concurrent.seed", 7L));
        int rounds = Integer.getInteger("haven.concurrent.rounds", 4);
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "many").env("HAVEN_STALE_AFTER", "3");
        haven.run("init", "--kdf-memory", "8").expect(0);
        byte[] shared = new byte[3 << 20];
        rnd.nextBytes(shared);
        List<Path> hosts = new ArrayList<>();
        for (int h = 0; h < 3; h++) {
            Path dir = Files.createDirectories(tmp.resolve("host" + h));
            Files.write(dir.resolve("shared.bin"), shared);
            hosts.add(dir);
        }
        Map<String, Map<String, String>> expected = new HashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (Path dir : hosts) {
                byte[] own = new byte[(1 + rnd.nextInt(3)) << 19];
                rnd.nextBytes(own);
                Files.write(dir.resolve("own-" + rnd.nextInt(4) + ".bin"), own);
            }
            List<Process> running = new ArrayList<>();
            List<Path> outs = new ArrayList<>();
            for (int h = 0; h < hosts.size(); h++) {
                Path out = tmp.resolve("backup-" + round + "-" + h + ".json");
                outs.add(out);
                running.add(haven.builder("--json", "backup", "--host", "host" + h, hosts.get(h).toString())
                        .redirectOutput(out.toFile()).redirectError(tmp.resolve("backup-" + round + "-" + h + ".err").toFile()).start());
            }
            Process prune = haven.builder("prune", "--repack-threshold", "5").redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("prune-" + round + ".log").toFile()).start();
            for (int h = 0; h < hosts.size(); h++) {
                assertThat(running.get(h).waitFor()).as("backup %d of round %d: %s", h, round,
                        Files.readString(tmp.resolve("backup-" + round + "-" + h + ".err"))).isZero();
                String id = new ObjectMapper().readTree(Files.readString(outs.get(h))).get("snapshot_id").asText();
                expected.put(id, CrashIT.contents(hosts.get(h)));
            }
            assertThat(prune.waitFor()).as("prune of round %d: %s", round,
                    Files.readString(tmp.resolve("prune-" + round + ".log"))).isZero();
            haven.run("check", "--read-data").expect(0);
            haven.run("forget", "--keep-last", "2").expect(0);
        }
        haven.run("prune", "--wait", "30").expect(0);
        haven.run("check", "--read-data").expect(0);
        JsonNode snaps = new ObjectMapper().readTree(haven.run("snapshots", "--json").expect(0).out());
        assertThat(snaps.size()).isEqualTo(6);
        Map<String, Long> distinct = new HashMap<>();
        for (JsonNode s : snaps) {
            String id = s.get("id").asText();
            String path = s.get("paths").get(0).asText();
            Path target = tmp.resolve("r-" + id.substring(0, 8));
            haven.run("restore", id + ":" + path, "--target", target.toString()).expect(0);
            Map<String, String> got = CrashIT.contents(target);
            assertThat(got).as("snapshot %s", id.substring(0, 8)).isEqualTo(expected.get(id));
            for (Map.Entry<String, String> f : got.entrySet()) {
                distinct.put(f.getValue(), Files.size(target.resolve(f.getKey())));
            }
        }
        // the shared file was backed up by three hosts at once in every round; after prune the
        // repository holds each distinct file about once (random data does not compress)
        long unique = distinct.values().stream().mapToLong(Long::longValue).sum();
        long stored = 0;
        try (var files = Files.walk(tmp.resolve("repo"))) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                stored += Files.size(p);
            }
        }
        assertThat(stored).as("bytes stored for %d bytes of distinct files", unique).isLessThan(unique + (1 << 20));
    }
}
