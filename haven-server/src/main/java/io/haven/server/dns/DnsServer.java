package io.haven.server.dns;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.regex.Pattern;

/**
 * A DNS server that is authoritative (primary) for the zone to change.
 *
 * @param host its name or address (a name is resolved by the JVM at each update)
 * @param port its port; null means 53
 */
public record DnsServer(String host, Integer port) {
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:-]{1,253}");

    public DnsServer {
        if (host == null || !HOST.matcher(host.strip()).matches()) {
            throw new HavenException(ErrorCode.USAGE, "a DNS server needs 'host', its name or address"
                    + (host == null ? "" : ", not '" + host + "'"));
        }
        host = host.strip();
        if (port == null) {
            port = 53;
        }
        if (port < 1 || port > 65535) {
            throw new HavenException(ErrorCode.USAGE, "a DNS server's port must be from 1 to 65535, not " + port);
        }
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
