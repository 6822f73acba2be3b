package io.haven.server.audit;

import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.jdbi.v3.core.Jdbi;

/**
 * The append-only {@code audit} table: one row per mutating call (who, what, on what, from
 * where, with what outcome). Nothing in the server updates or deletes rows. Thread-safe.
 */
public final class AuditLog {
    /** One audit row. {@code actor} is null when the caller was not identified. */
    public record Entry(long id, Instant at, String actor, String action, String target, String address, int status) {}

    private final Jdbi jdbi;
    private final InstantSource clock;

    public AuditLog(Jdbi jdbi, InstantSource clock) {
        this.jdbi = jdbi;
        this.clock = clock;
    }

    public void record(String actor, String action, String target, String address, int status) {
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO audit (occurred_at, actor, action, target, address, status) "
                        + "VALUES (:t, :actor, :action, :target, :address, :status)")
                .bind("t", clock.millis()).bind("actor", cut(actor, 64)).bind("action", cut(action, 128))
                .bind("target", cut(target, 256)).bind("address", cut(address, 64)).bind("status", status).execute());
    }

    /** The newest {@code limit} entries, newest first. */
    public List<Entry> latest(int limit) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, occurred_at, actor, action, target, address, status FROM audit "
                        + "ORDER BY id DESC LIMIT :n")
                .bind("n", limit)
                .map((rs, ctx) -> new Entry(rs.getLong("id"), Instant.ofEpochMilli(rs.getLong("occurred_at")),
                        rs.getString("actor"), rs.getString("action"), rs.getString("target"), rs.getString("address"),
                        rs.getInt("status")))
                .list());
    }

    private static String cut(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
