package io.haven.server.dns;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.dns.DnsUpdateException.Failure;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.crypto.spec.SecretKeySpec;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Address;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * {@link DnsUpdater} by RFC 2136 dynamic update, signed with TSIG (RFC 8945), over TCP, with
 * dnsjava.
 *
 * <p>Design: one update is four exchanges with the zone's server over TCP, each signed with
 * the change's key, all within the change's timeout (dnsjava may carry them, and those of
 * concurrent updates to the same server, on one open connection, matched by message id):
 * <ol>
 * <li>a query for the zone's SOA, to tell "no such zone here" and "not authoritative" apart
 *     from other failures before anything is changed;
 * <li>a query for the RRset, whose answer becomes {@link Result#previous()};
 * <li>the UPDATE: the prerequisite (if any), "delete the RRset", then "add" each new record,
 *     which the server applies all together or not at all;
 * <li>a query for the RRset again, which must show exactly the new values and TTL.
 * </ol>
 * Queries go straight to the server with recursion off and must carry the AA flag, so no cache
 * stands between Haven and the zone's data. Every answer must carry a TSIG signature that
 * verifies with the key; an unsigned answer is refused (it could be forged). TCP rather than
 * UDP: a stopped server shows at once as a refused connection instead of a silent timeout, a
 * lost packet is sent again by TCP instead of costing the whole timeout, and no answer is ever
 * truncated.
 *
 * <p>Time comes from the {@link InstantSource} given at construction: it stamps the TSIG
 * signatures (the server refuses them when the two clocks are more than 5 minutes apart) and
 * measures the timings and the deadline.
 *
 * <p>Thread-safe: each call uses its own resolver; calls may run in parallel.
 */
public final class Rfc2136Updater implements DnsUpdater {
    private static final String UNCERTAIN =
            ". The update was sent, so it may or may not have been applied: query the server to see which";
    private final InstantSource clock;

    public Rfc2136Updater(InstantSource clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Result update(DnsChange change) {
        Instant started = clock.instant();
        Exchange x = new Exchange(change, started.plus(change.timeout()));
        x.checkZone();
        Served before = x.read("reading the current records");
        Update update = new Update(x.zone);
        switch (change.prerequisite()) {
            case Prerequisite.None none -> {
            }
            case Prerequisite.Exactly exactly -> {
                for (String v : exactly.values()) {
                    update.present(x.record(v, 0));
                }
            }
            case Prerequisite.Absent absent -> update.absent(x.name, change.type().code());
        }
        update.delete(x.name, change.type().code());
        for (String v : change.values()) {
            update.add(x.record(v, change.ttl().getSeconds()));
        }
        Instant sent = clock.instant();
        Message answer = x.send(update, "the update");
        x.checkUpdateAnswer(answer);
        Instant updated = clock.instant();
        Served after = x.read("verifying the update (which the server accepted)");
        Instant verified = clock.instant();
        if (!after.matches(change)) {
            throw x.fail(Failure.NOT_APPLIED, "the server accepted the update but now serves " + after + " instead of "
                    + new Served(change.values(), change.ttl()) + (change.type() == RecordType.CNAME
                            ? "; BIND ignores a CNAME added beside other records of the same name: remove those first" : "")
                    + "; see the server's log");
        }
        return new Result(change, before.values, before.values.isEmpty() ? null : before.ttl, started,
                Duration.between(sent, updated), Duration.between(updated, verified), Duration.between(started, verified));
    }

    @Override
    public List<String> check(DnsChange change) {
        Exchange x = new Exchange(change, clock.instant().plus(change.timeout()));
        x.checkZone();
        Served now = x.read("reading the current records");
        Update probe = new Update(x.zone);
        if (now.values.isEmpty()) {
            probe.absent(x.name, change.type().code());
        } else {
            for (String v : now.values) {
                probe.present(x.record(v, 0));
            }
        }
        x.checkUpdateAnswer(x.send(probe, "the check (a signed update that changes nothing)"));
        return now.values;
    }

    /** An RRset as served: canonical values in the server's order, and its TTL. */
    private record Served(List<String> values, Duration ttl) {
        boolean matches(DnsChange c) {
            return new HashSet<>(values).equals(new HashSet<>(c.values())) && (values.isEmpty() || ttl.equals(c.ttl()));
        }

        @Override
        public String toString() {
            return values.isEmpty() ? "no record" : String.join(", ", values) + " (TTL " + ttl.getSeconds() + " s)";
        }
    }

    /** The state of one update: the resolver, the deadline and the names in dnsjava's form. */
    private final class Exchange {
        final DnsChange change;
        final Instant deadline;
        final Name zone;
        final Name name;
        final TSIG tsig;
        SimpleResolver resolver;

        Exchange(DnsChange change, Instant deadline) {
            this.change = change;
            this.deadline = deadline;
            this.zone = DnsNames.name(change.zone());
            this.name = DnsNames.name(change.name());
            TsigKey key = change.key();
            Name algorithm = DnsNames.name(key.algorithm() + ".");
            this.tsig = new TSIG(algorithm, DnsNames.name(key.name()),
                    new SecretKeySpec(key.secretBytes(), TSIG.nameToAlgorithm(algorithm)), clock.withZone(ZoneOffset.UTC));
        }

        String where() {
            return "DNS update of " + change.name() + " " + change.type() + " at " + change.server();
        }

        DnsUpdateException fail(Failure failure, String what) {
            return new DnsUpdateException(failure, where() + ": " + what);
        }

        Record record(String value, long ttl) {
            return switch (change.type()) {
                case A -> new ARecord(name, DClass.IN, ttl, Address.toByteArray(value, Address.IPv4));
                case AAAA -> new AAAARecord(name, DClass.IN, ttl, Address.toByteArray(value, Address.IPv6));
                case CNAME -> new CNAMERecord(name, DClass.IN, ttl, DnsNames.name(value));
            };
        }

        /** Sends {@code message} (signed) and waits for its answer until the deadline. */
        Message send(Message message, String what) {
            boolean isUpdate = message instanceof Update;
            String uncertain = isUpdate ? UNCERTAIN : "";
            Duration left = Duration.between(clock.instant(), deadline);
            if (left.compareTo(Duration.ofMillis(1)) < 0) {
                throw fail(Failure.UNREACHABLE, "the timeout of " + seconds(change.timeout()) + " ran out before " + what
                        + " (the server may be slow or overloaded; this may pass)");
            }
            try {
                if (resolver == null) {
                    InetAddress address = InetAddress.getByName(change.server().host());
                    resolver = new SimpleResolver(new InetSocketAddress(address, change.server().port()));
                    resolver.setTCP(true);
                    resolver.setTSIGKey(tsig);
                }
                // dnsjava's own timer a little later than ours, so that the deadline reports as such
                resolver.setTimeout(left.plusSeconds(1));
                return resolver.sendAsync(message).toCompletableFuture().get(left.toMillis(), TimeUnit.MILLISECONDS);
            } catch (UnknownHostException e) {
                throw new DnsUpdateException(Failure.UNREACHABLE, where() + ": cannot resolve the server's name '"
                        + change.server().host() + "' (" + e.getMessage() + "); this may pass, or give its address", e);
            } catch (TimeoutException e) {
                throw noAnswer(what, uncertain, e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                if (cause instanceof SocketTimeoutException || cause instanceof TimeoutException) {
                    throw noAnswer(what, uncertain, cause);
                }
                if (cause instanceof ConnectException) {
                    throw new DnsUpdateException(Failure.UNREACHABLE, where() + ": the server refused the TCP connection for "
                            + what + " (" + cause.getMessage() + "); is it running and listening on port " + change.server().port()
                            + "? This may pass", cause);
                }
                if (cause instanceof IOException) {
                    throw new DnsUpdateException(Failure.UNREACHABLE, where() + ": " + what + " failed: "
                            + describe(cause) + "; this may pass" + uncertain, cause);
                }
                throw new DnsUpdateException(Failure.BAD_RESPONSE, where() + ": " + what + " failed: " + describe(cause)
                        + uncertain, cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HavenException(ErrorCode.IO, where() + ": interrupted while waiting for " + what + uncertain, e);
            }
        }

        private DnsUpdateException noAnswer(String what, String uncertain, Throwable cause) {
            return new DnsUpdateException(Failure.UNREACHABLE, where() + ": no answer to " + what + " within "
                    + seconds(change.timeout()) + " (the step's timeout); is the server running and reachable over TCP on port "
                    + change.server().port() + "? This may pass" + uncertain, cause);
        }

        /** Checks that the server is authoritative for the zone and that the zone exists there. */
        void checkZone() {
            Message q = query(zone, Type.SOA);
            Message a = send(q, "the query for the zone's SOA record");
            checkSignature(a);
            int rcode = a.getRcode();
            String z = change.zone();
            switch (rcode) {
                case Rcode.NOERROR, Rcode.NXDOMAIN -> {
                }
                case Rcode.REFUSED, Rcode.NOTAUTH -> throw fail(Failure.NO_SUCH_ZONE, "the server does not serve the zone " + z
                        + " (it answered " + Rcode.string(rcode) + " to a query for its SOA record); check the zone's name, and"
                        + " send updates to the zone's primary server");
                case Rcode.SERVFAIL -> throw fail(Failure.SERVER_FAILURE, "the server answered SERVFAIL for the zone " + z
                        + ": the zone may have failed to load; see the server's log. This may pass");
                default -> throw fail(Failure.BAD_RESPONSE, "the server answered " + Rcode.string(rcode)
                        + " to a query for the SOA record of " + z);
            }
            if (!a.getHeader().getFlag(Flags.AA)) {
                throw fail(Failure.NO_SUCH_ZONE, "the server is not authoritative for " + z + " (its answer lacks the AA flag:"
                        + " it is a resolver or forwarder); send updates to the zone's primary server");
            }
            for (Record r : a.getSection(Section.ANSWER)) {
                if (r.getType() == Type.SOA && r.getName().equals(zone)) {
                    return;
                }
            }
            String enclosing = null;
            for (Record r : a.getSection(Section.AUTHORITY)) {
                if (r.getType() == Type.SOA) {
                    enclosing = r.getName().toString().toLowerCase(Locale.ROOT);
                }
            }
            throw fail(Failure.NO_SUCH_ZONE, z + " is not a zone on this server"
                    + (enclosing == null ? "" : ": the name " + (rcode == Rcode.NXDOMAIN ? "does not exist in" : "lies inside")
                            + " the zone " + enclosing)
                    + "; check the step's zone");
        }

        /** The RRset as the server serves it now. */
        Served read(String what) {
            Message a = send(query(name, change.type().code()), "the query for the records (" + what + ")");
            checkSignature(a);
            int rcode = a.getRcode();
            if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
                Failure f = switch (rcode) {
                    case Rcode.SERVFAIL -> Failure.SERVER_FAILURE;
                    case Rcode.REFUSED -> Failure.REFUSED;
                    case Rcode.NOTAUTH -> Failure.NO_SUCH_ZONE;
                    default -> Failure.BAD_RESPONSE;
                };
                throw fail(f, "the server answered " + Rcode.string(rcode) + " when " + what);
            }
            if (!a.getHeader().getFlag(Flags.AA)) {
                throw fail(Failure.NO_SUCH_ZONE, "the server's answer when " + what + " is not authoritative (no AA flag)");
            }
            List<String> values = new ArrayList<>();
            long ttl = Long.MAX_VALUE;
            for (Record r : a.getSection(Section.ANSWER)) {
                if (r.getType() != change.type().code() || !r.getName().equals(name)) {
                    continue;
                }
                ttl = Math.min(ttl, r.getTTL());
                values.add(switch (r) {
                    case ARecord ar -> Address.toDottedQuad(ar.getAddress().getAddress());
                    case AAAARecord ar -> RecordType.ipv6(ar.rdataToWireCanonical());
                    case CNAMERecord cr -> cr.getTarget().toString().toLowerCase(Locale.ROOT);
                    default -> r.rdataToString();
                });
            }
            return new Served(List.copyOf(values), values.isEmpty() ? Duration.ZERO : Duration.ofSeconds(ttl));
        }

        void checkUpdateAnswer(Message a) {
            checkSignature(a, UNCERTAIN);
            int rcode = a.getRcode();
            String key = "key " + change.key().name();
            switch (rcode) {
                case Rcode.NOERROR -> {
                }
                case Rcode.REFUSED -> throw fail(Failure.REFUSED, "the server refused the update (REFUSED): its update-policy"
                        + " (or allow-update) for the zone " + change.zone() + " does not let " + key + " change " + change.name()
                        + " " + change.type() + "; grant it in the zone's configuration (docs/dns.md) or use the right key");
                case Rcode.NOTAUTH -> throw fail(Failure.NO_SUCH_ZONE, "the server is not authoritative for the zone "
                        + change.zone() + " (NOTAUTH); send updates to the zone's primary server");
                case Rcode.NXDOMAIN, Rcode.YXDOMAIN, Rcode.NXRRSET, Rcode.YXRRSET -> {
                    String now;
                    try {
                        now = read("reading the records after the failed prerequisite").toString();
                    } catch (HavenException e) {
                        now = "(unknown: " + e.getMessage() + ")";
                    }
                    String expected = switch (change.prerequisite()) {
                        case Prerequisite.Exactly e -> "exactly " + String.join(", ", e.values());
                        case Prerequisite.Absent ab -> "no record";
                        case Prerequisite.None n -> "nothing";
                    };
                    throw fail(Failure.PREREQUISITE_FAILED, "the prerequisite failed (" + Rcode.string(rcode) + "): the step expected "
                            + expected + " but the server has " + now + "; someone else changed the record, so nothing was"
                            + " changed. Check the record and the step, then run it again");
                }
                case Rcode.SERVFAIL -> throw fail(Failure.SERVER_FAILURE, "the server answered SERVFAIL to the update: it may"
                        + " be unable to write the zone's journal; see the server's log. This may pass");
                case Rcode.NOTIMP -> throw fail(Failure.BAD_RESPONSE, "the server does not implement dynamic updates (NOTIMP)");
                default -> throw fail(Failure.BAD_RESPONSE, "the server answered " + Rcode.string(rcode) + " to the update");
            }
        }

        /** Refuses answers that report a TSIG error, are unsigned, or whose signature does not verify. */
        void checkSignature(Message a) {
            checkSignature(a, "");
        }

        void checkSignature(Message a, String uncertain) {
            TSIGRecord t = a.getTSIG();
            String key = "the TSIG key " + change.key().name() + " (" + change.key().algorithm() + ")";
            if (t != null && t.getError() != Rcode.NOERROR) {
                String why = switch (t.getError()) {
                    case Rcode.BADSIG -> "the signature did not verify: the secret or the algorithm differs from the server's;"
                            + " check the key against the server's key statement (docs/dns.md)";
                    case Rcode.BADKEY -> "the server has no key of this name and algorithm; check the key's name and algorithm"
                            + " against the server's key statement (docs/dns.md)";
                    case Rcode.BADTIME -> "the clocks differ: " + clocks(t);
                    default -> "check the key against the server's key statement (docs/dns.md)";
                };
                throw fail(Failure.TSIG_REJECTED, "the server rejected the signature by " + key + " with "
                        + Rcode.TSIGstring(t.getError()) + ", so nothing was changed: " + why);
            }
            if (t == null) {
                throw fail(Failure.BAD_RESPONSE, "the server's answer (" + Rcode.string(a.getRcode()) + ") is not signed with "
                        + key + "; the server may not support TSIG, or the answer is forged" + uncertain);
            }
            if (!a.isVerified()) {
                throw fail(Failure.BAD_RESPONSE, "the signature of the server's answer does not verify with " + key
                        + "; the answer may be forged" + uncertain);
            }
        }

        private String clocks(TSIGRecord t) {
            byte[] other = t.getOther();
            Instant ours = clock.instant();
            if (other != null && other.length == 6) {
                long s = 0;
                for (byte b : other) {
                    s = (s << 8) | (b & 0xff);
                }
                return "the server's time is " + Instant.ofEpochSecond(s) + ", this machine's " + ours.truncatedTo(ChronoUnit.SECONDS)
                        + ", more than the " + TSIG.FUDGE.getSeconds() + " s allowed; synchronise both clocks (NTP)";
            }
            return "this machine's time (" + ours + ") and the server's are more than " + TSIG.FUDGE.getSeconds()
                    + " s apart; synchronise both clocks (NTP)";
        }

        private static Message query(Name n, int type) {
            Message q = Message.newQuery(Record.newRecord(n, type, DClass.IN));
            q.getHeader().unsetFlag(Flags.RD);
            return q;
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().strip();
            if (sb.indexOf(m) < 0) {
                sb.append(sb.length() == 0 ? "" : ": ").append(m);
            }
        }
        return sb.toString();
    }
}
