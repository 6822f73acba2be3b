package io.haven.server.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.haven.server.dns.DnsUpdateException.Failure;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runbook's DNS step tries transient failures again, and only those (docs/dns.md, "Errors"). */
class RetryingUpdateTest {
    /** A hand-written updater that fails as told, then succeeds. */
    static final class Scripted implements DnsUpdater {
        final Deque<Failure> failures = new ArrayDeque<>();
        int calls;

        @Override
        public Result update(DnsChange change) {
            calls++;
            Failure f = failures.poll();
            if (f != null) {
                throw new DnsUpdateException(f, "DNS update of " + change.name() + " " + change.type() + " at " + change.server() + ": " + f);
            }
            return new Result(change, List.of("10.0.0.1"), Duration.ofSeconds(60), Instant.EPOCH, Duration.ZERO, Duration.ZERO, Duration.ZERO);
        }

        @Override
        public List<String> check(DnsChange change) {
            return List.of();
        }
    }

    private final DnsChange change = new DnsChange(new DnsServer("127.0.0.1", 53), "example.test", "www", RecordType.A,
            Duration.ofSeconds(60), List.of("10.0.0.2"), new TsigKey("k", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"), null, null);
    private final List<Duration> slept = new ArrayList<>();
    private final List<String> logged = new ArrayList<>();

    private DnsUpdater.Result run(Scripted dns) throws InterruptedException {
        return RetryingUpdate.update(dns, change, RetryingUpdate.WAITS, slept::add, logged::add);
    }

    @Test
    void aServerBackWithinTheWaitsGetsTheUpdate() throws Exception {
        Scripted dns = new Scripted();
        dns.failures.add(Failure.UNREACHABLE);
        dns.failures.add(Failure.SERVER_FAILURE);
        assertThat(run(dns).previous()).containsExactly("10.0.0.1");
        assertThat(dns.calls).isEqualTo(3);
        assertThat(slept).containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(5));
        assertThat(logged).hasSize(2).first().asString().contains("UNREACHABLE", "trying again in 2 s");
    }

    @Test
    void aServerThatStaysAwayFailsAfterFourAttemptsAndSaysSo() {
        Scripted dns = new Scripted();
        for (int i = 0; i < 10; i++) {
            dns.failures.add(Failure.UNREACHABLE);
        }
        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class, () -> run(dns));
        assertThat(dns.calls).isEqualTo(4);
        assertThat(slept).containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10));
        assertThat(e.failure()).isEqualTo(Failure.UNREACHABLE);
        assertThat(e.getMessage()).startsWith("DNS update of www.example.test. A").endsWith("(4 attempts, 17 s apart in all)");
    }

    @Test
    void aWrongKeyOrARefusalFailsAtOnce() {
        for (Failure f : List.of(Failure.TSIG_REJECTED, Failure.REFUSED, Failure.PREREQUISITE_FAILED, Failure.NOT_APPLIED)) {
            Scripted dns = new Scripted();
            dns.failures.add(f);
            DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class, () -> run(dns));
            assertThat(e.failure()).isEqualTo(f);
            assertThat(e.getMessage()).doesNotContain("attempts");
            assertThat(dns.calls).isEqualTo(1);
        }
        assertThat(slept).isEmpty();
    }
}
