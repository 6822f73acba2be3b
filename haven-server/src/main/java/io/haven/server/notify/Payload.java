package io.haven.server.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** How an event is written for receivers: the webhook's JSON, its signature and the mail's text. Pure. */
final class Payload {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Payload() {}

    /** {@code {"event","severity","subject","details","at","server"}} in that order. */
    static byte[] json(Event e, String server) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", e.kind().label());
        m.put("severity", e.severity().label());
        m.put("subject", e.subject());
        m.put("details", e.details());
        m.put("at", e.time().toString());
        m.put("server", server);
        try {
            return JSON.writeValueAsBytes(m);
        } catch (JsonProcessingException x) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot encode the details of event '" + e.subject() + "' as JSON: "
                    + x.getOriginalMessage(), x);
        }
    }

    /** {@code sha256=} and the lower-case hex HMAC-SHA256 of the body under the secret (UTF-8). */
    static String signature(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException x) {
            throw new HavenException(ErrorCode.INTERNAL, "HMAC-SHA256 is not available in this JVM", x);
        }
    }

    /** {@code [Haven] SUBJECT}. */
    static String mailSubject(Event e) {
        return "[Haven] " + e.subject();
    }

    /** The plain-text mail body: the subject, the event's facts, then one line per detail. */
    static String mailText(Event e, String server) {
        StringBuilder sb = new StringBuilder();
        sb.append(e.subject()).append("\n\n");
        sb.append("event:    ").append(e.kind().label()).append('\n');
        sb.append("severity: ").append(e.severity().label()).append('\n');
        sb.append("at:       ").append(e.time()).append('\n');
        sb.append("server:   ").append(server).append('\n');
        if (!e.details().isEmpty()) {
            sb.append("\nDetails:\n");
            for (Map.Entry<String, Object> d : e.details().entrySet()) {
                sb.append("  ").append(d.getKey()).append(": ").append(text(d.getValue())).append('\n');
            }
        }
        sb.append("\n-- \nSent by Haven. Change notification channels with the API: /api/v1/notifications/channels\n");
        return sb.toString();
    }

    private static String text(Object v) {
        if (v == null || v instanceof CharSequence || v instanceof Number || v instanceof Boolean) {
            return String.valueOf(v).replace("\n", "\n    ");
        }
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException x) {
            return String.valueOf(v);
        }
    }
}
