package io.haven.server.agent;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.AgentApi;
import io.haven.protocol.Codec;
import io.haven.protocol.Messages;
import io.haven.server.auth.Role;
import io.haven.server.http.Api;
import io.haven.server.http.Call;
import io.haven.server.http.Reply;
import io.haven.server.http.Route;
import io.haven.server.inventory.Inventory;
import io.haven.server.job.JobSignal;
import io.haven.server.job.Jobs;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Agents as users see them ({@code /api/v1/agents…}: list, show, enrolment tokens, disable,
 * enable, revoke, site and labels) and the agent-facing endpoints ({@code /api/v1/agent/…}:
 * enrol, heartbeat, task poll, progress, finish). Agent-facing calls carry no user token: the
 * client certificate identifies the agent, and an agent only ever sees and changes its own jobs.
 */
public final class AgentEndpoints {
    /** User request: a one-time enrolment token. */
    public record TokenRequest(String site, Map<String, String> labels, Integer expiresInMinutes) {}

    /** User request: change an agent's site, labels or task slots. */
    public record UpdateRequest(String site, Map<String, String> labels) {}

    private final Agents agents;
    private final Enrollment enrollment;
    private final Inventory inventory;
    private final Jobs jobs;
    private final io.haven.server.dr.Fences fences;
    private final Api api;
    private final int heartbeatSeconds;

    public AgentEndpoints(Agents agents, Enrollment enrollment, Inventory inventory, Jobs jobs, io.haven.server.dr.Fences fences, Api api,
            int heartbeatSeconds) {
        this.fences = fences;
        this.agents = agents;
        this.enrollment = enrollment;
        this.inventory = inventory;
        this.jobs = jobs;
        this.api = api;
        this.heartbeatSeconds = heartbeatSeconds;
    }

    public List<Route> routes() {
        return List.of(
                new Route("GET", "/api/v1/agents", Role.VIEWER, this::list),
                new Route("GET", "/api/v1/agents/{agent}", Role.VIEWER, c -> api.ok(view(agents.get(c.param("agent"))))),
                new Route("POST", "/api/v1/agents/{agent}", Role.ADMIN, this::update),
                new Route("POST", "/api/v1/agents/{agent}/disable", Role.ADMIN, c -> state(c, Agents.State.DISABLED)),
                new Route("POST", "/api/v1/agents/{agent}/enable", Role.ADMIN, c -> state(c, Agents.State.ACTIVE)),
                new Route("POST", "/api/v1/agents/{agent}/revoke", Role.ADMIN, c -> state(c, Agents.State.REVOKED)),
                new Route("POST", "/api/v1/enrollment-tokens", Role.ADMIN, this::token),
                new Route("POST", AgentApi.ENROLL, null, this::enroll),
                Route.agent("POST", AgentApi.HEARTBEAT, false, this::heartbeat),
                Route.agent("POST", AgentApi.CERTIFICATE, true, this::renew),
                Route.agent("GET", AgentApi.TASKS, false, this::tasks),
                Route.agent("POST", AgentApi.PROGRESS, false, this::progress),
                Route.agent("POST", AgentApi.FINISH, true, this::finish),
                Route.agent("POST", AgentApi.BYE, false, this::bye));
    }

    /** Identifies an agent from its client certificate (the CA already checked it during the handshake). */
    public Call.AgentPrincipal authenticate(java.security.cert.X509Certificate cert) {
        Agents.Holder a = agents.holderOf(Enrollment.serial(cert)).orElseThrow(() -> new HavenException(ErrorCode.UNAUTHENTICATED,
                "this client certificate belongs to no enrolled agent; enrol again (haven agent enroll)"));
        if (a.state() != Agents.State.ACTIVE) {
            throw new HavenException(ErrorCode.FORBIDDEN, "agent '" + a.name() + "' is " + a.state().label()
                    + (a.state() == Agents.State.REVOKED ? "; its certificate is no longer accepted: enrol it again"
                    : "; an admin can enable it (haven agent enable " + a.name() + ")"));
        }
        return new Call.AgentPrincipal(a.id(), a.name(), cert);
    }

