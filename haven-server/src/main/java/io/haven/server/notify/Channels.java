package io.haven.server.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/**
 * The {@code notification_channels} table. Thread-safe; every call is one short transaction.
 * Database failures surface as JDBI's unchecked exceptions.
 */
public final class Channels {
    private static final String COLUMNS = "id, name, kind, config, events, enabled, created_at";
    private final Jdbi jdbi;
    private final InstantSource clock;
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public Channels(Jdbi jdbi, InstantSource clock) {
        this.jdbi = jdbi;
        this.clock = clock;
    }

    /**
     * Stores a new channel.
     *
     * @throws HavenException USAGE for a bad name, CONFLICT when the name is taken
     */
    public Channel create(String name, ChannelConfig config, Set<Event.Kind> events, boolean enabled) {
        Channel.checkName(name);
        String configJson;
        try {
            configJson = json.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot encode the settings of channel '" + name + "'", e);
        }
        if (configJson.length() > 8000) {
            throw new HavenException(ErrorCode.USAGE, "the settings of channel '" + name + "' are too long");
        }
        String filter = events.stream().sorted().map(Event.Kind::label).collect(Collectors.joining(","));
        long now = clock.millis();
        try {
            long id = jdbi.withHandle(h -> {
                if (h.createQuery("SELECT COUNT(*) FROM notification_channels WHERE name = :n").bind("n", name)
                        .mapTo(Long.class).one() > 0) {
                    throw conflict(name, null);
                }
                return h.createUpdate("INSERT INTO notification_channels (name, kind, config, events, enabled, created_at) "
                                + "VALUES (:n, :k, :c, :e, :on, :t)")
                        .bind("n", name).bind("k", config.kindLabel()).bind("c", configJson).bind("e", filter)
                        .bind("on", enabled).bind("t", now)
                        .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
            });
            return new Channel(id, name, config, events, enabled, Instant.ofEpochMilli(now));
        } catch (UnableToExecuteStatementException e) {
            // a concurrent insert of the same name lost the race on the unique index
            if (find(name).isPresent()) {
                throw conflict(name, e);
            }
            throw e;
        }
    }

    private static HavenException conflict(String name, Exception cause) {
        return new HavenException(ErrorCode.CONFLICT, "a notification channel named '" + name
                + "' exists already; delete it first to replace it", cause);
    }

    /** Every channel, oldest first. */
    public List<Channel> list() {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM notification_channels ORDER BY id")
                .map((rs, ctx) -> row(rs)).list());
    }

    public Optional<Channel> find(String name) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM notification_channels WHERE name = :n")
                .bind("n", name).map((rs, ctx) -> row(rs)).findOne());
    }

    /** Deletes a channel; its deliveries stay. Returns whether there was one. */
    public boolean delete(String name) {
        return jdbi.withHandle(h -> h.createUpdate("DELETE FROM notification_channels WHERE name = :n").bind("n", name).execute()) > 0;
    }

    private Channel row(ResultSet rs) throws SQLException {
        String name = rs.getString("name");
        String kind = rs.getString("kind");
        ChannelConfig config;
        try {
            config = ChannelConfig.read(kind, json.readTree(rs.getString("config")), json);
        } catch (java.io.IOException | HavenException e) {
            throw new HavenException(ErrorCode.CORRUPT, "the stored settings of notification channel '" + name
                    + "' cannot be read (" + e.getMessage() + "); delete the channel and create it again", e);
        }
        String filter = rs.getString("events");
        Set<Event.Kind> events = EnumSet.noneOf(Event.Kind.class);
        if (filter != null && !filter.isEmpty()) {
            Arrays.stream(filter.split(",")).map(Event.Kind::parse).forEach(events::add);
        }
        return new Channel(rs.getLong("id"), name, config, events, rs.getBoolean("enabled"),
                Instant.ofEpochMilli(rs.getLong("created_at")));
    }
}
