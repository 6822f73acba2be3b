package io.haven.server.dns;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.Locale;
import java.util.regex.Pattern;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

/** Domain names as Haven accepts them: host-name labels (and {@code _} for service names), lower case, absolute. */
final class DnsNames {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?");

    private DnsNames() {
    }

    /**
     * {@code text} as an absolute lower-case name ending in a dot; the final dot is optional
     * in {@code text}.
     *
     * @param what names the field in the error message
     */
    static String absolute(String text, String what) {
        if (text == null || text.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, what + " needs a domain name such as app.example.com");
        }
        String s = text.strip().toLowerCase(Locale.ROOT);
        String body = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        if (body.isEmpty() || body.length() > 253) {
            throw new HavenException(ErrorCode.USAGE, what + ": '" + text.strip() + "' is not a domain name such as app.example.com");
        }
        for (String label : body.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                throw new HavenException(ErrorCode.USAGE, what + ": '" + text.strip() + "' is not a domain name such as app.example.com"
                        + " (labels are 1 to 63 letters, digits, '-' or '_', not starting or ending with '-')");
            }
        }
        return body + ".";
    }

    /** dnsjava's form of a name this class produced. */
    static Name name(String absolute) {
        try {
            return Name.fromString(absolute);
        } catch (TextParseException e) {
            throw new HavenException(ErrorCode.INTERNAL, "'" + absolute + "' was accepted as a domain name but dnsjava refuses it", e);
        }
    }

    /** True when {@code name} is {@code zone} or below it (both absolute, lower case). */
    static boolean within(String name, String zone) {
        return name.equals(zone) || zone.equals(".") || name.endsWith("." + zone);
    }
}