    private Reply token(Call c) throws IOException {
        TokenRequest r = api.readOr(c, TokenRequest.class, new TokenRequest(null, null, null));
        Long site = r.site() == null ? null : inventory.site(r.site()).id();
        Duration ttl = r.expiresInMinutes() == null ? Enrollment.DEFAULT_TTL : Duration.ofMinutes(r.expiresInMinutes());
        Enrollment.Issued t = enrollment.createToken(site, r.labels(), c.principal().user().username(), ttl);
        c.auditTarget("enrollment-token:" + t.id() + (r.site() == null ? "" : " site:" + r.site()));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("token", t.token());
        m.put("expiresAt", t.expiresAt().toString());
        m.put("site", r.site());
        m.put("caFingerprintSha256", t.pin());
        return api.created(m);
    }

    private Reply enroll(Call c) throws IOException {
        Messages.EnrollRequest r = Codec.read(c.body(), Messages.EnrollRequest.class);
        c.auditActor("agent:" + r.name());
        c.auditTarget("agent:" + r.name());
        Messages.EnrollReply reply = enrollment.enroll(r, name -> inventory.site(name).id());
        return api.created(reply);
    }

    /** The most agents one page may ask for. */
    static final int MAX_PAGE = 10_000;

    /**
     * {@code GET /api/v1/agents}: every agent by name, or with {@code limit} one page of them
     * (after the name {@code after}, when given), with {@code next}, the name to ask after for
     * the next page, or null after the last.
     */
    private Reply list(Call c) throws IOException {
        String after = c.query("after");
        if (c.query("limit") == null) {
            if (after != null) {
                throw new HavenException(ErrorCode.USAGE, "'after' pages through the agents and needs 'limit' (1 to " + MAX_PAGE + ")");
            }
            return api.ok(Map.of("agents", agents.list().stream().map(this::view).toList()));
        }
        int limit = Api.intQuery(c, "limit", MAX_PAGE, MAX_PAGE);
        if (limit < 1) {
            throw new HavenException(ErrorCode.USAGE, "limit must be a number from 1 to " + MAX_PAGE + ", not 0");
        }
        List<Agents.Agent> page = agents.list(after, limit + 1);
        boolean more = page.size() > limit;
        List<Agents.Agent> shown = more ? page.subList(0, limit) : page;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("agents", shown.stream().map(this::view).toList());
        body.put("next", more ? shown.get(shown.size() - 1).name() : null);
        return api.ok(body);
    }

    private Reply update(Call c) throws IOException {
        Agents.Agent a = agents.get(c.param("agent"));
        UpdateRequest r = api.read(c, UpdateRequest.class);
        c.auditTarget("agent:" + a.name());
        if (r.site() != null) {
            agents.setSite(a.id(), r.site().isBlank() ? null : inventory.site(r.site()).id());
        }
        if (r.labels() != null) {
            agents.setLabels(a.id(), r.labels());
        }
        return api.ok(view(agents.get(a.name())));
    }

    private Reply state(Call c, Agents.State to) throws IOException {
        Agents.Agent a = agents.get(c.param("agent"));
        c.auditTarget("agent:" + a.name());
        if (a.state() == Agents.State.REVOKED && to != Agents.State.REVOKED) {
            throw new HavenException(ErrorCode.CONFLICT, "agent '" + a.name() + "' is revoked for good; enrol the host again");
        }
        agents.setState(a.id(), to);
        if (to != Agents.State.ACTIVE) {
            // its queued jobs fail at once, its running ones are settled, and a poll it has open ends empty
            jobs.settleForInactiveAgents(a.id());
        }
        return api.ok(view(agents.get(a.name())));
    }

    // --- agent-facing

    /** {@code POST /api/v1/agent/certificate}: a new client certificate for a new key (renewal). */
    public record RenewRequest(String publicKey) {}

    private Reply renew(Call c) throws IOException {
        RenewRequest r = Codec.read(c.body(), RenewRequest.class);
        c.auditTarget("agent:" + c.agent().name() + " certificate");
        return api.ok(enrollment.renew(c.agent().id(), c.agent().certificate(), r.publicKey()));
    }

