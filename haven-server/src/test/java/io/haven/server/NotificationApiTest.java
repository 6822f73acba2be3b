package io.haven.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.server.notify.Event;
import io.haven.server.notify.WebhookReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The notification endpoints through the real server over HTTPS, with a webhook receiver on 127.0.0.1. */
class NotificationApiTest {
    static final String SECRET = "api-test-shared-secret";

    @TempDir
    static Path data;
    static HavenServer server;
    static TestClient client;
    static WebhookReceiver hook;
    static String admin;
    static String operator;
    static String viewer;

    @BeforeAll
    static void start() throws Exception {
        hook = new WebhookReceiver();
        server = HavenServer.start(HavenServerTest.config(data));
        client = new TestClient(server.uri(), server.tls().caCertificateFile());
        admin = client.login("admin", HavenServerTest.ADMIN_PW);
        client.post("/api/v1/users", admin, Map.of("username", "olga", "password", "operator-password", "role", "operator"));
        client.post("/api/v1/users", admin, Map.of("username", "vic", "password", "viewer-password", "role", "viewer"));
        operator = client.login("olga", "operator-password");
        viewer = client.login("vic", "viewer-password");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (hook != null) {
            hook.close();
        }
    }

    static Map<String, Object> webhook(String name, String path) {
        return Map.of("name", name, "kind", "webhook", "events", List.of("job_failed", "test"),
                "config", Map.of("url", hook.url(path), "secret", SECRET));
    }

    static String hmac(byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    @Test
    void anAdminCreatesChannelsAndReadersSeeThemWithSecretsMasked() throws Exception {
        var created = client.post("/api/v1/notifications/channels", admin, webhook("ops-hook", "/secret-path/T0/XYZ"));
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.json().get("kind").asText()).isEqualTo("webhook");
        assertThat(created.json().get("enabled").asBoolean()).isTrue();
        assertThat(created.json().get("config").get("secret").asText()).isEqualTo("***");
        assertThat(created.json().get("config").get("url").asText()).isEqualTo(hook.url("/…"));
        // disabled: nothing listens on its port, and other tests' events should not wait on retries at shutdown
        var mail = client.post("/api/v1/notifications/channels", admin, Map.of("name", "ops-mail", "kind", "email", "enabled", false,
                "config", Map.of("host", "127.0.0.1", "port", 2525, "username", "haven", "password", "smtp-password",
                        "from", "haven@example.com", "to", List.of("ops@example.com"))));
        assertThat(mail.status()).isEqualTo(201);
        assertThat(mail.json().get("config").get("password").asText()).isEqualTo("***");
        assertThat(mail.json().get("events")).isEmpty();
        assertThat(mail.json().get("enabled").asBoolean()).isFalse();

        var listed = client.get("/api/v1/notifications/channels", operator);
        assertThat(listed.status()).isEqualTo(200);
        assertThat(listed.body()).contains("ops-hook", "ops-mail").doesNotContain(SECRET, "smtp-password", "secret-path", "XYZ");
        JsonNode hookRow = null;
        for (JsonNode c : listed.json().get("channels")) {
            if (c.get("name").asText().equals("ops-hook")) {
                hookRow = c;
            }
        }
        assertThat(hookRow).isNotNull();
        assertThat(hookRow.get("events")).extracting(JsonNode::asText).containsExactly("job_failed", "test");
        assertThat(client.get("/api/v1/notifications/channels", admin).body()).doesNotContain(SECRET, "smtp-password");
        var audit = client.get("/api/v1/audit?limit=100", admin).body();
        assertThat(audit).contains("POST /api/v1/notifications/channels", "notification-channel:ops-hook").doesNotContain(SECRET);
    }

