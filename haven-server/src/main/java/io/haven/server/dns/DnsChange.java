package io.haven.server.dns;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One change of one RRset: "make {@code name}'s {@code type} records exactly {@code values},
 * with {@code ttl}", sent to {@code server} as one RFC 2136 UPDATE signed with {@code key}.
 *
 * <p>Names: {@code zone} is absolute (the final dot is optional). {@code name} is {@code @}
 * (or empty) for the zone's apex; absolute when it ends with a dot; absolute as well when it
 * is the zone or ends with {@code .ZONE}, since nobody means {@code app.example.com.example.com.};
 * otherwise relative to the zone. After construction {@code zone}, {@code name} and every value
 * are in canonical form ({@link RecordType#canonical}): absolute, lower case.
 *
 * @param server the zone's primary server
 * @param zone the zone that holds the record, as the server's {@code zone} statement names it
 * @param name the record's owner name, at or below the zone
 * @param type A, AAAA or CNAME
 * @param ttl the records' TTL, whole seconds from 0 to 2<sup>31</sup>−1
 * @param values the new values, without duplicates (order kept); empty removes the RRset; a
 *     CNAME has at most one
 * @param key the TSIG key that signs every message
 * @param prerequisite what must hold before the change; null means {@link Prerequisite.None}
 * @param timeout how long the whole update (its four exchanges) may take; null means 10 s
 */
public record DnsChange(DnsServer server, String zone, String name, RecordType type, Duration ttl, List<String> values,
        TsigKey key, Prerequisite prerequisite, Duration timeout) {
    /** The timeout when none is given. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MAX_TIMEOUT = Duration.ofMinutes(5);

    public DnsChange {
        if (server == null) {
            throw new HavenException(ErrorCode.USAGE, "a DNS change needs the server to send it to");
        }
        zone = DnsNames.absolute(zone, "the DNS zone");
        name = owner(name, zone);
        if (type == null) {
            throw new HavenException(ErrorCode.USAGE, "a DNS change needs a record type (A, AAAA or CNAME)");
        }
        if (ttl == null || ttl.isNegative() || ttl.getNano() != 0 || ttl.getSeconds() > Integer.MAX_VALUE) {
            throw new HavenException(ErrorCode.USAGE, "a DNS record's TTL must be whole seconds from 0 to " + Integer.MAX_VALUE
                    + (ttl == null ? "" : ", not " + ttl));
        }
        values = canonical(type, values, name + " " + type);
        if (type == RecordType.CNAME) {
            if (values.size() > 1) {
                throw new HavenException(ErrorCode.USAGE, "a CNAME record has one target, not " + values.size() + " (" + name + ")");
            }
            if (name.equals(zone) && !values.isEmpty()) {
                throw new HavenException(ErrorCode.USAGE, "a CNAME cannot be at the zone's apex " + zone
                        + " (it would sit beside the SOA and NS records); use A/AAAA records there");
            }
            if (values.contains(name)) {
                throw new HavenException(ErrorCode.USAGE, "a CNAME cannot point to itself (" + name + ")");
            }
        }
        if (key == null) {
            throw new HavenException(ErrorCode.USAGE, "a DNS change needs a TSIG key: Haven sends only signed updates");
        }
        if (prerequisite == null) {
            prerequisite = new Prerequisite.None();
        } else if (prerequisite instanceof Prerequisite.Exactly e) {
            prerequisite = new Prerequisite.Exactly(canonical(type, e.values(), "the prerequisite of " + name + " " + type));
        }
        if (timeout == null) {
            timeout = DEFAULT_TIMEOUT;
        }
        if (timeout.compareTo(Duration.ofMillis(1)) < 0 || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new HavenException(ErrorCode.USAGE, "a DNS update's timeout must be from 1 ms to 5 minutes, not " + timeout);
        }
    }

    /** The same change with another prerequisite. */
    public DnsChange withPrerequisite(Prerequisite p) {
        return new DnsChange(server, zone, name, type, ttl, values, key, p, timeout);
    }

    /** The same change with other values and TTL (and no prerequisite). */
    public DnsChange withValues(List<String> newValues, Duration newTtl) {
        return new DnsChange(server, zone, name, type, newTtl, newValues, key, null, timeout);
    }

    private static String owner(String name, String zone) {
        if (name == null) {
            throw new HavenException(ErrorCode.USAGE, "a DNS change needs the record's name ('@' for the zone's apex)");
        }
        String n = name.strip();
        String bare = zone.substring(0, zone.length() - 1);
        String abs;
        if (n.isEmpty() || n.equals("@")) {
            abs = zone;
        } else if (n.endsWith(".") || n.equalsIgnoreCase(bare) || n.toLowerCase(java.util.Locale.ROOT).endsWith("." + bare)) {
            abs = DnsNames.absolute(n, "the record's name");
        } else {
            abs = DnsNames.absolute(n + "." + zone, "the record's name");
        }
        if (!DnsNames.within(abs, zone)) {
            throw new HavenException(ErrorCode.USAGE, "the record " + abs + " is not in the zone " + zone
                    + ": give a name relative to the zone, or an absolute name that ends in ." + zone);
        }
        return abs;
    }

    private static List<String> canonical(RecordType type, List<String> values, String what) {
        if (values == null) {
            throw new HavenException(ErrorCode.USAGE, what + " needs a list of values (empty to remove the records)");
        }
        Set<String> out = new LinkedHashSet<>();
        for (String v : values) {
            if (!out.add(type.canonical(v))) {
                throw new HavenException(ErrorCode.USAGE, what + ": the value " + type.canonical(v) + " is given twice");
            }
        }
        return List.copyOf(new ArrayList<>(out));
    }

    @Override
    public String toString() {
        return "DnsChange[" + name + " " + type + " " + values + " ttl " + ttl.getSeconds() + "s in " + zone + " at " + server
                + " with key " + key.name() + ", " + prerequisite + "]";
    }
}
