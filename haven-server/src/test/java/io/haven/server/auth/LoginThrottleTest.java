package io.haven.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
    final AtomicLong now = new AtomicLong(Instant.parse("2026-11-30T06:00:00Z").toEpochMilli());
    final InstantSource clock = () -> Instant.ofEpochMilli(now.get());
    final LoginThrottle t = new LoginThrottle(LoginThrottle.DEFAULT, clock);

    @Test
    void fiveFailuresLockTheNameForAMinuteAfterTheLast() {
        for (int i = 0; i < 4; i++) {
            t.failed("Ada", "10.0.0.1");
        }
        assertThat(t.retryAfterSeconds("ada", "10.0.0.1")).isZero();
        t.failed("ada", "10.0.0.2");
        assertThat(t.retryAfterSeconds("ADA", "10.0.0.9")).isEqualTo(60);
        assertThat(t.retryAfterSeconds("bob", "10.0.0.9")).isZero();
        now.addAndGet(Duration.ofSeconds(59).toMillis());
        assertThat(t.retryAfterSeconds("ada", "10.0.0.9")).isEqualTo(1);
        now.addAndGet(Duration.ofSeconds(1).toMillis());
        assertThat(t.retryAfterSeconds("ada", "10.0.0.9")).isZero();
    }

    @Test
    void failuresOlderThanTheWindowDoNotCountAndASuccessClearsThem() {
        for (int i = 0; i < 4; i++) {
            t.failed("ada", "a");
        }
        now.addAndGet(Duration.ofMinutes(16).toMillis());
        t.failed("ada", "a");
        assertThat(t.retryAfterSeconds("ada", "a")).isZero();
        for (int i = 0; i < 3; i++) {
            t.failed("ada", "a");
        }
        t.succeeded("ada");
        t.failed("ada", "a");
        assertThat(t.retryAfterSeconds("ada", "b")).isZero();
    }

    @Test
    void oneAddressTryingManyNamesIsLockedToo() {
        for (int i = 0; i < 20; i++) {
            t.failed("user" + i, "192.0.2.7");
        }
        assertThat(t.retryAfterSeconds("someone-new", "192.0.2.7")).isEqualTo(60);
        assertThat(t.retryAfterSeconds("someone-new", "192.0.2.8")).isZero();
    }
}
