package io.haven.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Channel settings, events and payloads: validation, masking and encoding, without I/O. */
class NotificationConfigTest {
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    static void assertUsage(Executable call, String fragment) {
        assertThatThrownBy(call::execute).isInstanceOf(HavenException.class)
                .satisfies(e -> assertThat(((HavenException) e).code()).isEqualTo(ErrorCode.USAGE))
                .message().contains(fragment);
    }

    static ChannelConfig read(String kind, String json) throws Exception {
        return ChannelConfig.read(kind, JSON.readTree(json), JSON);
    }

    @Test
    void webhookUrlsMustBeHttpOrHttpsWithAHostAndNoCredentials() {
        assertThat(new WebhookConfig(" https://hooks.example.com/services/T0/B0/XYZ ", null).url())
                .isEqualTo("https://hooks.example.com/services/T0/B0/XYZ");
        assertThat(new WebhookConfig("http://10.0.0.5:8080/hook", null).uri().getPort()).isEqualTo(8080);
        assertUsage(() -> new WebhookConfig("ftp://example.com/x", null), "must start with https:// or http://, not 'ftp:'");
        assertUsage(() -> new WebhookConfig("example.com/hook", null), "must start with https:// or http://");
        assertUsage(() -> new WebhookConfig("https:///nohost", null), "no host name");
        assertUsage(() -> new WebhookConfig("https://user:pw@example.com/", null), "must not carry a user name or password");
        assertUsage(() -> new WebhookConfig("https://example.com/a#b", null), "#fragment");
        assertUsage(() -> new WebhookConfig("https://exa mple.com/", null), "not a valid URL");
        assertUsage(() -> new WebhookConfig(null, null), "needs a 'url'");
        assertUsage(() -> new WebhookConfig("https://example.com/", "short"), "16 to 256 characters, not 5");
    }

    @Test
    void theWebhookSecretAndUrlPathAreMasked() {
        WebhookConfig c = new WebhookConfig("https://hooks.example.com:8443/services/T0/B0/XYZ?token=abc", "a-shared-secret-of-some-length");
        assertThat(c.masked()).containsEntry("url", "https://hooks.example.com:8443/…").containsEntry("secret", "***");
        assertThat(c.toString()).doesNotContain("XYZ", "abc", "a-shared-secret");
        assertThat(new WebhookConfig("https://hooks.example.com", null).masked())
                .containsEntry("url", "https://hooks.example.com/").containsEntry("secret", null);
    }

    @Test
    void emailSettingsAreCheckedAndDefaulted() {
        EmailConfig plain = new EmailConfig("smtp.example.com", null, null, null, null, "haven@example.com", List.of("ops@example.com"));
        assertThat(plain.port()).isEqualTo(25);
        assertThat(plain.starttls()).isFalse();
        assertThat(new EmailConfig("smtp.example.com", null, true, "u", "p", "haven@example.com", List.of("o@example.com")).port())
                .isEqualTo(587);
        assertThat(new EmailConfig("smtp.example.com", 2525, false, "", null, "Haven <haven@example.com>", List.of("o@example.com"))
                .username()).isNull();
        assertUsage(() -> new EmailConfig("smtp.example.com", 70000, false, null, null, "h@example.com", List.of("o@example.com")),
                "port must be from 1 to 65535, not 70000");
        assertUsage(() -> new EmailConfig("smtp.example.com", 0, false, null, null, "h@example.com", List.of("o@example.com")),
                "not 0");
        assertUsage(() -> new EmailConfig(null, 25, false, null, null, "h@example.com", List.of("o@example.com")), "needs 'host'");
        assertUsage(() -> new EmailConfig("smtp example", 25, false, null, null, "h@example.com", List.of("o@example.com")),
                "not 'smtp example'");
        assertUsage(() -> new EmailConfig("smtp.example.com", 25, false, "u", null, "h@example.com", List.of("o@example.com")),
                "both 'username' and 'password'");
        assertUsage(() -> new EmailConfig("smtp.example.com", 25, false, null, null, "not-an-address", List.of("o@example.com")),
                "'from': 'not-an-address' is not an e-mail address");
        assertUsage(() -> new EmailConfig("smtp.example.com", 25, false, null, null, "h@example.com", List.of("o@example.com", "x@")),
                "'to': 'x@' is not an e-mail address");
        assertUsage(() -> new EmailConfig("smtp.example.com", 25, false, null, null, "h@example.com",
                List.of("o@example.com\r\nBcc: evil@example.com")), "is not an e-mail address");
        assertUsage(() -> new EmailConfig("smtp.example.com", 25, false, null, null, "h@example.com", List.of()), "at least one address");
    }

