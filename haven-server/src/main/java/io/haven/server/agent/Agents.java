package io.haven.server.agent;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Codec;
import io.haven.protocol.Messages;
import io.haven.server.db.Columns;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The agents table: enrolled agents, their certificates' serial numbers, state, facts and last
 * contact. An agent is <em>online</em> when it was heard from within {@link #offlineAfter()}.
 * Thread-safe; every method is one short transaction.
 */
public final class Agents {
    /** An agent's lifecycle state. */
    public enum State {
        ACTIVE, DISABLED, REVOKED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static State parse(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** One agent as stored. */
    public record Agent(long id, String name, Long siteId, String site, Map<String, String> labels, State state,
            String certSerial, Instant certExpiresAt, Instant enrolledAt, Instant lastSeenAt, String instance, String version,
            Messages.HostFacts facts, int maxTasks, boolean offlineNotified) {
        /** Heard from within {@code offlineAfter}, and its process did not say goodbye since (a clean stop clears the instance). */
        public boolean online(Instant now, Duration offlineAfter) {
            return lastSeenAt != null && instance != null && lastSeenAt.isAfter(now.minus(offlineAfter));
        }
    }

    private static final String SELECT = "SELECT a.*, s.name AS site_name FROM agents a LEFT JOIN sites s ON s.id = a.site_id ";

    private final Jdbi jdbi;
    private final InstantSource clock;
    private final Duration offlineAfter;
    private final ObjectMapper json = Codec.mapper();

    public Agents(Jdbi jdbi, InstantSource clock, Duration offlineAfter) {
        this.jdbi = jdbi;
        this.clock = clock;
        this.offlineAfter = offlineAfter;
    }

    public Duration offlineAfter() {
        return offlineAfter;
    }

    public InstantSource clock() {
        return clock;
    }

    /** Inserts an agent (inside the enrolment's transaction). CONFLICT when the name is taken. */
    long insert(Handle h, String name, Long siteId, Map<String, String> labels, String serial, Instant expires,
            Messages.HostFacts facts) {
        if (h.createQuery("SELECT COUNT(*) FROM agents WHERE name = :n").bind("n", name).mapTo(Long.class).one() > 0) {
            throw new HavenException(ErrorCode.CONFLICT, "an agent named '" + name + "' is enrolled already; "
                    + "revoke it first (haven agent revoke " + name + ") or enrol with another --name");
        }
        return h.createUpdate("INSERT INTO agents (name, site_id, labels, state, cert_serial, cert_expires_at, enrolled_at, facts) "
                        + "VALUES (:n, :s, :l, 'active', :serial, :exp, :now, :f)")
                .bind("n", name).bind("s", siteId).bind("l", write(labels)).bind("serial", serial)
                .bind("exp", expires.toEpochMilli()).bind("now", clock.millis()).bind("f", facts == null ? null : write(facts))
                .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
    }

    public Optional<Agent> bySerial(String serial) {
        return jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE a.cert_serial = :s").bind("s", serial).map((rs, c) -> row(rs)).findOne());
    }

    /** Who holds a client certificate: what every agent request needs, without its facts and labels. */
    public record Holder(long id, String name, State state) {}

    /**
     * The agent holding the certificate with this serial number (one light query per agent
     * request): its current certificate, or the one it had before its last renewal until it first
     * uses the new one. The first use of a renewed certificate retires the previous one.
     */
    public Optional<Holder> holderOf(String serial) {
        record Row(Holder holder, boolean current, boolean hasPrevious) {}
        Optional<Row> row = jdbi.withHandle(h -> h.createQuery("SELECT id, name, state, cert_serial, prev_cert_serial FROM agents "
                        + "WHERE cert_serial = :s OR prev_cert_serial = :s").bind("s", serial)
                .map((rs, c) -> new Row(new Holder(rs.getLong("id"), rs.getString("name"), State.parse(rs.getString("state"))),
                        serial.equals(rs.getString("cert_serial")), rs.getString("prev_cert_serial") != null)).findOne());
        row.filter(r -> r.current() && r.hasPrevious()).ifPresent(r -> jdbi.useHandle(h -> h.createUpdate(
                "UPDATE agents SET prev_cert_serial = NULL WHERE id = :id AND cert_serial = :s").bind("id", r.holder().id())
                .bind("s", serial).execute()));
        return row.map(Row::holder);
    }

    /** Records a renewed certificate; the one presented for the renewal stays valid until the new one is used. */
    void renewed(long id, String presentedSerial, String newSerial, Instant expires) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE agents SET prev_cert_serial = :old, cert_serial = :new, cert_expires_at = :exp "
                + "WHERE id = :id").bind("old", presentedSerial).bind("new", newSerial).bind("exp", expires.toEpochMilli())
                .bind("id", id).execute());
    }

    public Optional<Agent> find(long id) {
        return jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE a.id = :id").bind("id", id).map((rs, c) -> row(rs)).findOne());
    }

    /** By id (all digits) or name; NOT_FOUND otherwise. */
    public Agent get(String idOrName) {
        Optional<Agent> a = jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE a.name = :n").bind("n", idOrName)
                .map((rs, c) -> row(rs)).findOne());
        if (a.isEmpty() && idOrName.matches("\\d{1,18}")) {
            a = find(Long.parseLong(idOrName));
        }
        return a.orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no agent named '" + idOrName + "'"));
    }

    public List<Agent> list() {
        return list(null, Integer.MAX_VALUE);
    }

    /** At most {@code limit} agents by name, those after {@code after} (a name) when it is given. */
    public List<Agent> list(String after, int limit) {
        return jdbi.withHandle(h -> h.createQuery(SELECT + (after == null ? "" : "WHERE a.name > :after ") + "ORDER BY a.name LIMIT :n")
                .bind("after", after).bind("n", limit).map((rs, c) -> row(rs)).list());
    }

    /** Records a heartbeat (one UPDATE). */
    public void heartbeat(long id, Messages.Heartbeat hb) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE agents SET last_seen_at = :now, instance = :i, version = :v, facts = COALESCE(:f, facts), "
                        + "max_tasks = :m, offline_notified = FALSE WHERE id = :id")
                .bind("now", clock.millis()).bind("i", Columns.fit("the agent instance", hb.instance(), 64))
                        .bind("v", Columns.fit("the agent version", hb.version(), 32))
                .bind("f", hb.facts() == null ? null : write(hb.facts())).bind("m", Math.max(1, Math.min(64, hb.maxTasks())))
                .bind("id", id).execute());
    }

    /**
     * Marks the agent as heard from now by its process {@code instance} (each task poll does): that
     * process is the live one, so task polls of an earlier process take no more work.
     */
    public void seen(long id, String instance) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE agents SET last_seen_at = :now, instance = :i, offline_notified = FALSE WHERE id = :id")
                .bind("now", clock.millis()).bind("i", Columns.fit("the agent instance", instance, 64)).bind("id", id).execute());
    }

    /**
     * The agent's process {@code instance} is stopping: its task polls still waiting on a server
     * (whose client is gone) must not start jobs. False when another instance took over already.
     */
    public boolean bye(long id, String instance) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE agents SET instance = NULL WHERE id = :id AND instance = :i")
                .bind("id", id).bind("i", instance).execute()) == 1;
    }

    public void setState(long id, State state) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE agents SET state = :s WHERE id = :id").bind("s", state.label()).bind("id", id).execute());
    }

    public void setSite(long id, Long siteId) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE agents SET site_id = :s WHERE id = :id").bind("s", siteId).bind("id", id).execute());
    }

    public void setLabels(long id, Map<String, String> labels) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE agents SET labels = :l WHERE id = :id").bind("l", write(labels)).bind("id", id).execute());
    }

    /**
     * Agents that went offline and were not yet reported, marked reported in the same step (so
     * one of several servers reports each once).
     */
    public List<Agent> takeNewlyOffline() {
        long cutoff = clock.millis() - offlineAfter.toMillis();
        List<Agent> gone = jdbi.withHandle(h -> h.createQuery(SELECT + "WHERE a.state = 'active' AND a.offline_notified = FALSE "
                + "AND a.last_seen_at IS NOT NULL AND a.last_seen_at < :c").bind("c", cutoff).map((rs, c) -> row(rs)).list());
        return gone.stream().filter(a -> jdbi.withHandle(h -> h.createUpdate(
                "UPDATE agents SET offline_notified = TRUE WHERE id = :id AND offline_notified = FALSE AND last_seen_at < :c")
                .bind("id", a.id()).bind("c", cutoff).execute()) == 1).toList();
    }

    Agent row(ResultSet rs) throws SQLException {
        long site = rs.getLong("site_id");
        Long siteId = rs.wasNull() ? null : site;
        long seen = rs.getLong("last_seen_at");
        Instant lastSeen = rs.wasNull() ? null : Instant.ofEpochMilli(seen);
        long id = rs.getLong("id");
        return new Agent(id, rs.getString("name"), siteId, rs.getString("site_name"), labels(rs.getString("labels")),
                State.parse(rs.getString("state")), rs.getString("cert_serial"), Instant.ofEpochMilli(rs.getLong("cert_expires_at")),
                Instant.ofEpochMilli(rs.getLong("enrolled_at")), lastSeen, rs.getString("instance"), rs.getString("version"),
                facts(id, rs.getString("facts")), rs.getInt("max_tasks"), rs.getBoolean("offline_notified"));
    }

    /** Stored facts and what they decode to, per agent: a listing of a thousand agents decodes only what changed. */
    private record DecodedFacts(String json, Messages.HostFacts facts) {}

    private final Map<Long, DecodedFacts> decodedFacts = new java.util.concurrent.ConcurrentHashMap<>();

    private Messages.HostFacts facts(long id, String json) {
        if (json == null) {
            return null;
        }
        DecodedFacts d = decodedFacts.get(id);
        if (d == null || !d.json().equals(json)) {
            d = new DecodedFacts(json, Codec.read(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), Messages.HostFacts.class));
            decodedFacts.put(id, d);
        }
        return d.facts();
    }

    Map<String, String> labels(String text) {
        if (text == null || text.isEmpty()) {
            return Map.of();
        }
        try {
            return json.readValue(text, new TypeReference<Map<String, String>>() {});
        } catch (java.io.IOException e) {
            throw new HavenException(ErrorCode.CORRUPT, "stored labels are not JSON: " + e.getMessage(), e);
        }
    }

    String write(Object o) {
        return new String(Codec.write(o == null ? Map.of() : o), java.nio.charset.StandardCharsets.UTF_8);
    }
}
