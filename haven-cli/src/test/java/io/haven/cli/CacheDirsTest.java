package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheDirsTest {
    @TempDir
    Path root;

    private final Instant now = Instant.parse("2026-11-30T12:00:00Z");

    private Path folder(String name, Instant stamp, Instant files) throws Exception {
        Path d = Files.createDirectories(root.resolve(name));
        Path f = Files.writeString(d.resolve("index-copy"), "x");
        Files.setLastModifiedTime(f, FileTime.from(files));
        Files.setLastModifiedTime(d, FileTime.from(files));
        if (stamp != null) {
            Files.setLastModifiedTime(Files.createFile(d.resolve(CacheDirs.STAMP)), FileTime.from(stamp));
        }
        return d;
    }

    @Test
    void foldersOfRepositoriesUnusedForThirtyDaysAreDeletedAndOnlyThose() throws Exception {
        Instant old = now.minus(Duration.ofDays(31));
        Instant recent = now.minus(Duration.ofDays(29));
        Path mine = folder("aaaaaaaa11", old, old);
        Path stale = folder("bbbbbbbb22", old, old);
        Path staleNoStamp = folder("cccccccc33", null, old);
        Path usedLately = folder("dddddddd44", recent, old);
        Path writtenLately = folder("eeeeeeee55", null, recent);
        Path notAnId = folder("my-notes", old, old);
        assertThat(CacheDirs.use(root, "aaaaaaaa11", now)).isEqualTo(2);
        assertThat(stale).doesNotExist();
        assertThat(staleNoStamp).doesNotExist();
        assertThat(mine.resolve("index-copy")).exists();
        assertThat(Files.getLastModifiedTime(mine.resolve(CacheDirs.STAMP)).toInstant()).isEqualTo(now);
        assertThat(usedLately).exists();
        assertThat(writtenLately).exists();
        assertThat(notAnId).exists();
        // a repository used for the first time gets its folder and stamp
        assertThat(CacheDirs.use(root, "ffffffff66", now)).isZero();
        assertThat(root.resolve("ffffffff66").resolve(CacheDirs.STAMP)).exists();
    }

    @Test
    void aCacheThatCannotBeWrittenIsLeftAlone() throws Exception {
        Path file = Files.writeString(root.resolve("not-a-folder"), "x");
        assertThat(CacheDirs.use(file, "aaaaaaaa11", now)).isZero();
        assertThat(file).hasContent("x");
    }
}
