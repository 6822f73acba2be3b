package io.haven.runbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DrPlanTest {
    @Test
    void aPlanBuiltInCodeIsValidatedLikeAPlanFileButWithoutPositions() {
        assertThatThrownBy(() -> new DrPlan("shop", "hq", "hq", null, Duration.ofSeconds(1), List.of(), Runbook.defaultFor(List.of()), null, 0))
                .isInstanceOfSatisfying(PlanValidationException.class, e -> assertThat(e.lines()).containsExactly(
                        "recoverySite: must differ from the protected site (hq)",
                        "mode: is required",
                        "rpo: must be from 10s to 7d, not 1s",
                        "version: must be 1 or more, not 0",
                        "workloads: a plan protects at least one workload"));
    }

    @Test
    void recordsCheckTheirOwnFields() {
        assertThatThrownBy(() -> new Probe.Tcp("bad host", 0, Duration.ZERO))
                .isInstanceOfSatisfying(PlanValidationException.class, e -> assertThat(e.lines()).containsExactly(
                        "tcp: must be an IP address or a host name, not \"bad host\"",
                        "port: must be 1..65535, not 0",
                        "timeout: must be from 1s to 1h, not 0s"));
        assertThatThrownBy(() -> new Step.DnsUpdate("d", new HostPort("ns", 53), "shop.example", "www.other.example.", RecordType.CNAME, -1,
                "x..y", "ok.example", null)).isInstanceOfSatisfying(PlanValidationException.class, e -> assertThat(e.lines()).containsExactly(
                        "record: \"www.other.example.\" is not inside zone shop.example",
                        "ttl: must be 0..86400, not -1",
                        "toRecovery: must be a DNS name for a CNAME record, not \"x..y\"",
                        "tsig: is required"));
    }

    @Test
    void hostPortTextAcceptsNamesIpv4AndBracketedIpv6() {
        assertThat(HostPort.parse("ns1.shop.example", 53)).isEqualTo(new HostPort("ns1.shop.example", 53));
        assertThat(HostPort.parse("10.0.0.53:5353", 53)).isEqualTo(new HostPort("10.0.0.53", 5353));
        assertThat(HostPort.parse("[fd00::53]:54", 53)).isEqualTo(new HostPort("fd00::53", 54));
        assertThat(new HostPort("fd00::53", 54).toString()).isEqualTo("[fd00::53]:54");
        assertThatThrownBy(() -> HostPort.parse("fd00::53", 53)).hasMessage("IPv6 addresses need brackets: [fd00::53]:53");
        assertThatThrownBy(() -> HostPort.parse("ns:x", 53)).hasMessage("has a port that is not a number: \"ns:x\"");
    }

    @Test
    void durationsAreWholeUnitsLargestFirst() {
        assertThat(DurationText.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(DurationText.parse("2d")).isEqualTo(Duration.ofDays(2));
        assertThat(DurationText.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(DurationText.format(Duration.ofDays(1).plusSeconds(1))).isEqualTo("1d1s");
        assertThatThrownBy(() -> DurationText.parse("30m1h")).hasMessageContaining("must be a duration like 15s");
        assertThatThrownBy(() -> DurationText.parse("1.5h")).hasMessageContaining("must be a duration like 15s");
        assertThatThrownBy(() -> DurationText.parse("90")).hasMessage("needs a unit: 90s, 90m or 90h");
    }

    @Test
    void scriptLocationIsServerOrANamedHost() {
        assertThat(Where.parse("server")).isEqualTo(new Where.Server());
        assertThat(Where.parse("host dr-app-1")).isEqualTo(new Where.Host("dr-app-1"));
        assertThat(new Where.Host("dr-app-1").text()).isEqualTo("host dr-app-1");
        assertThatThrownBy(() -> Where.parse("dr-app-1")).hasMessage("must be \"server\" or \"host AGENT\", not \"dr-app-1\"");
    }
}
