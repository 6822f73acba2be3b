package io.haven.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExclusiveFileLockTest {
    @TempDir
    Path dir;

    /** The child: tries the lock once and prints "locked" or "busy". */
    public static void main(String[] args) throws Exception {
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            System.out.println(ch.tryLock() != null ? "locked" : "busy");
        }
    }

    @Test
    void aSecondAttemptInThisProcessIsRefusedAndLeavesTheFirstLockInPlace() throws Exception {
        Path file = dir.resolve("x.lock");
        try (ExclusiveFileLock first = ExclusiveFileLock.tryAcquire(file).orElseThrow()) {
            assertThat(ExclusiveFileLock.tryAcquire(dir.resolve("./x.lock"))).isEmpty();
            // another process still finds it locked: the refused attempt did not drop the lock
            assertThat(tryFromAnotherProcess(file)).isEqualTo("busy");
        }
        assertThat(tryFromAnotherProcess(file)).isEqualTo("locked");
        Optional<ExclusiveFileLock> again = ExclusiveFileLock.tryAcquire(file);
        assertThat(again).isPresent();
        again.get().close();
    }

    private static String tryFromAnotherProcess(Path file) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), ExclusiveFileLockTest.class.getName(),
                file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
