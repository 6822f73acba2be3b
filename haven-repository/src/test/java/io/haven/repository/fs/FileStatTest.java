package io.haven.repository.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.repository.tree.NodeType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The direct read of the JDK's lstat result says exactly what the portable attribute view says. */
class FileStatTest {
    @TempDir
    Path tmp;

    @Test
    void directAndPortableAgreeOnEveryKindOfEntry() throws Exception {
        Path file = Files.write(tmp.resolve("file"), new byte[12345]);
        Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2021-03-04T05:06:07.123456789Z")));
        Path dir = Files.createDirectory(tmp.resolve("dir"));
        Path link = Files.createSymbolicLink(tmp.resolve("dangling"), Path.of("nowhere"));
        Path hard = Files.createLink(tmp.resolve("hard"), file);
        Path fifo = tmp.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        for (Path p : List.of(file, dir, link, hard, fifo, Path.of("/dev/null"), Path.of("/"))) {
            assertThat(FileStat.of(p)).as(p.toString()).isEqualTo(FileStat.ofPortable(p));
        }
        FileStat f = FileStat.of(file);
        assertThat(f.type()).isEqualTo(NodeType.FILE);
        assertThat(f.size()).isEqualTo(12345);
        assertThat(f.nlink()).isEqualTo(2);
        assertThat(f.mtimeNanos()).isEqualTo(123456789);
        assertThat(FileStat.of(link).type()).isEqualTo(NodeType.SYMLINK);
        assertThat(FileStat.of(fifo).type()).isEqualTo(NodeType.FIFO);
        assertThat(FileStat.of(Path.of("/dev/null")).type()).isEqualTo(NodeType.CHAR_DEVICE);
        assertThat(FileStat.of(Path.of("/dev/null")).rdev()).isNotZero();
    }

    @Test
    void anEntryReadRelativeToItsOpenDirectoryIsTheSameAsByItsPath() throws Exception {
        Path file = Files.write(tmp.resolve("file"), new byte[321]);
        Files.createDirectory(tmp.resolve("dir"));
        Files.createSymbolicLink(tmp.resolve("dangling"), Path.of("nowhere"));
        Files.createLink(tmp.resolve("hard"), file);
        Path odd = FileNames.resolve(tmp, new byte[] {'b', (byte) 0xff, 'd'});
        Files.write(odd, new byte[3]);
        try (var ds = Files.newDirectoryStream(tmp)) {
            // Linux: the JDK's directory stream is the secure kind (fstatat, openat), which the backup uses
            assertThat(ds).isInstanceOf(java.nio.file.SecureDirectoryStream.class);
            var sds = (java.nio.file.SecureDirectoryStream<Path>) ds;
            int n = 0;
            for (Path p : ds) {
                assertThat(FileStat.of(sds, p)).as(p.toString()).isEqualTo(FileStat.ofPortable(p));
                n++;
            }
            assertThat(n).isEqualTo(5);
            Files.delete(file);
            assertThatThrownBy(() -> FileStat.of(sds, file)).isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void aMissingPathIsTheJdksNoSuchFileException() {
        assertThatThrownBy(() -> FileStat.of(tmp.resolve("missing"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void theTestsRunTheDirectWay() throws IOException {
        // the build opens sun.nio.fs to the tests as the launcher does for the command
        assertThat(FileStat.directAvailable()).isTrue();
    }
}
