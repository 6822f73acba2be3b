package io.haven.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JDK's file exceptions, met for real, give a reason in words, never only the path. */
class IoReasonsTest {
    @TempDir
    Path tmp;

    @Test
    void reasonsAreWordsNotThePath() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        Path dir = Files.createDirectories(tmp.resolve("dir"));
        Files.writeString(dir.resolve("inside"), "x");

        IOException notDir = catchThrowableOfType(IOException.class, () -> Files.newDirectoryStream(file).close());
        IOException missing = catchThrowableOfType(IOException.class, () -> Files.readAllBytes(tmp.resolve("nope")));
        IOException exists = catchThrowableOfType(IOException.class, () -> Files.createDirectory(dir));
        IOException notEmpty = catchThrowableOfType(IOException.class, () -> Files.delete(dir));
        IOException underFile = catchThrowableOfType(IOException.class, () -> Files.createDirectories(file.resolve("sub")));

        assertThat(IoReasons.of(notDir)).isEqualTo("not a directory");
        assertThat(IoReasons.of(missing)).isEqualTo("no such file or directory");
        assertThat(IoReasons.of(exists)).isEqualTo("already exists");
        assertThat(IoReasons.of(notEmpty)).isEqualTo("directory not empty");
        for (IOException e : new IOException[] {notDir, missing, exists, notEmpty, underFile}) {
            assertThat(IoReasons.of(e)).as(e.toString()).doesNotContain(tmp.toString());
        }
        assertThat(IoReasons.of(new FileSystemException("/x", null, "No space left on device"))).isEqualTo("no space left on device");
        assertThat(IoReasons.of(new IOException("Broken pipe"))).isEqualTo("Broken pipe");
    }
}
