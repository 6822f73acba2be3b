package io.haven.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.haven.server.db.Database;
import io.haven.server.db.DatabaseConfig;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The notifier against real receivers on 127.0.0.1: the JDK's HTTP server as a webhook, GreenMail
 * as the SMTP server, and an embedded database in a temporary folder with the server's migrations.
 */
class NotifierTest {
    static final String SECRET = "a-shared-secret-of-some-length";
    static final String SERVER = "https://haven.example.test:8443";
    static final Instant WHEN = Instant.parse("2025-06-01T02:00:05Z");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Database db;
    Notifier notifier;
    WebhookReceiver hook;
    GreenMail smtp;
    final List<Throwable> problems = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        db = Database.open(DatabaseConfig.embedded(dir));
        hook = new WebhookReceiver();
        smtp = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        smtp.start();
        notifier = notifier(fast());
    }

    static Notifier.Settings fast() {
        return Notifier.Settings.defaults().withBackoff(Duration.ofMillis(50)).withTimeout(Duration.ofSeconds(2));
    }

    Notifier notifier(Notifier.Settings settings) {
        return new Notifier(db.jdbi(), InstantSource.system(), settings, () -> SERVER, problems::add, "test");
    }

    @AfterEach
    void stop() {
        notifier.close();
        hook.close();
        smtp.stop();
        db.close();
    }

    static Event jobFailed() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("job", 42);
        details.put("host", "db1");
        details.put("error", "disk full");
        return new Event(Event.Kind.JOB_FAILED, Event.Severity.CRITICAL, "Backup of db1 failed", details, WHEN);
    }

    EmailConfig mail(int port) {
        return new EmailConfig("127.0.0.1", port, false, null, null, "haven@example.com", List.of("ops@example.com", "dba@example.com"));
    }

    int smtpPort() {
        return smtp.getSmtp().getPort();
    }

    /** Polls until the notifier has recorded {@code n} deliveries. */
    List<Delivery> awaitDeliveries(int n, Duration within) throws InterruptedException {
        return await(() -> {
            List<Delivery> d = notifier.deliveries().latest(100);
            return d.size() >= n ? d : null;
        }, within, "expected " + n + " delivery records");
    }

    static <T> T await(Supplier<T> probe, Duration within, String what) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (true) {
            T v = probe.get();
            if (v != null) {
                return v;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError(what);
            }
            Thread.sleep(10);
        }
    }

    /** Polls until the SMTP server holds {@code n} messages (one per recipient mailbox). */
    MimeMessage[] awaitMail(int n) throws InterruptedException {
        return await(() -> {
            MimeMessage[] m = smtp.getReceivedMessages();
            return m.length >= n ? m : null;
        }, Duration.ofSeconds(10), "expected " + n + " mails");
    }

    static String hmac(String secret, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    @Test
    void aWebhookReceivesTheEventAsSignedJson() throws Exception {
        notifier.channels().create("ops-hook", new WebhookConfig(hook.url("/hooks/haven"), SECRET), Set.of(), true);
        notifier.notify(jobFailed());
        WebhookReceiver.Received r = hook.await(1, Duration.ofSeconds(10)).get(0);
        assertThat(r.path()).isEqualTo("/hooks/haven");
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.header("X-Haven-Event")).isEqualTo("job_failed");
        assertThat(r.header("User-Agent")).isEqualTo("haven/test");
        assertThat(r.header("X-Haven-Signature")).isEqualTo(hmac(SECRET, r.body())).matches("sha256=[0-9a-f]{64}");
        JsonNode j = JSON.readTree(r.body());
        List<String> fields = new ArrayList<>();
        j.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactly("event", "severity", "subject", "details", "at", "server");
        assertThat(j.get("event").asText()).isEqualTo("job_failed");
        assertThat(j.get("severity").asText()).isEqualTo("critical");
        assertThat(j.get("subject").asText()).isEqualTo("Backup of db1 failed");
        assertThat(j.get("details").get("job").asInt()).isEqualTo(42);
        assertThat(j.get("details").get("host").asText()).isEqualTo("db1");
        assertThat(j.get("details").get("error").asText()).isEqualTo("disk full");
        assertThat(j.get("at").asText()).isEqualTo("2025-06-01T02:00:05Z");
        assertThat(j.get("server").asText()).isEqualTo(SERVER);
        Delivery d = awaitDeliveries(1, Duration.ofSeconds(5)).get(0);
        assertThat(d.status()).isEqualTo(Delivery.Status.OK);
        assertThat(d.attempts()).isEqualTo(1);
        assertThat(d.channel()).isEqualTo("ops-hook");
        assertThat(d.event()).isEqualTo(Event.Kind.JOB_FAILED);
        assertThat(d.subject()).isEqualTo("Backup of db1 failed");
        assertThat(d.error()).isNull();
        assertThat(problems).isEmpty();
    }

    @Test
    void aWebhookWithoutASecretIsNotSigned() throws Exception {
        notifier.channels().create("plain", new WebhookConfig(hook.url("/plain"), null), Set.of(), true);
        notifier.notify(jobFailed());
        assertThat(hook.await(1, Duration.ofSeconds(10)).get(0).header("X-Haven-Signature")).isNull();
    }

    @Test
    void aReceiverThatFailsTwiceGetsTheEventOnTheThirdAttempt() throws Exception {
        hook.answer(200, 500, 500);
        notifier.channels().create("flaky", new WebhookConfig(hook.url("/flaky"), SECRET), Set.of(), true);
        notifier.notify(jobFailed());
        Delivery d = awaitDeliveries(1, Duration.ofSeconds(10)).get(0);
        assertThat(d.status()).isEqualTo(Delivery.Status.OK);
        assertThat(d.attempts()).isEqualTo(3);
        List<WebhookReceiver.Received> got = hook.received();
        assertThat(got).hasSize(3);
        // every attempt carries the same body and a valid signature
        for (WebhookReceiver.Received r : got) {
            assertThat(r.body()).isEqualTo(got.get(0).body());
            assertThat(r.header("X-Haven-Signature")).isEqualTo(hmac(SECRET, r.body()));
        }
    }

    @Test
    void aReceiverThatKeepsFailingIsRecordedFailedAfterThreeAttempts() throws Exception {
        hook.answer(503);
        notifier.channels().create("down", new WebhookConfig(hook.url("/down"), null), Set.of(), true);
        notifier.notify(jobFailed());
        Delivery d = awaitDeliveries(1, Duration.ofSeconds(10)).get(0);
        assertThat(d.status()).isEqualTo(Delivery.Status.FAILED);
        assertThat(d.attempts()).isEqualTo(3);
        assertThat(d.error()).isEqualTo("http://127.0.0.1:" + hook.url("").split(":")[2] + "/… answered HTTP 503: scripted failure 503");
        assertThat(hook.received()).hasSize(3);
    }

    @Test
    void aClientErrorIsNotRetried() throws Exception {
        hook.answer(404);
        notifier.channels().create("gone", new WebhookConfig(hook.url("/gone"), null), Set.of(), true);
        notifier.notify(jobFailed());
        Delivery d = awaitDeliveries(1, Duration.ofSeconds(10)).get(0);
        assertThat(d.status()).isEqualTo(Delivery.Status.FAILED);
        assertThat(d.attempts()).isEqualTo(1);
        assertThat(d.error()).contains("answered HTTP 404");
        assertThat(hook.received()).hasSize(1);
    }

    @Test
    void aMailArrivesWithTheSubjectAndTheDetails() throws Exception {
        notifier.channels().create("ops-mail", mail(smtpPort()), Set.of(), true);
        notifier.notify(jobFailed());
        MimeMessage[] got = awaitMail(2);
        assertThat(got).hasSize(2); // one copy per recipient mailbox
        MimeMessage m = got[0];
        assertThat(m.getSubject()).isEqualTo("[Haven] Backup of db1 failed");
        assertThat(m.getFrom()[0].toString()).isEqualTo("haven@example.com");
        assertThat(m.getRecipients(Message.RecipientType.TO)).extracting(Object::toString)
                .containsExactly("ops@example.com", "dba@example.com");
        assertThat(m.getHeader("X-Haven-Event")).containsExactly("job_failed");
        assertThat(m.getContentType()).startsWith("text/plain");
        String text = ((String) m.getContent()).replace("\r\n", "\n");
        assertThat(text).startsWith("Backup of db1 failed\n")
                .contains("event:    job_failed\n", "severity: critical\n", "at:       2025-06-01T02:00:05Z\n",
                        "server:   " + SERVER + "\n", "  job: 42\n", "  host: db1\n", "  error: disk full\n");
        Delivery d = awaitDeliveries(1, Duration.ofSeconds(5)).get(0);
        assertThat(d.status()).isEqualTo(Delivery.Status.OK);
        assertThat(d.attempts()).isEqualTo(1);
    }

    @Test
    void smtpAuthLogsInAndAWrongPasswordIsAFailureWithoutRetries() throws Exception {
        smtp.setUser("haven@example.com", "haven", "smtp-password");
        notifier.channels().create("auth-ok", new EmailConfig("127.0.0.1", smtpPort(), false, "haven", "smtp-password",
                "haven@example.com", List.of("ops@example.com")), Set.of(), true);
        notifier.notify(jobFailed());
        awaitMail(1);
        assertThat(awaitDeliveries(1, Duration.ofSeconds(5)).get(0).status()).isEqualTo(Delivery.Status.OK);
        notifier.channels().delete("auth-ok");
        notifier.channels().create("auth-bad", new EmailConfig("127.0.0.1", smtpPort(), false, "haven", "wrong-password",
                "haven@example.com", List.of("ops@example.com")), Set.of(), true);
        notifier.notify(jobFailed());
        Delivery d = awaitDeliveries(2, Duration.ofSeconds(10)).get(0);
        assertThat(d.channel()).isEqualTo("auth-bad");
        assertThat(d.status()).isEqualTo(Delivery.Status.FAILED);
        assertThat(d.attempts()).isEqualTo(1);
        assertThat(d.error()).startsWith("SMTP server 127.0.0.1:" + smtpPort() + " refused the login of user 'haven'")
                .doesNotContain("wrong-password");
    }

    @Test
    void starttlsRequiredButNotOfferedIsAFailureWithoutRetries() throws Exception {
        notifier.channels().create("tls", new EmailConfig("127.0.0.1", smtpPort(), true, null, null, "haven@example.com",
                List.of("ops@example.com")), Set.of(), true);
        notifier.notify(jobFailed());
        Delivery d = awaitDeliveries(1, Duration.ofSeconds(10)).get(0);
        assertThat(d.status()).isEqualTo(Delivery.Status.FAILED);
        assertThat(d.attempts()).isEqualTo(1);
        assertThat(d.error()).contains("STARTTLS");
        assertThat(smtp.getReceivedMessages()).isEmpty();
    }

    @Test
    void anUnreachableSmtpServerIsRecordedFailedWithAClearError() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        notifier.channels().create("nowhere", mail(closed), Set.of(), true);
        long t0 = System.nanoTime();
        notifier.notify(jobFailed());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(200));
        Delivery d = awaitDeliveries(1, Duration.ofSeconds(10)).get(0);
        assertThat(d.status()).isEqualTo(Delivery.Status.FAILED);
        assertThat(d.attempts()).isEqualTo(3);
        assertThat(d.error()).startsWith("cannot send mail through SMTP server 127.0.0.1:" + closed + ": ")
                .containsIgnoringCase("connection refused");
        assertThat(problems).isEmpty();
    }

    @Test
    void aSilentSmtpServerDoesNotBlockTheCaller() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept()); // accepted, never greeted
                    }
                } catch (java.io.IOException end) {
                    // closed by the test
                }
            });
            acceptor.start();
            notifier.close();
            notifier = notifier(fast().withTimeout(Duration.ofMillis(500)));
            notifier.channels().create("silent", mail(silent.getLocalPort()), Set.of(), true);
            long t0 = System.nanoTime();
            for (int i = 0; i < 5; i++) {
                notifier.notify(jobFailed());
            }
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(200));
            Delivery d = awaitDeliveries(1, Duration.ofSeconds(20)).get(0);
            assertThat(d.status()).isEqualTo(Delivery.Status.FAILED);
            assertThat(d.error()).containsIgnoringCase("timed out");
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void onlyEnabledChannelsWhoseFilterAcceptsTheKindReceiveIt() throws Exception {
        notifier.channels().create("jobs", new WebhookConfig(hook.url("/jobs"), null), Set.of(Event.Kind.JOB_FAILED), true);
        notifier.channels().create("agents", new WebhookConfig(hook.url("/agents"), null), Set.of(Event.Kind.AGENT_OFFLINE), true);
        notifier.channels().create("all", new WebhookConfig(hook.url("/all"), null), Set.of(), true);
        notifier.channels().create("off", new WebhookConfig(hook.url("/off"), null), Set.of(), false);
        notifier.notify(jobFailed());
        notifier.notify(new Event(Event.Kind.AGENT_OFFLINE, Event.Severity.WARNING, "Agent web1 offline", Map.of(), WHEN));
        notifier.close(); // drains: everything queued is done when it returns
        assertThat(hook.received("/jobs")).extracting(r -> r.header("X-Haven-Event")).containsExactly("job_failed");
        assertThat(hook.received("/agents")).extracting(r -> r.header("X-Haven-Event")).containsExactly("agent_offline");
        assertThat(hook.received("/all")).extracting(r -> r.header("X-Haven-Event"))
                .containsExactlyInAnyOrder("job_failed", "agent_offline");
        assertThat(hook.received("/off")).isEmpty();
        assertThat(notifier.deliveries().latest(100)).hasSize(4).allMatch(d -> d.status() == Delivery.Status.OK);
    }

    @Test
    void aTestSendIsSynchronousAndReachesEvenADisabledChannel() throws Exception {
        notifier.channels().create("quiet", new WebhookConfig(hook.url("/quiet"), SECRET), Set.of(Event.Kind.AGENT_OFFLINE), false);
        Delivery d = notifier.test("quiet", Map.of("requestedBy", "admin"));
        assertThat(d.status()).isEqualTo(Delivery.Status.OK);
        assertThat(d.event()).isEqualTo(Event.Kind.TEST);
        WebhookReceiver.Received r = hook.received().get(0); // already there: the call was synchronous
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.get("event").asText()).isEqualTo("test");
        assertThat(j.get("details").get("requestedBy").asText()).isEqualTo("admin");
        hook.answer(500);
        Delivery failed = notifier.test("quiet", Map.of());
        assertThat(failed.status()).isEqualTo(Delivery.Status.FAILED);
        assertThat(failed.attempts()).isEqualTo(1);
        assertThat(failed.error()).contains("HTTP 500");
    }

    @Test
    void closeRecordsARetryItCutsShort() throws Exception {
        notifier.close();
        notifier = notifier(Notifier.Settings.defaults().withBackoff(Duration.ofSeconds(30)).withDrain(Duration.ofMillis(200)));
        hook.answer(500);
        notifier.channels().create("slow-retry", new WebhookConfig(hook.url("/r"), null), Set.of(), true);
        notifier.notify(jobFailed());
        hook.await(1, Duration.ofSeconds(10));
        Thread.sleep(300); // the 500 is read and the retry scheduled in 30 s
        assertThat(notifier.deliveries().latest(1)).isEmpty();
        long t0 = System.nanoTime();
        notifier.close();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        Delivery d = notifier.deliveries().latest(10).get(0);
        assertThat(d.status()).isEqualTo(Delivery.Status.FAILED);
        assertThat(d.attempts()).isEqualTo(1);
        // (on a machine so slow that the retry was not scheduled yet, close() refuses to schedule it)
        assertThat(d.error()).satisfiesAnyOf(
                e -> assertThat(e).isEqualTo("the server stopped before attempt 2"),
                e -> assertThat(e).endsWith("answered HTTP 500: scripted failure 500 (not retried: the server is stopping)"));
        assertThat(hook.received()).hasSize(1);
    }

    @Test
    void eventsAfterCloseAndDatabaseFailuresAreReportedNotThrown() throws Exception {
        notifier.channels().create("ops-hook", new WebhookConfig(hook.url("/x"), null), Set.of(), true);
        Notifier other = notifier(fast());
        other.close();
        other.notify(jobFailed());
        assertThat(other.dropped()).isEqualTo(1);
        assertThat(problems).extracting(Throwable::getMessage)
                .containsExactly("notification 'Backup of db1 failed' dropped: the notifier is closed");
        problems.clear();
        db.close(); // the database goes away under a running notifier
        notifier.notify(jobFailed());
        await(() -> problems.isEmpty() ? null : problems, Duration.ofSeconds(10), "a reported problem");
        assertThat(problems.get(0).getMessage()).startsWith("cannot read the notification channels; event 'Backup of db1 failed' is not sent");
        assertThat(hook.received()).isEmpty();
    }
}