    @Test
    void viewersAndOperatorsAreRefusedWhatTheirRoleDoesNotAllow() throws Exception {
        assertThat(client.get("/api/v1/notifications/channels", viewer).status()).isEqualTo(403);
        assertThat(client.get("/api/v1/notifications/deliveries", viewer).status()).isEqualTo(403);
        var r = client.post("/api/v1/notifications/channels", viewer, webhook("sneaky", "/x"));
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().get("error").get("code").asText()).isEqualTo("forbidden");
        assertThat(client.post("/api/v1/notifications/channels", operator, webhook("sneaky", "/x")).status()).isEqualTo(403);
        assertThat(client.post("/api/v1/notifications/test", operator, Map.of("name", "ops-hook")).status()).isEqualTo(403);
        assertThat(client.post("/api/v1/notifications/channels/delete", operator, Map.of("name", "ops-hook")).status()).isEqualTo(403);
        assertThat(client.get("/api/v1/notifications/channels", null).status()).isEqualTo(401);
        assertThat(client.get("/api/v1/notifications/channels", admin).body()).doesNotContain("sneaky");
    }

    @Test
    void badSettingsAreRefusedWithClearMessages() throws Exception {
        Map<String, Map<String, Object>> bad = Map.of(
                "must start with https:// or http://", Map.of("name", "b1", "kind", "webhook", "config", Map.of("url", "ftp://example.com/")),
                "is not an e-mail address", Map.of("name", "b2", "kind", "email",
                        "config", Map.of("host", "smtp.example.com", "from", "haven", "to", List.of("ops@example.com"))),
                "port must be from 1 to 65535", Map.of("name", "b3", "kind", "email",
                        "config", Map.of("host", "smtp.example.com", "port", 70000, "from", "h@example.com", "to", List.of("o@example.com"))),
                "unknown channel kind 'pager'", Map.of("name", "b4", "kind", "pager", "config", Map.of()),
                "unknown event 'disk_full'", Map.of("name", "b5", "kind", "webhook", "events", List.of("disk_full"),
                        "config", Map.of("url", "https://example.com/")),
                "a channel name has 1 to 64", Map.of("name", "bad name", "kind", "webhook", "config", Map.of("url", "https://example.com/")),
                "not the JSON this call takes", Map.of("name", "b6", "kind", "webhook",
                        "config", Map.of("url", "https://example.com/", "token", "x")));
        for (var e : bad.entrySet()) {
            var r = client.post("/api/v1/notifications/channels", admin, e.getValue());
            assertThat(r.status()).as(e.getKey()).isEqualTo(400);
            assertThat(r.json().get("error").get("message").asText()).as(e.getKey()).contains(e.getKey());
        }
        client.post("/api/v1/notifications/channels", admin, webhook("twice", "/t"));
        var dup = client.post("/api/v1/notifications/channels", admin, webhook("twice", "/t"));
        assertThat(dup.status()).isEqualTo(409);
        assertThat(dup.json().get("error").get("message").asText()).contains("'twice' exists already");
    }

    @Test
    void aTestSendReachesTheReceiverAndIsRecorded() throws Exception {
        client.post("/api/v1/notifications/channels", admin, webhook("tested", "/tested"));
        var r = client.post("/api/v1/notifications/test", admin, Map.of("name", "tested"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("ok");
        assertThat(r.json().get("attempts").asInt()).isEqualTo(1);
        assertThat(r.json().get("event").asText()).isEqualTo("test");
        WebhookReceiver.Received got = hook.received("/tested").get(0);
        assertThat(got.header("X-Haven-Signature")).isEqualTo(hmac(got.body()));
        JsonNode payload = TestClient.JSON.readTree(got.body());
        assertThat(payload.get("event").asText()).isEqualTo("test");
        assertThat(payload.get("details").get("requestedBy").asText()).isEqualTo("admin");
        assertThat(payload.get("server").asText()).isEqualTo(server.uri().toString());

        var deliveries = client.get("/api/v1/notifications/deliveries?limit=5", operator);
        assertThat(deliveries.status()).isEqualTo(200);
        JsonNode newest = deliveries.json().get("deliveries").get(0);
        assertThat(newest.get("channel").asText()).isEqualTo("tested");
        assertThat(newest.get("status").asText()).isEqualTo("ok");
        assertThat(client.get("/api/v1/notifications/deliveries?limit=0", operator).status()).isEqualTo(400);

        assertThat(client.post("/api/v1/notifications/test", admin, Map.of("name", "no-such")).status()).isEqualTo(404);
    }

    @Test
    void aFailedTestSendAnswersWithTheError() throws Exception {
        client.post("/api/v1/notifications/channels", admin, Map.of("name", "unreachable", "kind", "webhook",
                "config", Map.of("url", "http://127.0.0.1:1/hook")));
        var r = client.post("/api/v1/notifications/test", admin, Map.of("name", "unreachable"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("failed");
        assertThat(r.json().get("error").asText()).startsWith("cannot connect to http://127.0.0.1:1/…");
        client.post("/api/v1/notifications/channels/delete", admin, Map.of("name", "unreachable"));
    }

    @Test
    void deletingAChannelKeepsItsDeliveries() throws Exception {
        client.post("/api/v1/notifications/channels", admin, webhook("short-lived", "/short"));
        client.post("/api/v1/notifications/test", admin, Map.of("name", "short-lived"));
        var del = client.post("/api/v1/notifications/channels/delete", admin, Map.of("name", "short-lived"));
        assertThat(del.status()).isEqualTo(200);
        assertThat(client.get("/api/v1/notifications/channels", admin).body()).doesNotContain("short-lived");
        assertThat(client.post("/api/v1/notifications/channels/delete", admin, Map.of("name", "short-lived")).status()).isEqualTo(404);
        assertThat(client.get("/api/v1/notifications/deliveries?limit=1000", admin).body()).contains("short-lived");
    }

    @Test
    void serverCodeNotifiesThroughTheServersNotifier() throws Exception {
        client.post("/api/v1/notifications/channels", admin, webhook("jobs", "/jobs"));
        server.notifier().notify(new Event(Event.Kind.JOB_FAILED, Event.Severity.CRITICAL, "Backup of db1 failed",
                Map.of("job", 42), Instant.parse("2025-06-01T02:00:00Z")));
        server.notifier().notify(new Event(Event.Kind.AGENT_OFFLINE, Event.Severity.WARNING, "Agent web1 offline",
                Map.of(), Instant.parse("2025-06-01T02:00:00Z"))); // filtered out by the channel
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (hook.received("/jobs").isEmpty() && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertThat(hook.received("/jobs")).hasSize(1);
        assertThat(TestClient.JSON.readTree(hook.received("/jobs").get(0).body()).get("subject").asText()).isEqualTo("Backup of db1 failed");
    }
}
