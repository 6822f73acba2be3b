package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ways out of a damaged repository, through the built {@code bin/haven}, as the audit ran them. */
class RepairIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    Path repo;
    HavenCli haven;

    @BeforeEach
    void setUp() {
        repo = tmp.resolve("repo");
        haven = new HavenCli(repo, "pw");
        haven.run("init", "--kdf-memory", "8").expect(0);
    }

    private static void write(Path file, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        Files.createDirectories(file.getParent());
        Files.write(file, b);
    }

    private List<Path> packs(String dir) throws IOException {
        try (Stream<Path> s = Files.walk(repo.resolve(dir))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void aDamagedBlobIsDroppedByRepairIndexReadDataAndStoredAgainByTheNextBackup() throws Exception {
        Path src = tmp.resolve("src");
        write(src.resolve("a.bin"), 3_000_000, 1);
        write(src.resolve("b.txt"), 1000, 2);
        haven.run("backup", src.toString()).expect(0);
        Path pack = packs("data").get(0);
        try (RandomAccessFile f = new RandomAccessFile(pack.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 1);
        }
        String check = haven.run("check", "--read-data").expect(1).out();
        assertThat(check).contains("failed authentication")
                .contains("run 'haven repair index --read-data', then 'haven repair snapshots'");

        JsonNode r = JSON.readTree(haven.run("repair", "index", "--read-data", "--json").expect(0).out());
        assertThat(r.get("damaged_packs")).hasSize(1);
        assertThat(r.get("damaged_packs").get(0).get("pack").asText()).endsWith(pack.getFileName().toString());
        assertThat(r.get("damaged_packs").get(0).get("damaged_blobs")).hasSize(1);

        String repaired = haven.run("repair", "snapshots", "--forget").expect(0).out();
        assertThat(repaired).contains("a.bin").contains("repaired 1 snapshot(s)");
        JsonNode list = JSON.readTree(haven.run("snapshots", "--json").expect(0).out());
        assertThat(list).hasSize(1);
        assertThat(list.get(0).get("files").asLong()).isEqualTo(1);
        assertThat(list.get(0).get("size").asLong()).isEqualTo(1000);

        JsonNode again = JSON.readTree(haven.run("backup", "--force", "--json", src.toString()).expect(0).out());
        assertThat(again.get("bytes_added").asLong()).isPositive();
        Path out = tmp.resolve("out");
        haven.run("restore", "latest", "--target", out.toString()).expect(0);
        Path restored = out.resolve(src.toString().substring(1));
        assertThat(Files.readAllBytes(restored.resolve("a.bin"))).isEqualTo(Files.readAllBytes(src.resolve("a.bin")));

        haven.run("prune").expect(0);
        assertThat(pack).doesNotExist();
        assertThat(haven.run("check", "--read-data").expect(0).out()).doesNotContain("warning");
    }

    @Test
    void afterALostIndexFileTheWayOutIsRepairIndexAndNothingDeletesTheData() throws Exception {
        Path one = tmp.resolve("one");
        Path two = tmp.resolve("two");
        write(one.resolve("a"), 300_000, 1);
        write(two.resolve("b"), 300_000, 2);
        haven.run("backup", one.toString()).expect(0);
        List<Path> before = files(repo.resolve("index"));
        haven.run("backup", two.toString()).expect(0);
        List<Path> lost = new ArrayList<>(files(repo.resolve("index")));
        lost.removeAll(before);
        Files.delete(lost.get(0));
        List<Path> packs = new ArrayList<>(packs("data"));
        packs.addAll(packs("tree"));

        String check = haven.run("check").expect(1).out();
        assertThat(check).contains("unindexed pack(s) may hold the missing data").contains("run 'haven repair index' first")
                .doesNotContain("harmless");
        assertThat(haven.run("repair", "snapshots", "--forget").expect(1).err()).contains("haven repair index");
        assertThat(haven.run("prune").expect(1).err()).contains("haven repair index");
        for (Path p : packs) {
            assertThat(p).exists();
        }
        haven.run("repair", "index").expect(0);
        assertThat(haven.run("check", "--read-data").expect(0).out()).contains("no errors found");
        Path out = tmp.resolve("out");
        haven.run("restore", "latest", "--target", out.toString()).expect(0);
        assertThat(Files.readAllBytes(out.resolve(two.toString().substring(1)).resolve("b")))
                .isEqualTo(Files.readAllBytes(two.resolve("b")));
    }
}
