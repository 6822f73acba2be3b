package io.haven.server.inventory;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Codec;
import io.haven.server.db.Columns;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Sites, host groups and their members, repositories, backup policies and file-set workloads:
 * the tables an operator edits. Names are unique per kind; lookups by a name that does not exist
 * are NOT_FOUND, a second object with a name in use is CONFLICT. Thread-safe.
 */
public final class Inventory {
    public record Site(long id, String name, String description, Instant createdAt) {}

    public record Group(long id, String name, String description, Instant createdAt, List<String> members) {}

    /** A repository known to the server; {@code password} never leaves through the user API. */
    public record Repo(long id, String name, String location, String password, Instant createdAt) {}

    public record Policy(long id, String name, long groupId, String group, long repositoryId, String repository, PolicySpec spec,
            Instant nextBackupAt, Instant nextMaintenanceAt) {}

    /** A file-set workload on one agent, or on any agent of a pool group. */
    public record Workload(long id, String name, String kind, Long agentId, String agent, Long poolGroupId, String poolGroup,
            WorkloadSpec spec, Instant createdAt) {}

    private final Jdbi jdbi;
    private final InstantSource clock;

    public Inventory(Jdbi jdbi, InstantSource clock) {
        this.jdbi = jdbi;
        this.clock = clock;
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    // --- sites

    public Site createSite(String name, String description) {
        return jdbi.inTransaction(h -> {
            unique(h, "sites", name, "site");
            long id = h.createUpdate("INSERT INTO sites (name, description, created_at) VALUES (:n, :d, :c)")
                    .bind("n", name).bind("d", Columns.fit("the description", description, 256)).bind("c", clock.millis())
                    .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
            return new Site(id, name, description, Instant.ofEpochMilli(clock.millis()));
        });
    }

    public List<Site> sites() {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM sites ORDER BY name").map((rs, c) -> site(rs)).list());
    }

    public Optional<Site> findSite(String name) {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM sites WHERE name = :n").bind("n", name).map((rs, c) -> site(rs)).findOne());
    }

    public Site site(String name) {
        return findSite(name).orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no site named '" + name
                + "' (create it with: haven site create " + name + ")"));
    }

    private static Site site(ResultSet rs) throws SQLException {
        return new Site(rs.getLong("id"), rs.getString("name"), rs.getString("description"), Instant.ofEpochMilli(rs.getLong("created_at")));
    }

    // --- groups

    public Group createGroup(String name, String description) {
        return jdbi.inTransaction(h -> {
            unique(h, "host_groups", name, "group");
            long id = h.createUpdate("INSERT INTO host_groups (name, description, created_at) VALUES (:n, :d, :c)")
                    .bind("n", name).bind("d", Columns.fit("the description", description, 256)).bind("c", clock.millis())
                    .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
            return new Group(id, name, description, Instant.ofEpochMilli(clock.millis()), List.of());
        });
    }

    public List<Group> groups() {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM host_groups ORDER BY name").map((rs, c) -> group(h, rs)).list());
    }

    public Group group(String name) {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM host_groups WHERE name = :n").bind("n", name)
                .map((rs, c) -> group(h, rs)).findOne())
                .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no group named '" + name + "'"));
    }

    /** Adds ({@code add}) or removes agents from a group; unknown agents are NOT_FOUND and change nothing. */
    public Group members(String groupName, List<Long> agentIds, boolean add) {
        Group g = group(groupName);
        jdbi.useTransaction(h -> {
            for (long a : agentIds) {
                boolean there = h.createQuery("SELECT COUNT(*) FROM group_members WHERE group_id = :g AND agent_id = :a")
                        .bind("g", g.id()).bind("a", a).mapTo(Long.class).one() > 0;
                if (add && !there) {
                    h.createUpdate("INSERT INTO group_members (group_id, agent_id) VALUES (:g, :a)").bind("g", g.id()).bind("a", a).execute();
                } else if (!add && there) {
                    h.createUpdate("DELETE FROM group_members WHERE group_id = :g AND agent_id = :a").bind("g", g.id()).bind("a", a).execute();
                }
            }
        });
        return group(groupName);
    }

    /** The ids of the groups an agent belongs to. */
    public List<Long> groupIdsOf(long agentId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT group_id FROM group_members WHERE agent_id = :a").bind("a", agentId)
                .mapTo(Long.class).list());
    }

    private static Group group(Handle h, ResultSet rs) throws SQLException {
        long id = rs.getLong("id");
        List<String> members = h.createQuery("SELECT a.name FROM group_members m JOIN agents a ON a.id = m.agent_id "
                + "WHERE m.group_id = :g ORDER BY a.name").bind("g", id).mapTo(String.class).list();
        return new Group(id, rs.getString("name"), rs.getString("description"), Instant.ofEpochMilli(rs.getLong("created_at")), members);
    }

    // --- repositories

    public Repo createRepository(String name, String location, String password) {
        return jdbi.inTransaction(h -> {
            unique(h, "repositories", name, "repository");
            long id = h.createUpdate("INSERT INTO repositories (name, location, password, created_at) VALUES (:n, :l, :p, :c)")
                    .bind("n", name).bind("l", location).bind("p", password).bind("c", clock.millis())
                    .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
            return new Repo(id, name, location, password, Instant.ofEpochMilli(clock.millis()));
        });
    }

    public List<Repo> repositories() {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM repositories ORDER BY name").map((rs, c) -> repo(rs)).list());
    }

    public Optional<Repo> findRepository(String name) {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM repositories WHERE name = :n").bind("n", name)
                .map((rs, c) -> repo(rs)).findOne());
    }

    public Repo repository(String name) {
        return findRepository(name).orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no repository named '" + name + "'"));
    }

    public Repo repository(long id) {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM repositories WHERE id = :id").bind("id", id)
                .map((rs, c) -> repo(rs)).findOne())
                .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no repository with id " + id));
    }

    private static Repo repo(ResultSet rs) throws SQLException {
        return new Repo(rs.getLong("id"), rs.getString("name"), rs.getString("location"), rs.getString("password"),
                Instant.ofEpochMilli(rs.getLong("created_at")));
    }

    // --- policies

    private static final String POLICY = "SELECT p.*, g.name AS group_name, r.name AS repo_name FROM policies p "
            + "JOIN host_groups g ON g.id = p.group_id JOIN repositories r ON r.id = p.repository_id ";

    /** Creates a policy; {@code nextBackup}/{@code nextMaintenance} are the first planned ticks. */
    public Policy createPolicy(String name, String group, String repository, PolicySpec spec, Instant nextBackup,
            Instant nextMaintenance) {
        Group g = group(group);
        Repo r = repository(repository);
        return jdbi.inTransaction(h -> {
            unique(h, "policies", name, "policy");
            h.createUpdate("INSERT INTO policies (name, group_id, repository_id, spec, next_backup_at, next_maintenance_at, "
                            + "created_at, updated_at) VALUES (:n, :g, :r, :s, :nb, :nm, :c, :c)")
                    .bind("n", name).bind("g", g.id()).bind("r", r.id()).bind("s", json(spec))
                    .bind("nb", nextBackup == null ? null : nextBackup.toEpochMilli())
                    .bind("nm", nextMaintenance == null ? null : nextMaintenance.toEpochMilli()).bind("c", clock.millis()).execute();
            return h.createQuery(POLICY + "WHERE p.name = :n").bind("n", name).map((rs, c) -> policy(rs)).one();
        });
    }

    public List<Policy> policies() {
        return jdbi.withHandle(h -> h.createQuery(POLICY + "ORDER BY p.name").map((rs, c) -> policy(rs)).list());
    }

    public Policy policy(String name) {
        return jdbi.withHandle(h -> h.createQuery(POLICY + "WHERE p.name = :n").bind("n", name).map((rs, c) -> policy(rs)).findOne())
                .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no policy named '" + name + "'"));
    }

    /** Policies whose backup or maintenance tick is due at {@code now}. */
    public List<Policy> duePolicies(long now) {
        return jdbi.withHandle(h -> h.createQuery(POLICY + "WHERE p.next_backup_at <= :now OR p.next_maintenance_at <= :now")
                .bind("now", now).map((rs, c) -> policy(rs)).list());
    }

    /** The policies that cover a workload: those of a group its agent (or pool) belongs to. */
    public List<Policy> policiesFor(Workload w) {
        return jdbi.withHandle(h -> h.createQuery(POLICY + "WHERE p.group_id IN (SELECT group_id FROM group_members WHERE agent_id = :a) "
                + "OR p.group_id = :pg ORDER BY p.name").bind("a", w.agentId()).bind("pg", w.poolGroupId()).map((rs, c) -> policy(rs)).list());
    }

    private static Policy policy(ResultSet rs) throws SQLException {
        long nb = rs.getLong("next_backup_at");
        Instant nextBackup = rs.wasNull() ? null : Instant.ofEpochMilli(nb);
        long nm = rs.getLong("next_maintenance_at");
        Instant nextMaint = rs.wasNull() ? null : Instant.ofEpochMilli(nm);
        return new Policy(rs.getLong("id"), rs.getString("name"), rs.getLong("group_id"), rs.getString("group_name"),
                rs.getLong("repository_id"), rs.getString("repo_name"), read(rs.getString("spec"), PolicySpec.class), nextBackup, nextMaint);
    }

    /** Replaces a policy's settings (and its next planned ticks, recomputed by the caller). */
    public Policy updatePolicy(String name, PolicySpec spec, Instant nextBackup, Instant nextMaintenance) {
        Policy p = policy(name);
        jdbi.useHandle(h -> h.createUpdate("UPDATE policies SET spec = :s, next_backup_at = :nb, next_maintenance_at = :nm, updated_at = :now "
                        + "WHERE id = :id")
                .bind("s", json(spec)).bind("nb", nextBackup == null ? null : nextBackup.toEpochMilli())
                .bind("nm", nextMaintenance == null ? null : nextMaintenance.toEpochMilli()).bind("now", clock.millis())
                .bind("id", p.id()).execute());
        return policy(name);
    }

    /** Deletes a policy; its jobs stay in the job history. */
    public void deletePolicy(String name) {
        Policy p = policy(name);
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM policies WHERE id = :id").bind("id", p.id()).execute());
    }

    /** Deletes a group; CONFLICT while a policy or a pooled workload uses it. */
    public void deleteGroup(String name) {
        Group g = group(name);
        jdbi.useTransaction(h -> {
            List<String> users = h.createQuery("SELECT name FROM policies WHERE group_id = :g UNION SELECT name FROM workloads "
                    + "WHERE pool_group_id = :g").bind("g", g.id()).mapTo(String.class).list();
            if (!users.isEmpty()) {
                throw new HavenException(ErrorCode.CONFLICT, "group '" + name + "' is used by " + String.join(", ", users)
                        + "; delete or change those first");
            }
            h.createUpdate("DELETE FROM group_members WHERE group_id = :g").bind("g", g.id()).execute();
            h.createUpdate("DELETE FROM host_groups WHERE id = :g").bind("g", g.id()).execute();
        });
    }

    // --- workloads

    /** How a workload's backups have gone: the newest backup job's state and time, and the newest success. */
    public record Protection(String lastState, Instant lastAt, Instant lastSuccessAt) {}

    /** {@link Protection} of every workload with at least one backup job, by workload id. */
    public java.util.Map<Long, Protection> protection() {
        record Row(long workload, Protection protection) {}
        return jdbi.withHandle(h -> h.createQuery("SELECT j.workload_id, j.state, COALESCE(j.finished_at, j.created_at) AS at, "
                        + "(SELECT MAX(s.finished_at) FROM jobs s WHERE s.workload_id = j.workload_id AND s.type = 'backup' "
                        + "AND s.state IN ('succeeded', 'partial')) AS ok_at FROM jobs j WHERE j.type = 'backup' AND j.id = "
                        + "(SELECT MAX(x.id) FROM jobs x WHERE x.workload_id = j.workload_id AND x.type = 'backup')")
                .map((rs, c) -> {
                    long ok = rs.getLong("ok_at");
                    Instant okAt = rs.wasNull() ? null : Instant.ofEpochMilli(ok);
                    return new Row(rs.getLong("workload_id"), new Protection(rs.getString("state"), Instant.ofEpochMilli(rs.getLong("at")), okAt));
                }).list())
                .stream().collect(java.util.stream.Collectors.toMap(Row::workload, Row::protection));
    }

    /** Deletes a workload; its jobs stay in the job history and its snapshots in the repository. */
    public void deleteWorkload(String name) {
        Workload w = workload(name);
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM workloads WHERE id = :id").bind("id", w.id()).execute());
    }

    private static final String WORKLOAD = "SELECT w.*, a.name AS agent_name, g.name AS pool_name FROM workloads w "
            + "LEFT JOIN agents a ON a.id = w.agent_id LEFT JOIN host_groups g ON g.id = w.pool_group_id ";

    public Workload createWorkload(String name, Long agentId, Long poolGroupId, WorkloadSpec spec) {
        return jdbi.inTransaction(h -> {
            unique(h, "workloads", name, "workload");
            h.createUpdate("INSERT INTO workloads (name, kind, agent_id, pool_group_id, spec, created_at) VALUES (:n, 'fileset', :a, :g, :s, :c)")
                    .bind("n", name).bind("a", agentId).bind("g", poolGroupId).bind("s", json(spec)).bind("c", clock.millis()).execute();
            return h.createQuery(WORKLOAD + "WHERE w.name = :n").bind("n", name).map((rs, c) -> workload(rs)).one();
        });
    }

    public List<Workload> workloads() {
        return jdbi.withHandle(h -> h.createQuery(WORKLOAD + "ORDER BY w.name").map((rs, c) -> workload(rs)).list());
    }

    public Workload workload(String name) {
        return jdbi.withHandle(h -> h.createQuery(WORKLOAD + "WHERE w.name = :n").bind("n", name).map((rs, c) -> workload(rs)).findOne())
                .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no workload named '" + name + "'"));
    }

    public Optional<Workload> workload(long id) {
        return jdbi.withHandle(h -> h.createQuery(WORKLOAD + "WHERE w.id = :id").bind("id", id).map((rs, c) -> workload(rs)).findOne());
    }

    /** The workloads a policy covers: on agents of its group, or pooled on its group. */
    public List<Workload> workloadsOf(Policy p) {
        return jdbi.withHandle(h -> h.createQuery(WORKLOAD + "WHERE w.agent_id IN (SELECT agent_id FROM group_members WHERE group_id = :g) "
                + "OR w.pool_group_id = :g ORDER BY w.name").bind("g", p.groupId()).map((rs, c) -> workload(rs)).list());
    }

    private static Workload workload(ResultSet rs) throws SQLException {
        long a = rs.getLong("agent_id");
        Long agentId = rs.wasNull() ? null : a;
        long g = rs.getLong("pool_group_id");
        Long poolId = rs.wasNull() ? null : g;
        return new Workload(rs.getLong("id"), rs.getString("name"), rs.getString("kind"), agentId, rs.getString("agent_name"), poolId,
                rs.getString("pool_name"), read(rs.getString("spec"), WorkloadSpec.class), Instant.ofEpochMilli(rs.getLong("created_at")));
    }

    // --- helpers

    private static void unique(Handle h, String table, String name, String what) {
        if (h.createQuery("SELECT COUNT(*) FROM " + table + " WHERE name = :n").bind("n", name).mapTo(Long.class).one() > 0) {
            throw new HavenException(ErrorCode.CONFLICT, "a " + what + " named '" + name + "' exists already");
        }
    }

    static String json(Object o) {
        return new String(Codec.write(o), StandardCharsets.UTF_8);
    }

    static <T> T read(String text, Class<T> type) {
        return Codec.read(text.getBytes(StandardCharsets.UTF_8), type);
    }
}
