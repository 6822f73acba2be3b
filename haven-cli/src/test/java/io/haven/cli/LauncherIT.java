package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher keeps the JVM quiet, also while its start-up cache is being built. */
class LauncherIT {
    @TempDir
    Path tmp;

    @Test
    void commandsPrintNothingOnStderrBeforeAndAfterTheStartUpCacheExists() {
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "pw").env("HAVEN_CACHE_DIR", tmp.resolve("jvm-cache").toString());
        assertThat(haven.run("init", "--kdf-memory", "8").expect(0).err()).isEmpty();
        for (int i = 0; i < 3; i++) {
            HavenCli.Result r = haven.run("snapshots");
            assertThat(r.exit()).isZero();
            assertThat(r.err()).as("stderr of run %d", i).isEmpty();
        }
    }
}
