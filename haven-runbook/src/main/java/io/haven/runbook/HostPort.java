package io.haven.runbook;

/**
 * A host (IP literal or host name) and a TCP/UDP port. Text form {@code host:port}, with
 * brackets around IPv6 literals: {@code [fd00::53]:53}.
 */
public record HostPort(String host, int port) {
    public HostPort {
        Checks c = new Checks();
        if (c.present("host", host) && !Addresses.host(host)) {
            c.add("host", "must be an IP address or a host name, not \"" + host + "\"");
        }
        c.range("port", port, 1, 65535);
        c.done();
    }

    /**
     * Parses {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}.
     *
     * @param defaultPort used when the text has no port
     * @throws IllegalArgumentException with a message fit for a plan problem
     */
    public static HostPort parse(String text, int defaultPort) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("is required");
        }
        String host;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("has no closing ']': \"" + text + "\"");
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("must be host:port, not \"" + text + "\"");
                }
                port = rest.substring(1);
            }
            if (!Addresses.ipv6(host)) {
                throw new IllegalArgumentException("holds no IPv6 address in brackets: \"" + text + "\"");
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon >= 0 && text.indexOf(':') != colon) {
                throw new IllegalArgumentException("IPv6 addresses need brackets: [" + text + "]:53");
            }
            host = colon < 0 ? text : text.substring(0, colon);
            port = colon < 0 ? null : text.substring(colon + 1);
            if (!Addresses.host(host)) {
                throw new IllegalArgumentException("must be an IP address or a host name, not \"" + host + "\"");
            }
        }
        int p = defaultPort;
        if (port != null) {
            if (!port.matches("\\d{1,9}")) {
                throw new IllegalArgumentException("has a port that is not a number: \"" + text + "\"");
            }
            p = Integer.parseInt(port);
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException("port must be 1..65535, not " + p);
            }
        }
        return new HostPort(host, p);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
