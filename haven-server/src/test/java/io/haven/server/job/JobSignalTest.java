package io.haven.server.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which waiting polls a signal wakes (bench/control-plane.sh: a thousand polls must not all wake for every job). */
class JobSignalTest {
    static final Duration SHORT = Duration.ofMillis(50);

    /** Whether {@code w} was woken: its wait returns at once. */
    static boolean woken(JobSignal.Waiter w) throws InterruptedException {
        long t = System.nanoTime();
        w.await(Duration.ofSeconds(5));
        return System.nanoTime() - t < Duration.ofSeconds(4).toNanos();
    }

    static boolean stillWaiting(JobSignal.Waiter w) throws InterruptedException {
        long t = System.nanoTime();
        w.await(SHORT);
        return System.nanoTime() - t >= SHORT.toNanos();
    }

    @Test
    void aJobWakesOnlyThePollsOfItsAgentOrOfItsPoolsMembers() throws Exception {
        JobSignal s = new JobSignal();
        try (JobSignal.Waiter a = s.register(1, List.of(10L)); JobSignal.Waiter b = s.register(2, List.of(10L, 20L));
                JobSignal.Waiter c = s.register(3, List.of())) {
            s.signalFor(2L, null);
            assertThat(woken(b)).isTrue();
            assertThat(stillWaiting(a)).isTrue();
            assertThat(stillWaiting(c)).isTrue();

            s.signalFor(null, 10L);
            assertThat(woken(a)).isTrue();
            assertThat(woken(b)).isTrue();
            assertThat(stillWaiting(c)).isTrue();

            s.signalFor(null, null); // no agent's work (maintenance)
            assertThat(stillWaiting(a)).isTrue();

            s.signalAll();
            assertThat(woken(a)).isTrue();
            assertThat(woken(b)).isTrue();
            assertThat(woken(c)).isTrue();
        }
    }

    @Test
    void aSignalBeforeTheWaitIsKeptUntilReset() throws Exception {
        JobSignal s = new JobSignal();
        try (JobSignal.Waiter a = s.register(1, List.of())) {
            s.signalAgent(1);
            s.signalAgent(1);
            assertThat(woken(a)).isTrue();
            assertThat(stillWaiting(a)).isTrue(); // two signals, one wake-up
            s.signalAgent(1);
            a.reset();
            assertThat(stillWaiting(a)).isTrue();
        }
        // closed waiters are forgotten
        s.signalAgent(1);
        s.signalGroup(10);
    }

    @Test
    void shutdownEndsEveryWaitNowAndLater() throws Exception {
        JobSignal s = new JobSignal();
        try (JobSignal.Waiter a = s.register(1, List.of())) {
            s.shutdown();
            assertThat(s.isShutdown()).isTrue();
            assertThat(woken(a)).isTrue();
            assertThat(woken(a)).isTrue();
        }
    }
}
