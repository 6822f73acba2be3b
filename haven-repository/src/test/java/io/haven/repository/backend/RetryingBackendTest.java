package io.haven.repository.backend;

import static io.haven.repository.backend.FaultyBackend.Op.READ;
import static io.haven.repository.backend.FaultyBackend.Op.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The retry decorator's own behaviour; the conformance suite covers it over every backend. */
class RetryingBackendTest {
    @TempDir
    Path dir;

    private final RecordingSleeper sleeper = new RecordingSleeper();

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    private static Duration ms(long n) {
        return Duration.ofMillis(n);
    }

    @Test
    void delaysDoubleFromTheBaseUpToTheCapAndJitterWithinTheUpperHalf() {
        RetryPolicy p = new RetryPolicy(10, ms(200), Duration.ofSeconds(10));
        Random random = new Random(42);
        long[] full = {200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000};
        for (int retry = 1; retry <= full.length; retry++) {
            for (int i = 0; i < 200; i++) {
                Duration d = p.delayBefore(retry, random);
                assertThat(d).isBetween(ms(full[retry - 1] / 2), ms(full[retry - 1]));
            }
        }
        assertThat(p.delayBefore(100, random)).isBetween(Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    @Test
    void jitterSpreadsTheDelaysOfOneRetry() {
        RetryPolicy p = RetryPolicy.DEFAULT;
        Random random = new Random(7);
        assertThat(java.util.stream.IntStream.range(0, 50).mapToObj(i -> p.delayBefore(3, random)).distinct().count())
                .isGreaterThan(40);
    }

    @Test
    void theSleeperIsAskedForTheBackoffBeforeEachRetry() {
        FaultyBackend faulty = new FaultyBackend(new LocalBackend(dir))
                .plan(WRITE, FaultyBackend.transientError(), FaultyBackend.transientError(), FaultyBackend.transientError());
        RetryingBackend r = new RetryingBackend(faulty, new RetryPolicy(5, ms(100), ms(250)), sleeper, new Random(3));
        r.write("config", new byte[] {1, 2, 3});
        List<Duration> delays = sleeper.delays();
        assertThat(delays).hasSize(3);
        assertThat(delays.get(0)).isBetween(ms(50), ms(100));
        assertThat(delays.get(1)).isBetween(ms(100), ms(200));
        assertThat(delays.get(2)).isBetween(ms(125), ms(250));
        assertThat(r.read("config")).containsExactly(1, 2, 3);
        assertThat(r.retries()).isEqualTo(3);
    }

    @Test
    void aPolicyOfOneAttemptSurfacesTheFirstTransientFailureAsAnIoError() {
        FaultyBackend faulty = new FaultyBackend(new LocalBackend(dir)).plan(READ, FaultyBackend.transientError());
        RetryingBackend r = new RetryingBackend(faulty, RetryPolicy.NONE, sleeper, new Random(3));
        assertThatThrownBy(() -> r.read("config")).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e).isNotInstanceOf(TransientBackendException.class);
            assertThat(e.code()).isEqualTo(ErrorCode.IO);
            assertThat(e.getMessage()).contains("config", "gave up after 1 attempt)");
        });
        assertThat(sleeper.delays()).isEmpty();
    }

    @Test
    void anInterruptWhileWaitingStopsTheRetriesAndKeepsTheInterruptFlag() {
        FaultyBackend faulty = new FaultyBackend(new LocalBackend(dir)).plan(READ, FaultyBackend.transientError());
        RetryingBackend r = new RetryingBackend(faulty, RetryPolicy.DEFAULT, delay -> {
            throw new InterruptedException();
        }, new Random(3));
        assertThatThrownBy(() -> r.read("config")).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.IO);
            assertThat(e.getMessage()).contains("interrupted while waiting to retry");
        });
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
        assertThat(faulty.calls(READ)).isEqualTo(1);
    }

    @Test
    void exceptionsOtherThanHavenOnesPassThroughUntouched() {
        RetryingBackend r = new RetryingBackend(new LocalBackend(dir), RetryPolicy.DEFAULT, sleeper, new Random(3));
        assertThatThrownBy(() -> r.read("../escape")).isInstanceOf(IllegalArgumentException.class);
        assertThat(r.retries()).isZero();
    }

    @Test
    void aSeededRateOfTransientFailuresIsAbsorbed() {
        FaultyBackend faulty = new FaultyBackend(new LocalBackend(dir))
                .failRandomly(99, 0.3, FaultyBackend.transientError(), FaultyBackend.Op.values());
        RetryingBackend r = new RetryingBackend(faulty, new RetryPolicy(20, ms(1), ms(1)), sleeper, new Random(3));
        for (int i = 0; i < 50; i++) {
            r.write("data/00/o" + i, new byte[] {(byte) i});
        }
        for (int i = 0; i < 50; i++) {
            assertThat(r.read("data/00/o" + i, 0, 1)).containsExactly((byte) i);
        }
        assertThat(r.list("data")).hasSize(50);
        assertThat(faulty.injected()).isPositive();
        assertThat(r.retries()).isEqualTo(faulty.injected());
    }

    @Test
    void delaysInjectedByTheFakeGoThroughItsSleeper() {
        FaultyBackend faulty = new FaultyBackend(new LocalBackend(dir), sleeper).plan(WRITE, FaultyBackend.delay(ms(300)));
        faulty.write("config", new byte[] {1});
        assertThat(sleeper.delays()).containsExactly(ms(300));
        assertThat(faulty.read("config")).containsExactly(1);
    }

    @Test
    void aPolicyWithoutAttemptsIsRefused() {
        assertThatThrownBy(() -> new RetryPolicy(0, ms(1), ms(1))).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
    }
}
