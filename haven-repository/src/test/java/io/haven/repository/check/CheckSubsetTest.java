package io.haven.repository.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.maintenance.RepoFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code check --read-data-subset}: which packs a share or a part reads. */
class CheckSubsetTest {
    @TempDir
    Path tmp;

    private static List<String> packNames(int n, long seed) {
        Random r = new Random(seed);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] id = new byte[32];
            r.nextBytes(id);
            String hex = HexFormat.of().formatHex(id);
            names.add("data/" + hex.substring(0, 2) + "/" + hex);
        }
        return names;
    }

    @Test
    void aShareReadsThatManyPacksRoundedAndAtLeastOne() {
        List<String> packs = packNames(38, 1);
        for (int run = 0; run < 20; run++) {
            Checker.Subset one = Checker.Subset.parse("1%", new Random(run));
            assertThat(one.pick(packs)).hasSize(1).isSubsetOf(packs);
            assertThat(Checker.Subset.parse("50%", new Random(run)).pick(packs)).hasSize(19).doesNotHaveDuplicates();
            assertThat(Checker.Subset.parse("10%", new Random(run)).pick(packs)).hasSize(4);
        }
        assertThat(Checker.Subset.parse("100%", new Random(0)).pick(packs)).containsExactlyElementsOf(packs);
        assertThat(Checker.Subset.parse("5%", new Random(0)).pick(List.of())).isEmpty();
    }

    @Test
    void theSharePicksDifferentPacksOnDifferentRuns() {
        List<String> packs = packNames(100, 2);
        Set<String> seen = new HashSet<>();
        for (int run = 0; run < 10; run++) {
            seen.addAll(Checker.Subset.parse("10%", new Random(run)).pick(packs));
        }
        assertThat(seen.size()).isGreaterThan(30);
    }

    @Test
    void thePartsOfMCoverEveryPackExactlyOnce() {
        List<String> packs = packNames(500, 3);
        for (int m : new int[] {1, 2, 3, 7, 256}) {
            List<String> all = new ArrayList<>();
            for (int k = 1; k <= m; k++) {
                Checker.Subset part = Checker.Subset.parse(k + "/" + m, new Random(0));
                all.addAll(part.pick(packs.stream().filter(part::inPart).toList()));
            }
            assertThat(all).as("parts of %d", m).hasSameSizeAs(packs).containsExactlyInAnyOrderElementsOf(packs);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0%", "101%", "-5%", "abc", "0/3", "4/3", "3/0", "1/257", "%", "/", ""})
    void malformedSubsetsAreRefused(String spec) {
        assertThatThrownBy(() -> Checker.Subset.parse(spec, new Random(0))).isInstanceOf(HavenException.class)
                .hasMessageContaining("N%").hasMessageContaining("K/M");
    }

    @Test
    void aSmallShareOfASmallRepositoryStillReadsAPack() throws Exception {
        RepoFixture fixture = new RepoFixture(tmp.resolve("repo"));
        Path src = Files.createDirectories(tmp.resolve("src"));
        RepoFixture.write(src.resolve("f"), 300_000, 5);
        try (Repository repo = fixture.open()) {
            RepoFixture.backup(repo, src, Instant.now());
            for (int run = 0; run < 5; run++) {
                Checker checker = new Checker(repo, Checker.Subset.parse("1%", new Random(run)), 2);
                Checker.Result r = checker.run();
                assertThat(r.errors()).isEmpty();
                assertThat(checker.packsRead()).isEqualTo(1);
                assertThat(r.bytesRead()).isPositive();
            }
        }
    }
}
