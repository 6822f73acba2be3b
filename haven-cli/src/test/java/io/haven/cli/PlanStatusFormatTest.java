package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How {@code plan status} writes RPO targets and ages: as plans write durations. */
class PlanStatusFormatTest {
    @Test
    void targetsAndAgesReadAsPlansWriteThem() {
        assertThat(RunCommands.Status.age(15)).isEqualTo("15s");
        assertThat(RunCommands.Status.age(90)).isEqualTo("1m30s");
        assertThat(RunCommands.Status.age(3600)).isEqualTo("1h");
        assertThat(RunCommands.Status.age(2 * 86400 + 3 * 3600 + 7)).isEqualTo("2d3h7s");
        assertThat(RunCommands.Status.age(0)).isEqualTo("0s");
        // a point stamped by a clock a little ahead of the server's
        assertThat(RunCommands.Status.age(-3)).isEqualTo("0s");
    }
}
