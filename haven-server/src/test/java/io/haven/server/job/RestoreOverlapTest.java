package io.haven.server.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which restore targets an agent must not write at the same time. */
class RestoreOverlapTest {
    @Test
    void theSameDirectoryOneInsideTheOtherAndTheRootOverlap() {
        assertThat(Jobs.overlaps("/srv/app", "/srv/app")).isTrue();
        assertThat(Jobs.overlaps("/srv/app", "/srv/app/data")).isTrue();
        assertThat(Jobs.overlaps("/srv/app/data", "/srv/app")).isTrue();
        assertThat(Jobs.overlaps("/", "/srv/app")).isTrue();
        assertThat(Jobs.overlaps("/srv/app", "/")).isTrue();
    }

    @Test
    void siblingsAndNamesThatOnlyShareAPrefixDoNot() {
        assertThat(Jobs.overlaps("/srv/app", "/srv/app2")).isFalse();
        assertThat(Jobs.overlaps("/srv/app2", "/srv/app")).isFalse();
        assertThat(Jobs.overlaps("/srv/a", "/srv/b")).isFalse();
    }
}
