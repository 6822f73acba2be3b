package io.haven.runbook;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Duration;

/**
 * How to tell that a workload is up. A boot step waits for each of its workloads' probe to turn
 * green; the agent retries the probe until it does or until {@link #timeout()} has passed since
 * the workload started. Problem paths name the plan file's fields ({@code tcp}, {@code port},
 * {@code http}, {@code status}, {@code command}, {@code timeout}).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Probe.Tcp.class, name = "tcp"),
    @JsonSubTypes.Type(value = Probe.Http.class, name = "http"),
    @JsonSubTypes.Type(value = Probe.Exec.class, name = "command")})
public sealed interface Probe {
    Duration MIN_TIMEOUT = Duration.ofSeconds(1);
    Duration MAX_TIMEOUT = Duration.ofHours(1);
    /** The timeout a plan file gets when it names none. */
    Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    /** How long the workload has to turn green, from when it was started. */
    Duration timeout();

    /** Green when a TCP connection to {@code host:port} opens. */
    record Tcp(String host, int port, Duration timeout) implements Probe {
        public Tcp {
            Checks c = new Checks();
            if (c.present("tcp", host) && !Addresses.host(host)) {
                c.add("tcp", "must be an IP address or a host name, not \"" + host + "\"");
            }
            c.range("port", port, 1, 65535);
            c.range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
            c.done();
        }
    }

    /** Green when {@code GET url} answers {@code status}. Redirects are not followed. */
    record Http(String url, int status, Duration timeout) implements Probe {
        public Http {
            Checks c = new Checks();
            String bad = Addresses.urlProblem(url);
            if (bad != null) {
                c.add("http", bad);
            }
            c.range("status", status, 100, 599);
            c.range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
            c.done();
        }
    }

    /** Green when {@code command} exits 0 on the workload's host ({@code command:} in the plan file). */
    record Exec(String command, Duration timeout) implements Probe {
        public Exec {
            Checks c = new Checks();
            c.text("command", command);
            c.range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
            c.done();
        }
    }
}
