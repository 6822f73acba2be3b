package io.haven.runbook;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * The syntax of what plans name on the network: IP literals, host names, DNS names, URLs. Only
 * the text is checked; nothing is resolved or contacted.
 */
final class Addresses {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    /** DNS owner names may hold underscores ({@code _acme-challenge}); host names may not. */
    private static final Pattern OWNER_LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");

    private Addresses() {}

    static boolean ipv4(String s) {
        return s != null && IPV4.matcher(s).matches();
    }

    /** An IPv6 literal without brackets or zone ({@code fd00::10}). Parsed by the JDK, never looked up. */
    static boolean ipv6(String s) {
        if (s == null || !s.contains(":") || s.contains("%") || s.contains("[") || !s.matches("[0-9A-Fa-f:.]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(s) instanceof Inet6Address;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    static boolean ip(String s) {
        return ipv4(s) || ipv6(s);
    }

    /** A host name (RFC 1123 labels, at most 253 characters, an optional final dot). */
    static boolean hostName(String s) {
        return dnsName(s, LABEL);
    }

    /** A DNS owner or zone name: like a host name but labels may hold underscores. */
    static boolean ownerName(String s) {
        return dnsName(s, OWNER_LABEL);
    }

    private static boolean dnsName(String s, Pattern label) {
        if (s == null || s.isEmpty() || s.length() > 254) {
            return false;
        }
        String n = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        if (n.isEmpty() || n.length() > 253 || ipv4LookAlike(n)) {
            return false;
        }
        for (String l : n.split("\\.", -1)) {
            if (!label.matcher(l).matches()) {
                return false;
            }
        }
        return true;
    }

    /** All-numeric dotted names ({@code 10.0.0.300}) are broken IPv4 addresses, not host names. */
    private static boolean ipv4LookAlike(String n) {
        return n.matches("[0-9.]+");
    }

    /** An IP literal or a host name. */
    static boolean host(String s) {
        return ip(s) || hostName(s);
    }

    /** Why {@code url} is not an absolute http(s) URL with a host, or null when it is one. */
    static String urlProblem(String url) {
        if (url == null || url.isBlank()) {
            return "is required";
        }
        String lower = url.toLowerCase(java.util.Locale.ROOT);
        if (!lower.startsWith("http://") && !lower.startsWith("https://")) {
            return "must be an http:// or https:// URL, not \"" + url + "\"";
        }
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            return "is not a URL: " + e.getMessage();
        }
        if (u.getScheme() == null || !(u.getScheme().equalsIgnoreCase("http") || u.getScheme().equalsIgnoreCase("https"))) {
            return "must be an http:// or https:// URL, not \"" + url + "\"";
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            return "needs a host: \"" + url + "\"";
        }
        if (u.getPort() > 65535) {
            return "has a port out of range 1..65535: \"" + url + "\"";
        }
        return null;
    }
}
