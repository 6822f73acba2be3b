package io.haven.server.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.auth.Role;
import io.haven.server.http.Call;
import io.haven.server.http.Reply;
import io.haven.server.http.Route;
import java.io.IOException;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The notification API: channels (list, create, delete), a test send and the delivery record.
 * Operators and admins read; admins change and test. Secrets and passwords never leave the
 * server ({@link ChannelConfig#masked()}).
 */
public final class NotificationEndpoints {
    /** {@code POST /api/v1/notifications/channels} body. */
    public record CreateChannelRequest(String name, String kind, JsonNode config, List<String> events, Boolean enabled) {}

    /** Body of the calls that name one channel. */
    public record NameRequest(String name) {}

    private final Notifier notifier;
    private final ObjectMapper json;

    public NotificationEndpoints(Notifier notifier, ObjectMapper json) {
        this.notifier = notifier;
        this.json = json;
    }

    public List<Route> routes() {
        return List.of(
                new Route("GET", "/api/v1/notifications/channels", Role.OPERATOR, this::list),
                new Route("POST", "/api/v1/notifications/channels", Role.ADMIN, this::create),
                new Route("POST", "/api/v1/notifications/channels/delete", Role.ADMIN, this::delete),
                new Route("POST", "/api/v1/notifications/test", Role.ADMIN, this::test),
                new Route("GET", "/api/v1/notifications/deliveries", Role.OPERATOR, this::deliveries));
    }

    private Reply list(Call c) throws IOException {
        return reply(200, Map.of("channels", notifier.channels().list().stream().map(NotificationEndpoints::channel).toList()));
    }

    private Reply create(Call c) throws IOException {
        CreateChannelRequest r = read(c, CreateChannelRequest.class);
        c.auditTarget("notification-channel:" + r.name());
        Channel.checkName(r.name());
        ChannelConfig config = ChannelConfig.read(r.kind(), r.config(), json);
        Set<Event.Kind> events = EnumSet.noneOf(Event.Kind.class);
        if (r.events() != null) {
            r.events().forEach(e -> events.add(Event.Kind.parse(e)));
        }
        Channel ch = notifier.channels().create(r.name(), config, events, r.enabled() == null || r.enabled());
        return reply(201, channel(ch));
    }

    private Reply delete(Call c) throws IOException {
        NameRequest r = read(c, NameRequest.class);
        c.auditTarget("notification-channel:" + r.name());
        if (r.name() == null || !notifier.channels().delete(r.name())) {
            throw new HavenException(ErrorCode.NOT_FOUND, "no notification channel named '" + r.name() + "'");
        }
        return reply(200, Map.of("deleted", r.name()));
    }

    private Reply test(Call c) throws IOException {
        NameRequest r = read(c, NameRequest.class);
        c.auditTarget("notification-channel:" + r.name());
        if (r.name() == null) {
            throw new HavenException(ErrorCode.USAGE, "name the channel to test: {\"name\":\"…\"}");
        }
        Delivery d = notifier.test(r.name(), Map.of("requestedBy", c.principal().user().username()));
        return reply(200, delivery(d));
    }

    private Reply deliveries(Call c) throws IOException {
        int limit = 100;
        String l = c.query("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > 10_000) {
                throw new HavenException(ErrorCode.USAGE, "limit must be a number from 1 to 10000, not '" + l + "'");
            }
        }
        return reply(200, Map.of("deliveries", notifier.deliveries().latest(limit).stream().map(NotificationEndpoints::delivery).toList()));
    }

    static Map<String, Object> channel(Channel ch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", ch.id());
        m.put("name", ch.name());
        m.put("kind", ch.config().kindLabel());
        m.put("events", ch.events().stream().sorted().map(Event.Kind::label).toList());
        m.put("enabled", ch.enabled());
        m.put("createdAt", ch.createdAt().toString());
        m.put("config", ch.config().masked());
        return m;
    }

    static Map<String, Object> delivery(Delivery d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.id());
        m.put("channel", d.channel());
        m.put("event", d.event().label());
        m.put("subject", d.subject());
        m.put("at", d.at().toString());
        m.put("status", d.status().label());
        m.put("attempts", d.attempts());
        m.put("error", d.error());
        return m;
    }

    private <T> T read(Call c, Class<T> type) throws IOException {
        if (c.body().length == 0) {
            throw new HavenException(ErrorCode.USAGE, c.method() + " " + c.path() + " needs a JSON body");
        }
        return json.readValue(c.body(), type);
    }

    private Reply reply(int status, Object body) throws IOException {
        return new Reply(status, "application/json", json.writeValueAsBytes(body));
    }
}
