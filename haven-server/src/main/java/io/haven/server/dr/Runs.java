package io.haven.server.dr;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.runbook.run.RunCodec;
import io.haven.runbook.run.RunState;
import io.haven.server.db.Columns;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Stored runs ({@code dr_runs}): the {@link RunState} as JSON with a revision, the report once
 * published, and the lease of the server that carries the run's commands out. Every write is
 * one conditional statement, so of several servers applying events to one run, exactly one wins
 * each revision (the loser reads the run again and retries).
 */
public final class Runs {
    /** A stored run. */
    public record Stored(RunState state, long revision, String report, String createdBy, Instant updatedAt, String leaseOwner) {}

    /** One run in a listing, without its state. */
    public record Listed(String id, String plan, int planVersion, String kind, String phase, boolean ended, String createdBy,
            Instant createdAt, Instant updatedAt) {}

    private final Jdbi jdbi;
    private final InstantSource clock;

    public Runs(Jdbi jdbi, InstantSource clock) {
        this.jdbi = jdbi;
        this.clock = clock;
    }

    /** Stores a new run, leased to {@code owner}. */
    public void insert(RunState s, String by, String owner, Duration lease) {
        long now = clock.millis();
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO dr_runs (id, plan_name, plan_version, kind, phase, ended, state, revision, "
                        + "created_by, created_at, updated_at, lease_owner, lease_until) VALUES (:id, :p, :v, :k, :ph, :e, :s, 1, :by, :now, "
                        + ":now, :o, :lu)")
                .bind("id", s.runId()).bind("p", s.plan().name()).bind("v", s.plan().version()).bind("k", s.kind().name())
                .bind("ph", s.phase().name()).bind("e", s.ended()).bind("s", RunCodec.writeState(s)).bind("by", by).bind("now", now)
                .bind("o", owner).bind("lu", now + lease.toMillis()).execute());
    }

    public Optional<Stored> find(String id) {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM dr_runs WHERE id = :id").bind("id", id)
                .map((rs, c) -> new Stored(RunCodec.readState(rs.getString("state")), rs.getLong("revision"), rs.getString("report"),
                        rs.getString("created_by"), Instant.ofEpochMilli(rs.getLong("updated_at")), rs.getString("lease_owner")))
                .findOne());
    }

    public Stored get(String id) {
        return find(id).orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no run '" + id + "'"));
    }

    /**
     * Writes the next state if the run is still at {@code revision}. False when another writer
     * came first. The lease stays where it is: its holder carries out the new commands.
     */
    public boolean save(RunState s, long revision) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE dr_runs SET phase = :ph, ended = :e, state = :s, revision = :next, "
                        + "updated_at = :now WHERE id = :id AND revision = :rev")
                .bind("ph", s.phase().name()).bind("e", s.ended()).bind("s", RunCodec.writeState(s)).bind("next", revision + 1)
                .bind("now", clock.millis()).bind("id", s.runId()).bind("rev", revision).execute()) == 1;
    }

    /** The ids of the runs not ended that {@code owner} holds. */
    public List<String> owned(String owner) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id FROM dr_runs WHERE lease_owner = :o AND ended = FALSE ORDER BY seq")
                .bind("o", owner).mapTo(String.class).list());
    }

    /** Removes a run that never started (its start was refused). */
    public void delete(String id) {
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM dr_runs WHERE id = :id").bind("id", id).execute());
    }

    /** The site {@code plan} is served from, when a committed run moved it; empty: its protected site. */
    public Optional<String> activeSite(String plan) {
        return jdbi.withHandle(h -> h.createQuery("SELECT active_site FROM dr_plan_state WHERE plan_name = :p").bind("p", plan)
                .mapTo(String.class).findOne());
    }

    public void setActiveSite(String plan, String site) {
        jdbi.useTransaction(h -> {
            int n = h.createUpdate("UPDATE dr_plan_state SET active_site = :s, updated_at = :now WHERE plan_name = :p")
                    .bind("p", plan).bind("s", site).bind("now", clock.millis()).execute();
            if (n == 0) {
                h.createUpdate("INSERT INTO dr_plan_state (plan_name, active_site, updated_at) VALUES (:p, :s, :now)")
                        .bind("p", plan).bind("s", site).bind("now", clock.millis()).execute();
            }
            // the copies were made in the other direction: they are no recovery points any more
            h.createUpdate("UPDATE dr_copies SET snapshot = NULL, point_at = NULL, copy_site = NULL, copy_snapshot = NULL, "
                            + "copy_point_at = NULL, moved_at = :now, next_due_at = :now, message = :m WHERE plan_name = :p")
                    .bind("p", plan).bind("now", clock.millis()).bind("m", "the plan moved to site " + site
                            + "; replicating in the new direction").execute();
        });
    }

    /** The next scheduled drill of {@code plan}, if one is planned. */
    public Optional<Long> nextDrill(String plan) {
        return jdbi.withHandle(h -> h.createQuery("SELECT next_drill_at FROM dr_plan_state WHERE plan_name = :p").bind("p", plan)
                .map((rs, c) -> Columns.nullableLong(rs, "next_drill_at")).findOne()).filter(java.util.Objects::nonNull);
    }

    /**
     * Moves the plan's next drill from {@code expected} (null: none planned) to {@code next}; false
     * when another server moved it first. The plan's row is created at its protected site when missing.
     */
    public boolean moveDrill(String plan, String protectedSite, Long expected, long next) {
        return jdbi.inTransaction(h -> {
            int n = h.createUpdate("UPDATE dr_plan_state SET next_drill_at = :n, updated_at = :now WHERE plan_name = :p AND "
                            + (expected == null ? "next_drill_at IS NULL" : "next_drill_at = :e"))
                    .bind("n", next).bind("now", clock.millis()).bind("p", plan).bind("e", expected).execute();
            if (n == 0 && expected == null && activeSite(plan).isEmpty()) {
                try {
                    n = h.createUpdate("INSERT INTO dr_plan_state (plan_name, active_site, next_drill_at, updated_at) VALUES (:p, :s, :n, :now)")
                            .bind("p", plan).bind("s", protectedSite).bind("n", next).bind("now", clock.millis()).execute();
                } catch (RuntimeException e) {
                    return false; // another server inserted it
                }
            }
            return n == 1;
        });
    }

    /** The open (not ended) run of {@code plan}, if any. */
    public Optional<String> openRunOf(String plan) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id FROM dr_runs WHERE plan_name = :p AND ended = FALSE ORDER BY seq DESC")
                .bind("p", plan).mapTo(String.class).findFirst());
    }

    public void saveReport(String id, String reportJson) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE dr_runs SET report = :r WHERE id = :id").bind("r", reportJson).bind("id", id).execute());
    }

    /** Newest first; {@code plan} null for every plan. */
    public List<Listed> list(String plan, boolean openOnly, int limit) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, plan_name, plan_version, kind, phase, ended, created_by, created_at, updated_at "
                        + "FROM dr_runs WHERE (:p IS NULL OR plan_name = :p) " + (openOnly ? "AND ended = FALSE " : "")
                        + "ORDER BY seq DESC LIMIT :l")
                .bind("p", plan).bind("l", limit)
                .map((rs, c) -> new Listed(rs.getString("id"), rs.getString("plan_name"), rs.getInt("plan_version"), rs.getString("kind"),
                        rs.getString("phase"), rs.getBoolean("ended"), rs.getString("created_by"),
                        Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("updated_at"))))
                .list());
    }

    /** Extends the leases {@code owner} holds on runs not ended. */
    public void renew(String owner, Duration lease) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE dr_runs SET lease_until = :lu WHERE lease_owner = :o AND ended = FALSE")
                .bind("o", owner).bind("lu", clock.millis() + lease.toMillis()).execute());
    }

    /** Takes over the runs not ended whose lease has expired (their server is gone); returns their ids. */
    public List<String> claimExpired(String owner, Duration lease) {
        long now = clock.millis();
        List<String> ids = jdbi.withHandle(h -> h.createQuery("SELECT id FROM dr_runs WHERE ended = FALSE AND (lease_until IS NULL OR "
                + "lease_until < :now) ORDER BY seq").bind("now", now).mapTo(String.class).list());
        return ids.stream().filter(id -> jdbi.withHandle(h -> h.createUpdate("UPDATE dr_runs SET lease_owner = :o, lease_until = :lu "
                        + "WHERE id = :id AND ended = FALSE AND (lease_until IS NULL OR lease_until < :now)")
                .bind("o", owner).bind("lu", now + lease.toMillis()).bind("id", id).bind("now", now).execute()) == 1).toList();
    }
}