    private Reply heartbeat(Call c) throws IOException {
        Messages.Heartbeat hb = Codec.read(c.body(), Messages.Heartbeat.class);
        if (hb.instance() == null || hb.instance().isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "a heartbeat names the agent's instance");
        }
        agents.heartbeat(c.agent().id(), hb);
        jobs.settleOtherInstances(c.agent().id(), hb.instance());
        return api.ok(new Messages.HeartbeatReply(heartbeatSeconds, jobs.cancelRequested(c.agent().id(), hb.runningJobs()),
                fences.fencedFor(c.agent().id())));
    }

    private Reply tasks(Call c) throws Exception {
        int free = Api.intQuery(c, "free", 1, 64);
        int wait = Api.intQuery(c, "wait", 0, AgentApi.MAX_WAIT_SECONDS);
        String instance = c.query("instance");
        if (instance == null || instance.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "a task poll names the agent's instance (?instance=…)");
        }
        long id = c.agent().id();
        agents.seen(id, instance);
        jobs.settleOtherInstances(id, instance);
        List<Jobs.Job> started;
        if (wait == 0 || jobs.signal().isShutdown()) {
            started = jobs.claimFor(id, instance, free, agents.offlineAfter());
        } else {
            long deadline = System.nanoTime() + Duration.ofSeconds(wait).toNanos();
            // woken by this server when a job for this agent or one of its groups is queued, or one of
            // its jobs ends; by the control loop when it sees queued work another server added (one
            // query per tick for all waiting polls); and every 10 s at the latest. Registered before
            // the first look, so no signal falls between a look and the wait.
            try (JobSignal.Waiter waiter = jobs.signal().register(id, inventory.groupIdsOf(id))) {
                while (true) {
                    waiter.reset();
                    started = jobs.claimFor(id, instance, free, agents.offlineAfter());
                    long left = deadline - System.nanoTime();
                    if (!started.isEmpty() || left <= 0 || jobs.signal().isShutdown() || !active(id)) {
                        break;
                    }
                    waiter.await(Duration.ofNanos(Math.min(left, Duration.ofSeconds(10).toNanos())));
                }
            }
        }
        if (!started.isEmpty() && !active(id)) {
            // disabled or revoked after the poll was authenticated: the claim refuses such an agent, and a
            // claim that committed just before the change gets no answer (its jobs are settled, not handed out)
            jobs.settleForInactiveAgents(id);
            started = List.of();
        }
        List<Messages.Task> tasks = new ArrayList<>();
        for (Jobs.Job j : started) {
            tasks.add(task(j));
        }
        return api.ok(new Messages.TaskBatch(tasks, fences.fencedFor(id)));
    }

    /** Whether the agent is still active now (its state may have changed since its request was authenticated). */
    private boolean active(long id) {
        return agents.find(id).map(a -> a.state() == Agents.State.ACTIVE).orElse(false);
    }

    private Messages.Task task(Jobs.Job j) {
        Messages.RepositoryRef repo = null;
        if (j.repositoryId() != null) {
            Inventory.Repo r = inventory.repository(j.repositoryId());
            repo = new Messages.RepositoryRef(r.name(), AgentApi.REPOSITORY_PREFIX + r.name(), r.password());
        }
        jobs.log(j.id(), "info", "started on agent " + j.agent());
        return new Messages.Task(j.id(), j.type(), repo, j.spec().backup(), j.spec().restore(), j.spec().dr());
    }

    private Reply bye(Call c) throws IOException {
        String instance = c.query("instance");
        if (instance == null || instance.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "a goodbye names the agent's instance (?instance=…)");
        }
        boolean current = agents.bye(c.agent().id(), instance);
        return api.ok(Map.of("instance", instance, "current", current));
    }

    private Reply progress(Call c) throws IOException {
        Messages.Progress p = Codec.read(c.body(), Messages.Progress.class);
        boolean cancel = jobs.progress(c.agent().id(), c.longParam("id"), p);
        return api.ok(new Messages.ProgressReply(cancel));
    }

    private Reply finish(Call c) throws IOException {
        Messages.Finish f = Codec.read(c.body(), Messages.Finish.class);
        c.auditTarget("job:" + c.param("id"));
        Jobs.Job j = jobs.finish(c.agent().id(), c.longParam("id"), f);
        return api.ok(Map.of("id", j.id(), "state", j.state().label()));
    }

    Map<String, Object> view(Agents.Agent a) {
        Instant now = agents.clock().instant();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("name", a.name());
        m.put("site", a.site());
        m.put("labels", a.labels());
        m.put("state", a.state().label());
        m.put("online", a.state() == Agents.State.ACTIVE && a.online(now, agents.offlineAfter()));
        m.put("lastSeenAt", a.lastSeenAt() == null ? null : a.lastSeenAt().toString());
        m.put("enrolledAt", a.enrolledAt().toString());
        m.put("certificateExpiresAt", a.certExpiresAt().toString());
        m.put("version", a.version());
        m.put("maxTasks", a.maxTasks());
        m.put("facts", a.facts());
        return m;
    }
}
