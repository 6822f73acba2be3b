package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void lineShowsFilesBytesRateAndEtaWhenTotalsAreKnown() throws InterruptedException {
        var buf = new ByteArrayOutputStream();
        try (Progress p = new Progress(false, new PrintStream(buf, true, StandardCharsets.UTF_8), "backup",
                () -> 1234, () -> 512L << 20, () -> 5000, () -> 2048L << 20)) {
            Thread.sleep(20);
            String line = p.line();
            assertThat(line).contains("backup 1,234/5,000 files", "512 MiB / 2.0 GiB", "(25%)", "/s", "ETA ");
        }
        assertThat(buf.toString(StandardCharsets.UTF_8)).as("disabled progress prints nothing").isEmpty();
    }

    @Test
    void lineWithoutTotalsHasNoEta() {
        try (Progress p = new Progress(false, System.err, "restore", () -> 3, () -> 100, () -> -1, () -> -1)) {
            assertThat(p.line()).contains("restore 3 files, 100 B").doesNotContain("ETA");
        }
    }

    @Test
    void checkCountsPacksAndHasAnEtaFromThePackBytes() throws InterruptedException {
        try (Progress p = new Progress(false, System.err, "check", "packs", () -> 10, () -> 194L << 20, () -> 26,
                () -> 520L << 20)) {
            Thread.sleep(20);
            assertThat(p.line()).contains("check 10/26 packs, 194 MiB / 520 MiB", "ETA ").doesNotContain("files");
        }
    }
}
