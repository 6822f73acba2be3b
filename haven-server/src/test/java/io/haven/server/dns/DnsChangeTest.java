package io.haven.server.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The validation and canonical forms of {@link DnsChange} and its parts; no server needed. */
class DnsChangeTest {
    private static final DnsServer SERVER = new DnsServer("127.0.0.1", null);
    private static final TsigKey KEY = new TsigKey("haven-dr", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==");

    private static DnsChange change(String zone, String name, RecordType type, List<String> values) {
        return new DnsChange(SERVER, zone, name, type, Duration.ofSeconds(60), values, KEY, null, null);
    }

    @Test
    void namesAreMadeAbsoluteRelativeToTheZoneUnlessTheyAlreadyEndInIt() {
        assertThat(change("Example.COM", "app", RecordType.A, List.of("192.0.2.1")).name()).isEqualTo("app.example.com.");
        assertThat(change("example.com.", "@", RecordType.A, List.of("192.0.2.1")).name()).isEqualTo("example.com.");
        assertThat(change("example.com", "", RecordType.A, List.of("192.0.2.1")).name()).isEqualTo("example.com.");
        assertThat(change("example.com", "App.Example.com.", RecordType.A, List.of("192.0.2.1")).name()).isEqualTo("app.example.com.");
        assertThat(change("example.com", "app.example.com", RecordType.A, List.of("192.0.2.1")).name()).isEqualTo("app.example.com.");
        assertThat(change("example.com", "a.b", RecordType.A, List.of("192.0.2.1")).name()).isEqualTo("a.b.example.com.");
        assertThat(change("example.com", "_dr._tcp", RecordType.A, List.of("192.0.2.1")).name()).isEqualTo("_dr._tcp.example.com.");
        assertThat(change("example.com", "app", RecordType.A, List.of()).zone()).isEqualTo("example.com.");
    }

    @Test
    void refusesANameOutsideTheZone() {
        assertThatThrownBy(() -> change("example.com", "app.example.net.", RecordType.A, List.of("192.0.2.1")))
                .isInstanceOf(HavenException.class).hasMessageContaining("app.example.net. is not in the zone example.com.");
        assertThatThrownBy(() -> change("example.com", "bad name", RecordType.A, List.of("192.0.2.1")))
                .hasMessageContaining("is not a domain name");
        assertThatThrownBy(() -> change("example.com", "-x", RecordType.A, List.of("192.0.2.1")))
                .hasMessageContaining("is not a domain name");
    }

    @Test
    void valuesAreCheckedAndCanonicalForTheirType() {
        assertThat(change("example.com", "app", RecordType.AAAA, List.of("2001:DB8:0:0:1:0:0:1", "::1", "2001:db8::")).values())
                .containsExactly("2001:db8::1:0:0:1", "::1", "2001:db8::");
        assertThat(change("example.com", "www", RecordType.CNAME, List.of("App.Example.NET")).values())
                .containsExactly("app.example.net.");
        assertThatThrownBy(() -> change("example.com", "app", RecordType.A, List.of("192.0.2.300")))
                .hasMessageContaining("'192.0.2.300' is not an IPv4 address");
        assertThatThrownBy(() -> change("example.com", "app", RecordType.A, List.of("2001:db8::1")))
                .hasMessageContaining("is not an IPv4 address");
        assertThatThrownBy(() -> change("example.com", "app", RecordType.AAAA, List.of("192.0.2.1")))
                .hasMessageContaining("is not an IPv6 address");
        assertThatThrownBy(() -> change("example.com", "app", RecordType.A, List.of("192.0.2.1", " 192.0.2.1")))
                .hasMessageContaining("given twice");
    }

    @Test
    void aCnameHasOneTargetAndNeverSitsAtTheApex() {
        assertThatThrownBy(() -> change("example.com", "www", RecordType.CNAME, List.of("a.example.net", "b.example.net")))
                .hasMessageContaining("one target");
        assertThatThrownBy(() -> change("example.com", "@", RecordType.CNAME, List.of("a.example.net")))
                .hasMessageContaining("apex");
        assertThatThrownBy(() -> change("example.com", "www", RecordType.CNAME, List.of("www.example.com")))
                .hasMessageContaining("itself");
    }

    @Test
    void ttlAndTimeoutAreBounded() {
        assertThatThrownBy(() -> new DnsChange(SERVER, "example.com", "app", RecordType.A, Duration.ofMillis(1500),
                List.of("192.0.2.1"), KEY, null, null)).hasMessageContaining("whole seconds");
        assertThatThrownBy(() -> new DnsChange(SERVER, "example.com", "app", RecordType.A, Duration.ofSeconds(-1),
                List.of("192.0.2.1"), KEY, null, null)).hasMessageContaining("TTL");
        assertThatThrownBy(() -> new DnsChange(SERVER, "example.com", "app", RecordType.A, Duration.ofSeconds(60),
                List.of("192.0.2.1"), KEY, null, Duration.ofHours(1))).hasMessageContaining("timeout");
        assertThat(change("example.com", "app", RecordType.A, List.of("192.0.2.1")).timeout()).isEqualTo(DnsChange.DEFAULT_TIMEOUT);
    }

    @Test
    void aPrerequisiteIsCanonicalAndDefaultsToNone() {
        DnsChange c = change("example.com", "app", RecordType.AAAA, List.of("2001:db8::1"));
        assertThat(c.prerequisite()).isEqualTo(new Prerequisite.None());
        assertThat(c.withPrerequisite(Prerequisite.exactly("2001:DB8:0::2")).prerequisite())
                .isEqualTo(new Prerequisite.Exactly(List.of("2001:db8::2")));
        assertThatThrownBy(() -> c.withPrerequisite(Prerequisite.exactly("192.0.2.1"))).hasMessageContaining("IPv6");
        assertThatThrownBy(() -> new Prerequisite.Exactly(List.of())).hasMessageContaining("absent");
    }

    @Test
    void aTsigKeyNeverShowsItsSecretAndChecksItsAlgorithm() {
        assertThat(KEY.algorithm()).isEqualTo("hmac-sha256");
        assertThat(KEY.name()).isEqualTo("haven-dr.");
        assertThat(KEY.toString()).doesNotContain(KEY.secret());
        assertThat(change("example.com", "app", RecordType.A, List.of("192.0.2.1")).toString()).doesNotContain(KEY.secret());
        assertThatThrownBy(() -> new TsigKey("k", "hmac-md5", KEY.secret())).hasMessageContaining("hmac-sha256");
        assertThatThrownBy(() -> new TsigKey("k", null, "not base64!")).hasMessageContaining("not base64");
        assertThatThrownBy(() -> new TsigKey("k", null, " ")).hasMessageContaining("needs its secret");
        assertThat(new TsigKey("k", "HMAC-SHA512", KEY.secret()).algorithm()).isEqualTo("hmac-sha512");
    }

    @Test
    void serversAndTypesAreChecked() {
        assertThat(SERVER.port()).isEqualTo(53);
        assertThat(new DnsServer("2001:db8::53", 5353).toString()).isEqualTo("[2001:db8::53]:5353");
        assertThatThrownBy(() -> new DnsServer("ns1 example", 53)).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
        assertThatThrownBy(() -> new DnsServer("ns1", 0)).hasMessageContaining("from 1 to 65535");
        assertThat(RecordType.parse(" aaaa ")).isEqualTo(RecordType.AAAA);
        assertThatThrownBy(() -> RecordType.parse("MX")).hasMessageContaining("A, AAAA or CNAME");
    }
}
