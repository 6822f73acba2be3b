package io.haven.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalBackendTest extends BackendConformanceTest {
    @TempDir
    Path dir;

    @Override
    protected Backend newBackend() {
        return new LocalBackend(dir.resolve("repo"));
    }

    @Test
    void listSkipsTheTemporaryFilesOfUnfinishedWrites() throws IOException {
        String n = packName("data", 1);
        backend.write(n, bytes(10, 1));
        Path leftover = dir.resolve("repo").resolve(n + LocalBackend.TMP_MARK + "1234");
        Files.write(leftover, bytes(5, 2));
        assertThat(backend.list("data")).containsExactly(n);
    }
}
