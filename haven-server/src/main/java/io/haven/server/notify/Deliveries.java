package io.haven.server.notify;

import java.time.Instant;
import java.util.List;
import org.jdbi.v3.core.Jdbi;

/**
 * The {@code notification_deliveries} table: one row per event and channel, written when the
 * last attempt ends. Rows are never updated. Thread-safe; database failures surface as JDBI's
 * unchecked exceptions.
 */
public final class Deliveries {
    static final int MAX_ERROR = 1000;
    private final Jdbi jdbi;

    public Deliveries(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** Records an outcome and returns it with its id. */
    public Delivery record(Channel channel, Event event, Instant at, Delivery.Status status, int attempts, String error) {
        String err = error == null || error.length() <= MAX_ERROR ? error : error.substring(0, MAX_ERROR - 1) + "…";
        long id = jdbi.withHandle(h -> h.createUpdate("INSERT INTO notification_deliveries "
                        + "(channel_id, channel_name, event_kind, subject, occurred_at, status, attempts, error) "
                        + "VALUES (:c, :n, :k, :s, :t, :st, :a, :e)")
                .bind("c", channel.id()).bind("n", channel.name()).bind("k", event.kind().label()).bind("s", event.subject())
                .bind("t", at.toEpochMilli()).bind("st", status.label()).bind("a", attempts).bind("e", err)
                .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one());
        return new Delivery(id, channel.id(), channel.name(), event.kind(), event.subject(), Instant.ofEpochMilli(at.toEpochMilli()),
                status, attempts, err);
    }

    /** The newest {@code limit} deliveries, newest first. */
    public List<Delivery> latest(int limit) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, channel_id, channel_name, event_kind, subject, occurred_at, status, "
                        + "attempts, error FROM notification_deliveries ORDER BY id DESC LIMIT :n")
                .bind("n", limit)
                .map((rs, ctx) -> {
                    long channelId = rs.getLong("channel_id");
                    return new Delivery(rs.getLong("id"), rs.wasNull() ? null : channelId, rs.getString("channel_name"),
                            Event.Kind.parse(rs.getString("event_kind")), rs.getString("subject"),
                            Instant.ofEpochMilli(rs.getLong("occurred_at")),
                            Delivery.Status.valueOf(rs.getString("status").toUpperCase(java.util.Locale.ROOT)),
                            rs.getInt("attempts"), rs.getString("error"));
                })
                .list());
    }
}
