package io.haven.server.job;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Messages;
import io.haven.repository.Repository;
import io.haven.server.agent.Agents;
import io.haven.server.auth.Role;
import io.haven.server.http.Api;
import io.haven.server.http.Call;
import io.haven.server.http.Reply;
import io.haven.server.http.Route;
import io.haven.server.inventory.Inventory;
import io.haven.server.repo.Repositories;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Jobs ({@code /api/v1/jobs…}: list, show, logs, cancel), backup now, restores and the snapshots of
 * a workload. Viewers read; operators start and cancel.
 */
public final class JobEndpoints {
    /** {@code POST /api/v1/workloads/{workload}/backup}. */
    public record BackupRequest(String policy, Boolean force) {}

    /**
     * {@code POST /api/v1/restores}: a snapshot ({@code latest} by default, or an id) or a point
     * in time ({@code at}: the newest snapshot at or before it), the host to restore on (default:
     * the workload's own) and the directory to restore into ({@code targetPath}, default {@code /}:
     * the original paths), optionally only one path of the snapshot.
     */
    public record RestoreRequest(String workload, String snapshot, String at, String agent, String targetPath, String path,
            List<String> include, Boolean sync, Boolean noSpaceCheck) {}

    private final Jobs jobs;
    private final Backups backups;
    private final Inventory inventory;
    private final Agents agents;
    private final Repositories repositories;
    private final Api api;

    public JobEndpoints(Jobs jobs, Backups backups, Inventory inventory, Agents agents, Repositories repositories, Api api) {
        this.jobs = jobs;
        this.backups = backups;
        this.inventory = inventory;
        this.agents = agents;
        this.repositories = repositories;
        this.api = api;
    }

    public List<Route> routes() {
        return List.of(
                new Route("GET", "/api/v1/jobs", Role.VIEWER, this::list),
                new Route("GET", "/api/v1/jobs/{id}", Role.VIEWER, c -> api.ok(view(jobs.get(c.longParam("id"))))),
                new Route("GET", "/api/v1/jobs/{id}/logs", Role.VIEWER, this::logs),
                new Route("POST", "/api/v1/jobs/{id}/cancel", Role.OPERATOR, this::cancel),
                new Route("POST", "/api/v1/workloads/{workload}/backup", Role.OPERATOR, this::backupNow),
                new Route("POST", "/api/v1/restores", Role.OPERATOR, this::restore),
                new Route("GET", "/api/v1/snapshots", Role.VIEWER, this::snapshots));
    }

    private Reply list(Call c) throws IOException {
        Jobs.State state = c.query("state") == null ? null : Jobs.State.parse(c.query("state"));
        Long workload = c.query("workload") == null ? null : inventory.workload(c.query("workload")).id();
        int limit = Api.intQuery(c, "limit", 50, 1000);
        return api.ok(Map.of("jobs", jobs.list(state, workload, c.query("type"), limit).stream().map(JobEndpoints::view).toList()));
    }

