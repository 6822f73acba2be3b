package io.haven.server.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link RetryingUpdate} with the real updater against a real BIND 9 that is down when the update
 * starts and comes back while it waits: the update lands, once. {@code RetryingUpdateTest} covers
 * the rules (which failures are tried again, the waits, the final message) with a fake updater.
 */
class RetryingUpdateBindTest {
    private static final LocalBind.Key HAVEN = LocalBind.Key.random("haven");
    private static final LocalBind.Zone ZONE = new LocalBind.Zone("retry.test", "grant haven zonesub ANY;", "app IN A 192.0.2.10");

    @Test
    void anUpdateStartedWhileTheServerIsDownLandsWhenItComesBack() throws Exception {
        LocalBind.assumeAvailable();
        LocalBind bind = LocalBind.start(List.of(HAVEN), List.of(ZONE));
        LocalBind running = bind;
        try {
            bind.stop();
            DnsChange change = new DnsChange(bind.server(), "retry.test", "app", RecordType.A, Duration.ofSeconds(60),
                    List.of("198.51.100.20"), HAVEN.tsig(), null, Duration.ofSeconds(2));
            List<String> log = new CopyOnWriteArrayList<>();
            CompletableFuture<DnsUpdater.Result> update = CompletableFuture.supplyAsync(() -> {
                try {
                    return RetryingUpdate.update(new Rfc2136Updater(InstantSource.system()), change,
                            List.of(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2)),
                            d -> Thread.sleep(d.toMillis()), log::add);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (log.isEmpty() && !update.isDone() && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertThat(log).as("the first attempt failed while the server was down").isNotEmpty();
            assertThat(log.get(0)).startsWith("DNS update of app.retry.test. A failed (").contains("trying again in 2 s");

            running = bind.restart(List.of(ZONE));
            update.get(60, TimeUnit.SECONDS);
            assertThat(running.query("app.retry.test", RecordType.A)).isEqualTo(new LocalBind.Answer(List.of("198.51.100.20"), 60));
        } finally {
            running.close();
        }
    }
}
