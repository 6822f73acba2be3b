package io.haven.runbook;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One step of a runbook. Every step has a name, unique in its runbook. In a plan file a step is
 * a mapping whose kind key holds the name ({@code - boot: databases}); problems about the name are
 * reported on that key, other problems on the plan file's field names.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Step.BootStep.class, name = "boot"),
    @JsonSubTypes.Type(value = Step.Delay.class, name = "delay"),
    @JsonSubTypes.Type(value = Step.Script.class, name = "script"),
    @JsonSubTypes.Type(value = Step.DnsUpdate.class, name = "dns"),
    @JsonSubTypes.Type(value = Step.HttpCall.class, name = "http"),
    @JsonSubTypes.Type(value = Step.Approval.class, name = "approval")})
public sealed interface Step {
    /** The kind keys of plan files, in the order the documentation lists them. */
    List<String> KINDS = List.of("boot", "delay", "script", "dns", "http", "approval");

    String name();

    /** The plan file's kind key: {@code boot}, {@code delay}, {@code script}, {@code dns}, {@code http}, {@code approval}. */
    default String kind() {
        return switch (this) {
            case BootStep b -> "boot";
            case Delay d -> "delay";
            case Script s -> "script";
            case DnsUpdate d -> "dns";
            case HttpCall h -> "http";
            case Approval a -> "approval";
        };
    }

    /** This step under another name, otherwise the same. */
    default Step withName(String newName) {
        return switch (this) {
            case BootStep b -> new BootStep(newName, b.workloads());
            case Delay d -> new Delay(newName, d.duration());
            case Script s -> new Script(newName, s.where(), s.command(), s.timeout(), s.abortOnFailure(), s.skipInDrill());
            case DnsUpdate d -> new DnsUpdate(newName, d.server(), d.zone(), d.record(), d.type(), d.ttl(), d.toRecovery(),
                    d.toProtected(), d.tsig());
            case HttpCall h -> new HttpCall(newName, h.method(), h.url(), h.body(), h.status(), h.timeout(), h.abortOnFailure(),
                    h.skipInDrill());
            case Approval a -> new Approval(newName, a.prompt(), a.timeout(), a.skipInDrill());
        };
    }

    /**
     * Starts its workloads in parallel (each already prepared); each must start and pass its probe
     * within the probe's timeout, then run its post-boot scripts. The step ends when all are ready.
     * May be empty while a runbook is being edited (workloads are moved in afterwards).
     */
    record BootStep(String name, List<String> workloads) implements Step {
        public BootStep {
            Checks c = new Checks();
            c.name("boot", name);
            if (c.list("workloads", workloads)) {
                Set<String> seen = new HashSet<>();
                for (int i = 0; i < workloads.size(); i++) {
                    String w = workloads.get(i);
                    if (c.name("workloads[" + i + "]", w) && !seen.add(w)) {
                        c.add("workloads[" + i + "]", "lists workload '" + w + "' twice");
                    }
                }
            }
            c.done();
            workloads = List.copyOf(workloads);
        }
    }

    /** Waits {@code duration} before the next step. */
    record Delay(String name, Duration duration) implements Step {
        public static final Duration MIN = Duration.ofSeconds(1);
        public static final Duration MAX = Duration.ofHours(24);

        public Delay {
            Checks c = new Checks();
            c.name("delay", name);
            c.range("duration", duration, MIN, MAX);
            c.done();
        }
    }

    /**
     * Runs {@code command} (through {@code /bin/sh -c}) on the server or on an agent. A non-zero
     * exit, or still running at {@code timeout}, is a failure: with {@code abortOnFailure} it fails
     * the run, otherwise it is reported and the run goes on. {@code skipInDrill} leaves it out of
     * test failovers.
     */
    record Script(String name, Where where, String command, Duration timeout, boolean abortOnFailure, boolean skipInDrill)
            implements Step {
        public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);
        public static final Duration MAX_TIMEOUT = Duration.ofHours(24);
        public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