    private Reply logs(Call c) throws IOException {
        Jobs.Job j = jobs.get(c.longParam("id"));
        long after = c.query("after") == null ? 0 : Api.intQuery(c, "after", 0, Integer.MAX_VALUE);
        int limit = Api.intQuery(c, "limit", 1000, 10_000);
        List<Map<String, Object>> lines = jobs.logs(j.id(), after, limit).stream().map(l -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", l.id());
            m.put("at", l.at().toString());
            m.put("level", l.level());
            m.put("line", l.line());
            return m;
        }).toList();
        return api.ok(Map.of("job", j.id(), "state", j.state().label(), "lines", lines));
    }

    private Reply cancel(Call c) throws IOException {
        long id = c.longParam("id");
        c.auditTarget("job:" + id);
        return api.ok(view(jobs.cancel(id, c.principal().user().username())));
    }

    private Reply backupNow(Call c) throws IOException {
        BackupRequest r = api.readOr(c, BackupRequest.class, new BackupRequest(null, false));
        c.auditTarget("workload:" + c.param("workload"));
        Jobs.Job j = backups.now(c.param("workload"), r.policy(), Boolean.TRUE.equals(r.force()), c.principal().user().username());
        return api.reply(202, view(j));
    }

    private Reply restore(Call c) throws IOException {
        RestoreRequest r = api.read(c, RestoreRequest.class);
        Inventory.Workload w = inventory.workload(Api.required(r.workload(), "workload"));
        c.auditTarget("workload:" + w.name());
        Inventory.Policy p = backups.policyFor(w, null);
        Inventory.Repo repo = inventory.repository(p.repositoryId());
        Repository.SnapshotEntry snap = pick(repo.name(), w, r.snapshot(), r.at());
        Agents.Agent target;
        if (r.agent() != null) {
            target = agents.get(r.agent());
        } else if (w.agentId() != null) {
            target = agents.find(w.agentId()).orElseThrow();
        } else {
            throw new HavenException(ErrorCode.USAGE, "workload '" + w.name() + "' runs on a pool: name the agent to restore on ('agent')");
        }
        if (target.state() != Agents.State.ACTIVE) {
            throw new HavenException(ErrorCode.CONFLICT, "agent '" + target.name() + "' is " + target.state().label());
        }
        boolean inPlace = r.targetPath() == null || r.targetPath().isBlank();
        String targetPath = inPlace ? "/" : r.targetPath();
        if (!targetPath.startsWith("/")) {
            throw new HavenException(ErrorCode.USAGE, "targetPath must be an absolute path on the target host, not '" + targetPath + "'");
        }
        if (r.path() != null && !r.path().startsWith("/")) {
            throw new HavenException(ErrorCode.USAGE, "path must be an absolute path inside the snapshot, not '" + r.path() + "'");
        }
        boolean sync = Boolean.TRUE.equals(r.sync());
        if (sync && (r.include() != null && !r.include().isEmpty())) {
            throw new HavenException(ErrorCode.USAGE, "a sync restore makes the target equal to the snapshot: it takes no 'include'");
        }
        if (inPlace && r.path() != null && !normalize(r.path()).equals("/")) {
            // in place, one path goes back where it was, never into the root it sits under (the
            // restorer puts a path's contents into the target): a sync of that directory, or a
            // restore onto it; the agent puts a file into its directory
            targetPath = normalize(r.path());
        }
        if (sync && normalize(targetPath).equals("/")) {
            throw new HavenException(ErrorCode.USAGE, "a sync restore deletes everything under its target that the snapshot lacks, so it "
                    + "is refused for the whole root / (" + (inPlace ? "the default target" : "targetPath '" + targetPath + "'")
                    + (r.path() == null ? "" : ", path '" + r.path() + "'") + "): sync one directory in place with --path DIR and no "
                    + "--target, or give --target DIR, a directory other than /");
        }
        Messages.RestoreSpec spec = new Messages.RestoreSpec(snap.id().hex(), r.path(), targetPath, r.include() == null ? List.of() : r.include(),
                sync, Boolean.TRUE.equals(r.noSpaceCheck()));
        Jobs.Job j = jobs.create(new Jobs.NewJob("restore", Jobs.State.QUEUED, "manual", c.principal().user().username(), w.id(), p.id(),
                repo.id(), target.id(), new JobSpec(null, spec, null, null), "snapshot " + snap.id().shortHex() + " of "
                + snap.snapshot().time() + " to " + target.name() + ":" + targetPath));
        return api.reply(202, view(j));
    }

    /** An absolute path with {@code .}, {@code ..} and repeated slashes resolved, as the agent reads it ({@code /a/..} is {@code /}). */
    static String normalize(String absolute) {
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        for (String p : absolute.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                parts.pollLast();
            } else {
                parts.addLast(p);
            }
        }
        return "/" + String.join("/", parts);
    }

    private Repository.SnapshotEntry pick(String repo, Inventory.Workload w, String snapshot, String at) {
        List<Repository.SnapshotEntry> all = repositories.snapshots(repo, "workload:" + w.name()).stream()
                .sorted(Comparator.comparing(e -> Instant.parse(e.snapshot().time()))).toList();
        if (all.isEmpty()) {
            throw new HavenException(ErrorCode.NOT_FOUND, "workload '" + w.name() + "' has no snapshot in repository '" + repo + "' yet");
        }
        if (at != null) {
            if (snapshot != null) {
                throw new HavenException(ErrorCode.USAGE, "give either 'snapshot' or 'at', not both");
            }
            Instant t;
            try {
                t = Instant.parse(at);
            } catch (DateTimeParseException e) {
                throw new HavenException(ErrorCode.USAGE, "'at' is a time like 2026-11-30T06:00:00Z, not '" + at + "'");
            }
            return all.stream().filter(e -> !Instant.parse(e.snapshot().time()).isAfter(t)).reduce((a, b) -> b)
                    .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "workload '" + w.name() + "' has no snapshot at or before " + at));
        }
        if (snapshot == null || snapshot.equals("latest")) {
            return all.get(all.size() - 1);
        }
        List<Repository.SnapshotEntry> m = all.stream().filter(e -> e.id().hex().startsWith(snapshot)).toList();
        if (m.size() != 1) {
            throw new HavenException(m.isEmpty() ? ErrorCode.NOT_FOUND : ErrorCode.USAGE, m.isEmpty()
                    ? "workload '" + w.name() + "' has no snapshot " + snapshot : "snapshot prefix " + snapshot + " is ambiguous");
        }
        return m.get(0);
    }

    private Reply snapshots(Call c) throws IOException {
        Inventory.Workload w = inventory.workload(Api.required(c.query("workload"), "workload"));
        Inventory.Policy p = backups.policyFor(w, c.query("policy"));
        Inventory.Repo repo = inventory.repository(p.repositoryId());
        List<Map<String, Object>> out = repositories.snapshots(repo.name(), "workload:" + w.name()).stream()
                .sorted(Comparator.comparing(e -> Instant.parse(e.snapshot().time()))).map(e -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("id", e.id().hex());
                    m.put("time", e.snapshot().time());
                    m.put("host", e.snapshot().host());
                    m.put("paths", e.snapshot().paths());
                    m.put("tags", e.snapshot().tags());
                    return m;
                }).toList();
        return api.ok(Map.of("workload", w.name(), "repository", repo.name(), "snapshots", out));
    }

    /** A job as the API shows it, with progress (rate and ETA from bytes and elapsed time). */
    public static Map<String, Object> view(Jobs.Job j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id());
        m.put("type", j.type());
        m.put("state", j.state().label());
        m.put("origin", j.origin());
        m.put("requestedBy", j.requestedBy());
        m.put("workload", j.workload());
        m.put("agent", j.agent());
        m.put("createdAt", j.createdAt().toString());
        m.put("startedAt", j.startedAt() == null ? null : j.startedAt().toString());
        m.put("finishedAt", j.finishedAt() == null ? null : j.finishedAt().toString());
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("bytesDone", j.bytesDone());
        p.put("bytesTotal", j.bytesTotal());
        p.put("filesDone", j.filesDone());
        p.put("filesTotal", j.filesTotal());
        Double rate = null;
        Long eta = null;
        if (j.startedAt() != null) {
            Instant end = j.finishedAt() != null ? j.finishedAt() : j.updatedAt();
            double secs = Math.max(0.001, (end.toEpochMilli() - j.startedAt().toEpochMilli()) / 1000.0);
            rate = j.bytesDone() / secs;
            if (j.state() == Jobs.State.RUNNING && j.bytesTotal() > j.bytesDone() && rate > 0) {
                eta = (long) Math.ceil((j.bytesTotal() - j.bytesDone()) / rate);
            }
        }
        p.put("bytesPerSecond", rate == null ? null : Math.round(rate));
        p.put("etaSeconds", eta);
        m.put("progress", p);
        m.put("cancelRequested", j.cancelRequested());
        m.put("message", j.message());
        m.put("result", j.result() == null ? null : io.haven.protocol.Codec.read(j.result().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Object.class));
        return m;
    }
}
