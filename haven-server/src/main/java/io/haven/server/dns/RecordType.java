package io.haven.server.dns;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.Locale;
import org.xbill.DNS.Address;
import org.xbill.DNS.Type;

/**
 * The record types a runbook may change, and the canonical text of their values: a dotted quad
 * for {@code A}, the RFC 5952 form for {@code AAAA} (lower case, longest run of zero groups
 * as {@code ::}), an absolute lower-case name with its final dot for {@code CNAME}. Values are
 * compared in this form, both the ones asked for and the ones a server answers with.
 */
public enum RecordType {
    /** An IPv4 address. */
    A(Type.A),
    /** An IPv6 address. */
    AAAA(Type.AAAA),
    /** An alias to another name; an RRset of one record. */
    CNAME(Type.CNAME);

    private final int code;

    RecordType(int code) {
        this.code = code;
    }

    /** The type's number on the wire (dnsjava's {@link Type}). */
    int code() {
        return code;
    }

    /** The type named by {@code text}, case-insensitive. */
    public static RecordType parse(String text) {
        if (text != null) {
            for (RecordType t : values()) {
                if (t.name().equalsIgnoreCase(text.strip())) {
                    return t;
                }
            }
        }
        throw new HavenException(ErrorCode.USAGE, "a DNS record type must be A, AAAA or CNAME, not '" + text + "'");
    }

    /**
     * The canonical text of {@code value} for this type.
     *
     * @throws HavenException code USAGE when the value is not an IPv4 address (A), an IPv6
     *     address (AAAA) or a domain name (CNAME)
     */
    public String canonical(String value) {
        if (value == null || value.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "a " + this + " record needs a value");
        }
        String v = value.strip();
        return switch (this) {
            case A -> {
                byte[] b = Address.isDottedQuad(v) ? Address.toByteArray(v, Address.IPv4) : null;
                if (b == null) {
                    throw new HavenException(ErrorCode.USAGE, "'" + v + "' is not an IPv4 address such as 192.0.2.10 (an A record's value)");
                }
                yield Address.toDottedQuad(b);
            }
            case AAAA -> {
                byte[] b = v.indexOf(':') < 0 ? null : Address.toByteArray(v, Address.IPv6);
                if (b == null) {
                    throw new HavenException(ErrorCode.USAGE, "'" + v + "' is not an IPv6 address such as 2001:db8::10 (an AAAA record's value)");
                }
                yield ipv6(b);
            }
            case CNAME -> DnsNames.absolute(v, "a CNAME record's target");
        };
    }

    /** RFC 5952 text of 16 address bytes. */
    static String ipv6(byte[] b) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]).toLowerCase(Locale.ROOT));
        }
        return sb.toString();
    }
}