        public Script {
            Checks c = new Checks();
            c.name("script", name);
            c.present("where", where);
            c.text("command", command);
            c.range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
            c.done();
        }
    }

    /**
     * Changes one DNS record by an RFC 2136 dynamic update signed with TSIG: {@code record} in
     * {@code zone} becomes {@code toRecovery} when the run moves the service to the recovery site,
     * {@code toProtected} when it moves it back. Never run in a test failover (production DNS
     * must not change in a drill). A failure always fails the run.
     *
     * @param record {@code @} for the zone's apex, a name relative to the zone ({@code www}), or
     *     an absolute name inside the zone ({@code www.shop.example.})
     */
    record DnsUpdate(String name, HostPort server, String zone, String record, RecordType type, int ttl, String toRecovery,
            String toProtected, Tsig tsig) implements Step {
        public static final int DEFAULT_TTL = 60;
        public static final int MAX_TTL = 86_400;

        public DnsUpdate {
            Checks c = new Checks();
            c.name("dns", name);
            c.present("server", server);
            boolean zoneOk = c.present("zone", zone) && Addresses.ownerName(zone);
            if (zone != null && !zoneOk) {
                c.add("zone", "must be a DNS name like shop.example, not \"" + zone + "\"");
            }
            if (c.present("record", record) && !record.equals("@")) {
                if (!Addresses.ownerName(record)) {
                    c.add("record", "must be @, a name relative to the zone (www) or an absolute name (www.shop.example.), not \""
                            + record + "\"");
                } else if (zoneOk && record.endsWith(".") && !inZone(record, zone)) {
                    c.add("record", "\"" + record + "\" is not inside zone " + zone);
                }
            }
            c.present("type", type);
            c.range("ttl", ttl, 0, MAX_TTL);
            if (type != null) {
                value(c, "toRecovery", type, toRecovery);
                value(c, "toProtected", type, toProtected);
            }
            c.present("tsig", tsig);
            c.done();
        }

        /** The record's value for a run moving the service in {@code direction}. */
        public String value(Direction direction) {
            return switch (direction) {
                case TO_RECOVERY -> toRecovery;
                case TO_PROTECTED -> toProtected;
            };
        }

        /** The record's absolute owner name, with a final dot. */
        public String fqdn() {
            String z = zone.endsWith(".") ? zone : zone + ".";
            if (record.equals("@")) {
                return z;
            }
            return record.endsWith(".") ? record : record + "." + z;
        }

        private static boolean inZone(String absolute, String zone) {
            String a = absolute.toLowerCase(Locale.ROOT);
            String z = (zone.endsWith(".") ? zone : zone + ".").toLowerCase(Locale.ROOT);
            return a.equals(z) || a.endsWith("." + z);
        }

        private static void value(Checks c, String field, RecordType type, String value) {
            if (!c.present(field, value)) {
                return;
            }
            boolean ok = switch (type) {
                case A -> Addresses.ipv4(value);
                case AAAA -> Addresses.ipv6(value);
                case CNAME -> Addresses.ownerName(value);
            };
            if (!ok) {
                String want = switch (type) {
                    case A -> "an IPv4 address";
                    case AAAA -> "an IPv6 address";
                    case CNAME -> "a DNS name";
                };
                c.add(field, "must be " + want + " for " + (type == RecordType.CNAME ? "a " : "an ") + type + " record, not \"" + value + "\"");
            }
        }
    }

    /**
     * The TSIG key that signs a DNS update: its name and algorithm as the DNS server knows them,
     * and where the server finds the base64 secret: {@code env:VARIABLE} (the Haven server's
     * environment) or {@code file:/absolute/path}. The secret itself never appears in a plan.
     */
    record Tsig(String key, TsigAlgorithm algorithm, String secret) {
        public Tsig {
            Checks c = new Checks();
            if (c.present("key", key) && !Addresses.ownerName(key)) {
                c.add("key", "must be a TSIG key name like haven-dr or haven-dr.shop.example., not \"" + key + "\"");
            }
            c.present("algorithm", algorithm);
            if (c.present("secret", secret) && !secret.matches("env:[A-Za-z_][A-Za-z0-9_]*|file:/[^\\x00]*")) {
                c.add("secret", "must say where the secret is: env:VARIABLE or file:/path (never the secret itself)");
            }
            c.done();
        }
    }

    /**
     * Calls an HTTP endpoint (to pause or resume a scheduler, say) from the server. The call
     * succeeds when the answer's status is {@code status}; a different status, no answer, or no
     * answer within {@code timeout} is a failure, handled as for {@link Script}.
     *
     * @param body sent as is (null for none); its content type is {@code application/json} when it
     *     starts with '{' or '[', {@code text/plain} otherwise
     */
    record HttpCall(String name, String method, String url, String body, int status, Duration timeout, boolean abortOnFailure,
            boolean skipInDrill) implements Step {
        public static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE");
        public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);
        public static final Duration MAX_TIMEOUT = Duration.ofMinutes(10);
        public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

        public HttpCall {
            Checks c = new Checks();
            c.name("http", name);
            if (c.present("method", method) && !METHODS.contains(method)) {
                c.add("method", "must be one of " + String.join(", ", METHODS) + ", not \"" + method + "\"");
            }
            String bad = Addresses.urlProblem(url);
            if (bad != null) {
                c.add("url", bad);
            }
            c.range("status", status, 100, 599);
            c.range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
            c.done();
        }
    }

    /**
     * Waits for an operator to approve (the run goes on) or deny (the run is aborted). No answer
     * within {@code timeout} fails the run. {@code skipInDrill} lets scheduled drills run
     * unattended.
     */
    record Approval(String name, String prompt, Duration timeout, boolean skipInDrill) implements Step {
        public static final Duration MIN_TIMEOUT = Duration.ofMinutes(1);
        public static final Duration MAX_TIMEOUT = Duration.ofDays(7);
        public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);

        public Approval {
            Checks c = new Checks();
            c.name("approval", name);
            c.text("prompt", prompt);
            c.range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
            c.done();
        }
    }
}
