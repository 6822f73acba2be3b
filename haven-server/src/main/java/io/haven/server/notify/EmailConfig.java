package io.haven.server.notify;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * E-mail through an SMTP server.
 *
 * @param host the SMTP server's name or address
 * @param port its port; null means 587 with STARTTLS, 25 without
 * @param starttls true to require STARTTLS (the server's certificate is checked against the
 *     JVM's trusted CAs and the host name); null means false
 * @param username null for no SMTP AUTH; given together with {@code password}
 * @param password the AUTH password; never shown by the API
 * @param from the sender address
 * @param to one to 50 recipient addresses
 */
public record EmailConfig(String host, Integer port, Boolean starttls, String username, String password, String from,
        List<String> to) implements ChannelConfig {
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:\\[\\]-]{1,253}");

    public EmailConfig {
        if (host == null || !HOST.matcher(host.strip()).matches()) {
            throw new HavenException(ErrorCode.USAGE, "an email channel needs 'host', the SMTP server's name or address"
                    + (host == null ? "" : ", not '" + host + "'"));
        }
        host = host.strip();
        starttls = starttls != null && starttls;
        if (port == null) {
            port = starttls ? 587 : 25;
        }
        if (port < 1 || port > 65535) {
            throw new HavenException(ErrorCode.USAGE, "the SMTP port must be from 1 to 65535, not " + port);
        }
        if (username != null && username.isEmpty()) {
            username = null;
        }
        if ((username == null) != (password == null)) {
            throw new HavenException(ErrorCode.USAGE, "SMTP AUTH needs both 'username' and 'password' (or neither)");
        }
        from = address("from", from);
        if (to == null || to.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "an email channel needs 'to', a list of at least one address");
        }
        if (to.size() > 50) {
            throw new HavenException(ErrorCode.USAGE, "an email channel sends to at most 50 addresses, not " + to.size());
        }
        to = to.stream().map(a -> address("to", a)).toList();
    }

    private static String address(String field, String a) {
        if (a == null || a.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "'" + field + "' needs an e-mail address such as haven@example.com");
        }
        String s = a.strip();
        try {
            InternetAddress ia = new InternetAddress(s, true);
            ia.validate();
            String addr = ia.getAddress();
            int at = addr.lastIndexOf('@');
            if (at < 1 || at == addr.length() - 1) {
                throw new AddressException("no domain");
            }
            return s;
        } catch (AddressException e) {
            throw new HavenException(ErrorCode.USAGE, "'" + field + "': '" + s + "' is not an e-mail address such as haven@example.com");
        }
    }

    @Override
    public String kindLabel() {
        return "email";
    }

    @Override
    public Map<String, Object> masked() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", host);
        m.put("port", port);
        m.put("starttls", starttls);
        m.put("username", username);
        m.put("password", password == null ? null : MASK);
        m.put("from", from);
        m.put("to", to);
        return m;
    }

    @Override
    public String toString() {
        return "EmailConfig[" + host + ":" + port + (starttls ? ", starttls" : "") + (username == null ? "" : ", user " + username)
                + ", to " + to + "]";
    }
}
