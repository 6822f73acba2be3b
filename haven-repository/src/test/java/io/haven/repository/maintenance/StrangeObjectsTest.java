package io.haven.repository.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.Repository;
import io.haven.repository.check.Checker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Objects under data/ and tree/ that Haven did not write (a repository nested in this one's
 * prefix, as an audit made on S3) are reported by check and left alone by repair and prune.
 */
class StrangeObjectsTest {
    @TempDir
    Path tmp;

    @Test
    void checkReportsThemAndRepairAndPruneLeaveThemAlone() throws Exception {
        RepoFixture fixture = new RepoFixture(tmp.resolve("repo"));
        Path src = Files.createDirectories(tmp.resolve("src"));
        RepoFixture.write(src.resolve("f"), 200_000, 1);
        List<Path> strangers = List.of(fixture.repoDir.resolve("data/config"), fixture.repoDir.resolve("data/keys/abc"),
                fixture.repoDir.resolve("tree/zz/not-a-pack"), fixture.repoDir.resolve("data/ab/ab12"));
        try (Repository repo = fixture.open()) {
            RepoFixture.backup(repo, src, Instant.now());
            for (Path p : strangers) {
                Files.createDirectories(p.getParent());
                Files.write(p, "someone else's".getBytes(StandardCharsets.UTF_8));
            }
            Checker.Result check = new Checker(repo, true, 2).run();
            assertThat(check.errors()).isEmpty();
            assertThat(check.warnings()).anyMatch(w -> w.contains("object data/config is not a pack"))
                    .anyMatch(w -> w.contains("object data/ab/ab12 is not a pack"))
                    .noneMatch(w -> w.contains("not in any index"));

            new Repairer(repo, "h", 2, m -> { }).rebuildIndex();
            Pruner.Result pruned = new Pruner(repo, new Pruner.Options(0.2, false, Duration.ZERO, 2, "pruner"), m -> { }).run();
            assertThat(pruned.orphansDeleted()).isZero();
        }
        for (Path p : strangers) {
            assertThat(p).exists();
        }
        try (Repository repo = fixture.open()) {
            assertThat(RepoFixture.restore(repo, repo.resolve("latest"), tmp, src)).isEqualTo(RepoFixture.contents(src));
        }
    }
}
