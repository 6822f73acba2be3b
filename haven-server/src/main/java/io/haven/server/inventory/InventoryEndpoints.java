package io.haven.server.inventory;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.agent.Agents;
import io.haven.server.auth.Role;
import io.haven.server.http.Api;
import io.haven.server.http.Call;
import io.haven.server.http.Reply;
import io.haven.server.http.Route;
import io.haven.server.job.Ticks;
import io.haven.server.repo.Repositories;
import java.io.IOException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sites, groups (and their members), repositories, backup policies and file-set workloads over
 * the API. Viewers read; admins create and change. Repository passwords never leave the server.
 */
public final class InventoryEndpoints {
    public record SiteRequest(String name, String description) {}

    public record GroupRequest(String name, String description) {}

    public record MembersRequest(List<String> agents) {}

    public record RepositoryRequest(String name, String location, String password) {}

    public record PolicyRequest(String name, String group, String repository, String schedule, String timezone,
            PolicySpec.Retention retention, List<String> excludes, Long bandwidthLimit, String maintenanceSchedule) {}

    /** A workload on one agent ({@code agent}) or on any agent of a pool group ({@code pool}). */
    public record WorkloadRequest(String name, String agent, String pool, List<String> paths, List<String> excludes) {}

    private final Inventory inventory;
    private final Agents agents;
    private final Repositories repositories;
    private final Ticks ticks;
    private final InstantSource clock;
    private final Api api;

    public InventoryEndpoints(Inventory inventory, Agents agents, Repositories repositories, Ticks ticks, InstantSource clock, Api api) {
        this.inventory = inventory;
        this.agents = agents;
        this.repositories = repositories;
        this.ticks = ticks;
        this.clock = clock;
        this.api = api;
    }

    public List<Route> routes() {
        return List.of(
                new Route("GET", "/api/v1/sites", Role.VIEWER, c -> api.ok(Map.of("sites", inventory.sites().stream().map(InventoryEndpoints::view).toList()))),
                new Route("POST", "/api/v1/sites", Role.ADMIN, this::createSite),
                new Route("GET", "/api/v1/groups", Role.VIEWER, c -> api.ok(Map.of("groups", inventory.groups().stream().map(InventoryEndpoints::view).toList()))),
                new Route("POST", "/api/v1/groups", Role.ADMIN, this::createGroup),
                new Route("POST", "/api/v1/groups/{group}/members", Role.ADMIN, c -> members(c, true)),
                new Route("POST", "/api/v1/groups/{group}/members/remove", Role.ADMIN, c -> members(c, false)),
                new Route("GET", "/api/v1/repositories", Role.VIEWER, c -> api.ok(Map.of("repositories",
                        inventory.repositories().stream().map(InventoryEndpoints::view).toList()))),
                new Route("POST", "/api/v1/repositories", Role.ADMIN, this::createRepository),
                new Route("GET", "/api/v1/policies", Role.VIEWER, c -> api.ok(Map.of("policies", inventory.policies().stream()
                        .map(InventoryEndpoints::view).toList()))),
                new Route("GET", "/api/v1/policies/{policy}", Role.VIEWER, c -> api.ok(view(inventory.policy(c.param("policy"))))),
                new Route("POST", "/api/v1/policies", Role.ADMIN, this::createPolicy),
                new Route("POST", "/api/v1/policies/{policy}", Role.ADMIN, this::updatePolicy),
                new Route("DELETE", "/api/v1/policies/{policy}", Role.ADMIN, c -> {
                    c.auditTarget("policy:" + c.param("policy"));
                    inventory.deletePolicy(c.param("policy"));
                    return api.ok(Map.of("deleted", c.param("policy")));
                }),
                new Route("DELETE", "/api/v1/groups/{group}", Role.ADMIN, c -> {
                    c.auditTarget("group:" + c.param("group"));
                    inventory.deleteGroup(c.param("group"));
                    return api.ok(Map.of("deleted", c.param("group")));
                }),
                new Route("DELETE", "/api/v1/workloads/{workload}", Role.ADMIN, c -> {
                    c.auditTarget("workload:" + c.param("workload"));
                    inventory.deleteWorkload(c.param("workload"));
                    return api.ok(Map.of("deleted", c.param("workload")));
                }),
                new Route("GET", "/api/v1/workloads", Role.VIEWER, c -> {
                    Map<Long, Inventory.Protection> p = inventory.protection();
                    return api.ok(Map.of("workloads", inventory.workloads().stream().map(w -> view(w, p.get(w.id()))).toList()));
                }),
                new Route("GET", "/api/v1/workloads/{workload}", Role.VIEWER, c -> {
                    Inventory.Workload w = inventory.workload(c.param("workload"));
                    return api.ok(view(w, inventory.protection().get(w.id())));
                }),
                new Route("POST", "/api/v1/workloads", Role.ADMIN, this::createWorkload));
    }

