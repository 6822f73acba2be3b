package io.haven.server.dns;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * An update tried again when it failed in a way that may pass ({@link DnsUpdateException#isTransient()}:
 * the server unreachable, SERVFAIL). An update sets the record set to exactly its values, so a
 * repeat is harmless. What a runbook's {@code dns} step does (docs/dns.md, "Errors").
 */
public final class RetryingUpdate {
    /** Waits before the second, third and fourth attempts. */
    public static final List<Duration> WAITS = List.of(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10));

    /** How the waits are spent (a test's clock need not sleep). */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private RetryingUpdate() {}

    /**
     * {@code dns.update(change)}, tried again after each of {@code waits} while it fails
     * transiently.
     *
     * @throws DnsUpdateException the first failure that is not transient, or the last one, whose
     *     message then ends with how many attempts were made
     */
    public static DnsUpdater.Result update(DnsUpdater dns, DnsChange change, List<Duration> waits, Sleeper sleeper, Consumer<String> log)
            throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                return dns.update(change);
            } catch (DnsUpdateException e) {
                if (!e.isTransient() || attempt >= waits.size()) {
                    if (attempt == 0) {
                        throw e;
                    }
                    long waited = waits.subList(0, attempt).stream().mapToLong(Duration::toSeconds).sum();
                    throw new DnsUpdateException(e.failure(), e.getMessage() + " (" + (attempt + 1) + " attempts, " + waited
                            + " s apart in all)", e);
                }
                log.accept("DNS update of " + change.name() + " " + change.type() + " failed (" + e.failure() + "), trying again in "
                        + waits.get(attempt).toSeconds() + " s: " + e.getMessage());
                sleeper.sleep(waits.get(attempt));
            }
        }
    }
}