    @Test
    void theEmailPasswordIsMasked() {
        EmailConfig c = new EmailConfig("smtp.example.com", 587, true, "haven", "smtp-password", "h@example.com", List.of("o@example.com"));
        assertThat(c.masked()).containsEntry("password", "***").containsEntry("username", "haven").containsEntry("port", 587);
        assertThat(c.masked().toString()).doesNotContain("smtp-password");
        assertThat(c.toString()).doesNotContain("smtp-password");
    }

    @Test
    void settingsAreReadFromJsonByKindWithTheRecordsOwnErrors() throws Exception {
        assertThat(read("webhook", "{\"url\":\"https://example.com/h\"}")).isEqualTo(new WebhookConfig("https://example.com/h", null));
        assertThat(read("EMAIL", "{\"host\":\"smtp.example.com\",\"from\":\"h@example.com\",\"to\":[\"o@example.com\"]}"))
                .isInstanceOf(EmailConfig.class);
        assertUsage(() -> read("webhook", "{\"url\":\"ftp://example.com\"}"), "must start with https:// or http://");
        assertUsage(() -> read("sms", "{}"), "unknown channel kind 'sms'; use webhook or email");
        assertUsage(() -> ChannelConfig.read("webhook", null, JSON), "needs a 'config' object");
        assertThatThrownBy(() -> read("webhook", "{\"url\":\"https://example.com\",\"token\":\"x\"}"))
                .isInstanceOf(JacksonException.class).hasMessageContaining("token");
    }

    @Test
    void eventSubjectsAreOneLineAndDetailsArePlainValues() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("job", 7);
        details.put("when", Instant.parse("2025-01-01T00:00:00Z"));
        details.put("hosts", List.of("a", Instant.EPOCH));
        details.put("nothing", null);
        Event e = new Event(Event.Kind.JOB_FAILED, Event.Severity.WARNING, " Backup failed:\r\n  disk\tfull ", details, Instant.EPOCH);
        assertThat(e.subject()).isEqualTo("Backup failed: disk full");
        assertThat(e.details()).containsExactly(Map.entry("job", 7), Map.entry("when", "2025-01-01T00:00:00Z"),
                Map.entry("hosts", List.of("a", "1970-01-01T00:00:00Z")), new java.util.AbstractMap.SimpleEntry<>("nothing", null));
        assertThat(new Event(Event.Kind.TEST, Event.Severity.INFO, "x".repeat(500), null, Instant.EPOCH).subject())
                .hasSize(Event.MAX_SUBJECT).endsWith("…");
        assertUsage(() -> new Event(Event.Kind.TEST, Event.Severity.INFO, " \n ", null, Instant.EPOCH), "needs a subject");
        assertThat(Event.Kind.parse("agent_offline")).isEqualTo(Event.Kind.AGENT_OFFLINE);
        assertUsage(() -> Event.Kind.parse("disk_full"), "unknown event 'disk_full'; use job_failed, schedule_missed, agent_offline, dr_run, approval_needed, rpo_breach, rpo_met or test");
    }

    @Test
    void theSignatureIsHmacSha256OfTheExactBody() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        assertThat(Payload.signature("Jefe", "what do ya want for nothing?".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .isEqualTo("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    @Test
    void channelNamesAreChecked() {
        assertThat(Channel.checkName("ops-mail.2")).isEqualTo("ops-mail.2");
        assertUsage(() -> Channel.checkName("-x"), "starts with a letter or digit, not '-x'");
        assertUsage(() -> Channel.checkName("a b"), "not 'a b'");
        assertUsage(() -> Channel.checkName("x".repeat(65)), "1 to 64");
    }
}