    private Reply createSite(Call c) throws IOException {
        SiteRequest r = api.read(c, SiteRequest.class);
        c.auditTarget("site:" + r.name());
        return api.created(view(inventory.createSite(Api.name(r.name(), "site"), r.description())));
    }

    private Reply createGroup(Call c) throws IOException {
        GroupRequest r = api.read(c, GroupRequest.class);
        c.auditTarget("group:" + r.name());
        return api.created(view(inventory.createGroup(Api.name(r.name(), "group"), r.description())));
    }

    private Reply members(Call c, boolean add) throws IOException {
        MembersRequest r = api.read(c, MembersRequest.class);
        c.auditTarget("group:" + c.param("group"));
        if (r.agents() == null || r.agents().isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "'agents' lists at least one agent name");
        }
        List<Long> ids = new ArrayList<>();
        for (String a : r.agents()) {
            ids.add(agents.get(a).id());
        }
        return api.ok(view(inventory.members(c.param("group"), ids, add)));
    }

    private Reply createRepository(Call c) throws IOException {
        RepositoryRequest r = api.read(c, RepositoryRequest.class);
        c.auditTarget("repository:" + r.name());
        Api.name(r.name(), "repository");
        if (inventory.findRepository(r.name()).isPresent()) {
            throw new HavenException(ErrorCode.CONFLICT, "a repository named '" + r.name() + "' exists already");
        }
        boolean created = repositories.register(r.name(), r.location(), r.password());
        Map<String, Object> m = new LinkedHashMap<>(view(inventory.repository(r.name())));
        m.put("created", created);
        return api.created(m);
    }

    private Reply createPolicy(Call c) throws IOException {
        PolicyRequest r = api.read(c, PolicyRequest.class);
        c.auditTarget("policy:" + r.name());
        Api.name(r.name(), "policy");
        Api.required(r.group(), "group");
        Api.required(r.repository(), "repository");
        PolicySpec spec = new PolicySpec(Api.required(r.schedule(), "schedule"), r.timezone(), r.retention(), r.excludes(),
                r.bandwidthLimit() == null ? 0 : r.bandwidthLimit(), r.maintenanceSchedule());
        if (spec.retention() != null) {
            spec.retention().rules(); // refused now, not at every maintenance run
        }
        Instant now = clock.instant();
        Instant nextBackup = ticks.next(spec.schedule(), spec.timezone(), now);
        Instant nextMaint = spec.retention() == null || spec.retention().isEmpty() ? null
                : ticks.next(spec.maintenanceSchedule(), spec.timezone(), now);
        return api.created(view(inventory.createPolicy(r.name(), r.group(), r.repository(), spec, nextBackup, nextMaint)));
    }

    /** {@code POST /api/v1/policies/{policy}}: the fields given replace the policy's; the others stay. */
    public record PolicyUpdate(String schedule, String timezone, PolicySpec.Retention retention, List<String> excludes, Long bandwidthLimit,
            String maintenanceSchedule) {}

    private Reply updatePolicy(Call c) throws IOException {
        Inventory.Policy p = inventory.policy(c.param("policy"));
        c.auditTarget("policy:" + p.name());
        PolicyUpdate u = api.read(c, PolicyUpdate.class);
        PolicySpec old = p.spec();
        PolicySpec spec = new PolicySpec(u.schedule() != null ? u.schedule() : old.schedule(), u.timezone() != null ? u.timezone() : old.timezone(),
                u.retention() != null ? u.retention() : old.retention(), u.excludes() != null ? u.excludes() : old.excludes(),
                u.bandwidthLimit() != null ? u.bandwidthLimit() : old.bandwidthLimit(),
                u.maintenanceSchedule() != null ? u.maintenanceSchedule() : old.maintenanceSchedule());
        if (u.retention() != null) {
            u.retention().rules(); // refused now, not at every maintenance run
        }
        Instant now = clock.instant();
        boolean timing = u.schedule() != null || u.timezone() != null;
        Instant nextBackup = timing ? ticks.next(spec.schedule(), spec.timezone(), now) : p.nextBackupAt();
        Instant nextMaint = spec.retention() == null || spec.retention().isEmpty() ? null
                : timing || u.maintenanceSchedule() != null || p.nextMaintenanceAt() == null
                ? ticks.next(spec.maintenanceSchedule(), spec.timezone(), now) : p.nextMaintenanceAt();
        return api.ok(view(inventory.updatePolicy(p.name(), spec, nextBackup, nextMaint)));
    }

    private Reply createWorkload(Call c) throws IOException {
        WorkloadRequest r = api.read(c, WorkloadRequest.class);
        c.auditTarget("workload:" + r.name());
        Api.name(r.name(), "workload");
        if ((r.agent() == null) == (r.pool() == null)) {
            throw new HavenException(ErrorCode.USAGE, "a workload runs on one 'agent' or on a 'pool' group: give exactly one");
        }
        if (r.paths() == null || r.paths().isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "'paths' lists at least one absolute path to back up");
        }
        for (String p : r.paths()) {
            if (p == null || !p.startsWith("/")) {
                throw new HavenException(ErrorCode.USAGE, "workload paths are absolute, not '" + p + "'");
            }
        }
        Long agentId = r.agent() == null ? null : agents.get(r.agent()).id();
        Long poolId = r.pool() == null ? null : inventory.group(r.pool()).id();
        return api.created(view(inventory.createWorkload(r.name(), agentId, poolId, new WorkloadSpec(r.paths(), r.excludes()))));
    }

    static Map<String, Object> view(Inventory.Site s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("name", s.name());
        m.put("description", s.description());
        m.put("createdAt", s.createdAt().toString());
        return m;
    }

    static Map<String, Object> view(Inventory.Group g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", g.id());
        m.put("name", g.name());
        m.put("description", g.description());
        m.put("members", g.members());
        m.put("createdAt", g.createdAt().toString());
        return m;
    }

    static Map<String, Object> view(Inventory.Repo r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("name", r.name());
        m.put("location", r.location());
        m.put("createdAt", r.createdAt().toString());
        return m;
    }

    static Map<String, Object> view(Inventory.Policy p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", p.id());
        m.put("name", p.name());
        m.put("group", p.group());
        m.put("repository", p.repository());
        m.put("schedule", p.spec().schedule());
        m.put("timezone", p.spec().timezone());
        m.put("retention", p.spec().retention());
        m.put("excludes", p.spec().excludes());
        m.put("bandwidthLimit", p.spec().bandwidthLimit());
        m.put("maintenanceSchedule", p.spec().maintenanceSchedule());
        m.put("nextBackupAt", p.nextBackupAt() == null ? null : p.nextBackupAt().toString());
        m.put("nextMaintenanceAt", p.nextMaintenanceAt() == null ? null : p.nextMaintenanceAt().toString());
        return m;
    }

    static Map<String, Object> view(Inventory.Workload w, Inventory.Protection p) {
        Map<String, Object> m = view(w);
        m.put("lastBackupState", p == null ? null : p.lastState());
        m.put("lastBackupAt", p == null ? null : p.lastAt().toString());
        m.put("lastSuccessfulBackupAt", p == null || p.lastSuccessAt() == null ? null : p.lastSuccessAt().toString());
        return m;
    }

    static Map<String, Object> view(Inventory.Workload w) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", w.id());
        m.put("name", w.name());
        m.put("kind", w.kind());
        m.put("agent", w.agent());
        m.put("pool", w.poolGroup());
        m.put("paths", w.spec().paths());
        m.put("excludes", w.spec().excludes());
        m.put("createdAt", w.createdAt().toString());
        return m;
    }
}
