package io.haven.server.dr;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.runbook.DrPlan;
import io.haven.runbook.run.Command;
import io.haven.runbook.run.RunCodec;
import io.haven.runbook.run.RunKind;
import io.haven.runbook.run.RunReport;
import io.haven.runbook.run.RunState;
import io.haven.server.auth.Role;
import io.haven.server.http.Api;
import io.haven.server.http.Call;
import io.haven.server.http.Reply;
import io.haven.server.http.Route;
import io.haven.server.plan.Plans;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Map;

/**
 * DR runs over the API: start a drill, failover or failback of a plan; list and show runs (with
 * their report); abort, commit, roll back; approve or deny a waiting approval step; and how
 * recoverable a plan's workloads are.
 */
public final class RunEndpoints {
    /** {@code POST /api/v1/plans/{plan}/runs}: kind test, planned, forced or failback. */
    public record StartRequest(String kind, Boolean confirm, String pointAt) {}

    /** A reason for an abort or a denial. */
    public record Reason(String reason) {}

    private final RunExecutor executor;
    private final DrCopies copies;
    private final Plans plans;
    private final Api api;

    public RunEndpoints(RunExecutor executor, DrCopies copies, Plans plans, Api api) {
        this.executor = executor;
        this.copies = copies;
        this.plans = plans;
        this.api = api;
    }

    public List<Route> routes() {
        return List.of(
                new Route("POST", "/api/v1/plans/{plan}/runs", Role.OPERATOR, this::start),
                new Route("GET", "/api/v1/plans/{plan}/status", Role.VIEWER, this::status),
                new Route("POST", "/api/v1/plans/{plan}/start", Role.OPERATOR, c -> {
                    c.auditTarget("plan:" + c.param("plan") + " start");
                    List<RunExecutor.Started> started = executor.startPlan(c.param("plan"));
                    boolean ok = started.stream().allMatch(RunExecutor.Started::ok);
                    return api.reply(ok ? 200 : 502, Map.of("plan", c.param("plan"), "started", ok, "workloads", started));
                }),
                new Route("GET", "/api/v1/runs", Role.VIEWER, c -> {
                    boolean open = "true".equals(c.query("open"));
                    return api.ok(Map.of("runs", executor.runs().list(c.query("plan"), open, Api.intQuery(c, "limit", 50, 1000)).stream()
                            .map(RunEndpoints::listed).toList()));
                }),
                new Route("GET", "/api/v1/runs/{run}", Role.VIEWER, c -> api.ok(withWaits(executor.runs().get(c.param("run")).state()))),
                new Route("POST", "/api/v1/runs/{run}/abort", Role.OPERATOR, c -> {
                    Reason r = reason(c);
                    c.auditTarget("run:" + c.param("run") + " abort");
                    return api.ok(view(executor.abort(c.param("run"), user(c), r.reason())));
                }),
                new Route("POST", "/api/v1/runs/{run}/commit", Role.OPERATOR, c -> {
                    c.auditTarget("run:" + c.param("run") + " commit");
                    return api.ok(view(executor.commit(c.param("run"), user(c))));
                }),
                new Route("POST", "/api/v1/runs/{run}/rollback", Role.OPERATOR, c -> {
                    c.auditTarget("run:" + c.param("run") + " rollback");
                    return api.ok(view(executor.rollback(c.param("run"), user(c))));
                }),
                new Route("POST", "/api/v1/runs/{run}/approve", Role.OPERATOR, c -> {
                    c.auditTarget("run:" + c.param("run") + " approve");
                    return api.ok(view(executor.approve(c.param("run"), user(c), true, null)));
                }),
                new Route("POST", "/api/v1/runs/{run}/deny", Role.OPERATOR, c -> {
                    Reason r = reason(c);
                    c.auditTarget("run:" + c.param("run") + " deny");
                    return api.ok(view(executor.approve(c.param("run"), user(c), false, r.reason())));
                }));
    }

    private static String user(Call c) {
        return c.principal().user().username();
    }

    private Reason reason(Call c) throws IOException {
        return c.body().length == 0 ? new Reason(null) : api.read(c, Reason.class);
    }

    private Reply start(Call c) throws IOException {
        StartRequest r = api.read(c, StartRequest.class);
        RunKind kind = switch (Api.required(r.kind(), "kind").toLowerCase(Locale.ROOT)) {
            case "test", "drill" -> RunKind.TEST;
            case "planned" -> RunKind.PLANNED;
            case "forced" -> RunKind.FORCED;
            case "failback" -> RunKind.FAILBACK;
            default -> throw new HavenException(ErrorCode.USAGE, "a run's kind is test, planned, forced or failback, not '" + r.kind() + "'");
        };
        Instant point = null;
        if (r.pointAt() != null && !r.pointAt().isBlank()) {
            try {
                point = Instant.parse(r.pointAt());
            } catch (DateTimeParseException e) {
                throw new HavenException(ErrorCode.USAGE, "pointAt is an ISO-8601 instant like 2026-11-30T10:00:00Z, not '" + r.pointAt() + "'");
            }
        }
        c.auditTarget("plan:" + c.param("plan") + " " + kind.name().toLowerCase(Locale.ROOT) + " run");
        RunState s = executor.begin(c.param("plan"), kind, user(c), Boolean.TRUE.equals(r.confirm()), point);
        return api.reply(201, view(executor.runs().get(s.runId())));
    }

    private Reply status(Call c) throws IOException {
        Plans.Version version = plans.get(c.param("plan"), null);
        DrPlan plan = version.plan();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("plan", plan.name());
        m.put("version", plan.version());
        m.put("mode", plan.mode().text());
        m.put("rpoSeconds", plan.rpo().toSeconds());
        String active = executor.activeSite(plan);
        List<String> fenced = executor.fences().sitesOf(plan.name());
        Optional<String> open = executor.runs().openRunOf(plan.name());
        m.put("activeSite", active);
        m.put("fencedAt", fenced);
        m.put("openRun", open.orElse(null));
        // the plan runs at a site that is fenced, with no run open: a failover or failback failed or was aborted part
        // way and was not rolled back; nothing starts there until it is
        String attention = null;
        if (open.isEmpty() && fenced.contains(active)) {
            Runs.Listed last = executor.runs().list(plan.name(), false, 20).stream().filter(l -> !l.kind().equalsIgnoreCase("test"))
                    .findFirst().orElse(null);
            String verb = last != null && last.kind().equalsIgnoreCase("failback") ? "failback" : "failover";
            attention = "site " + active + ", where the plan runs, is fenced" + (last == null ? "" : " by " + verb + " run " + last.id()
                    + ", which ended " + last.phase().toLowerCase(Locale.ROOT).replace('_', ' ')) + ": its workloads cannot start there; "
                    + "undo what that run did with 'haven " + verb + " " + plan.name() + " --rollback'";
        }
        m.put("attention", attention);
        m.put("nextDrillAt", executor.nextDrill(plan).map(Instant::toString).orElse(null));
        List<DrCopies.Status> all = copies.status(plan, version.createdAt());
        m.put("recoverable", all.stream().allMatch(DrCopies.Status::recoverable));
        m.put("meetsRpo", all.stream().allMatch(DrCopies.Status::meetsRpo));
        m.put("workloads", all.stream().map(DrCopies::view).toList());
        return api.ok(m);
    }

    private static Map<String, Object> listed(Runs.Listed l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", l.id());
        m.put("plan", l.plan());
        m.put("planVersion", l.planVersion());
        m.put("kind", l.kind().toLowerCase(Locale.ROOT));
        m.put("phase", l.phase().toLowerCase(Locale.ROOT));
        m.put("ended", l.ended());
        m.put("createdBy", l.createdBy());
        m.put("createdAt", l.createdAt().toString());
        m.put("updatedAt", l.updatedAt().toString());
        return m;
    }

    /**
     * The run's view, with the jobs it waits for on agents that cannot take them now
     * ({@code waitingOn}, each with a {@code message} that commands following the run print) and
     * a line saying so at the end of its text.
     */
    Map<String, Object> withWaits(RunState s) {
        Map<String, Object> m = view(s);
        List<Map<String, Object>> waits = executor.waitingOnAgents(s);
        StringBuilder text = new StringBuilder((String) m.get("text"));
        for (Map<String, Object> w : waits) {
            String message = "job " + w.get("job") + " (" + w.get("command") + ") is " + w.get("jobState") + " for agent "
                    + w.get("agent") + ", which is " + w.get("agentState")
                    + (w.get("lastSeenAt") == null ? " (never heard from)" : " (last heard from " + w.get("lastSeenAt") + ")")
                    + "; the run goes on when the agent takes the job, or stop it with 'haven run abort " + s.runId() + "'";
            w.put("message", message);
            text.append("\nWaiting: ").append(message);
        }
        m.put("waitingOn", waits);
        m.put("text", text.toString());
        return m;
    }

    static Map<String, Object> view(Runs.Stored stored) {
        return view(stored.state());
    }

    static Map<String, Object> view(RunState s) {
        RunReport r = RunReport.from(s);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.runId());
        m.put("plan", s.plan().name());
        m.put("planVersion", s.plan().version());
        m.put("kind", s.kind().name().toLowerCase(Locale.ROOT));
        m.put("phase", s.phase().name().toLowerCase(Locale.ROOT));
        m.put("ended", s.ended());
        m.put("sourceSite", s.sourceSite());
        m.put("targetSite", s.targetSite());
        m.put("failure", s.failure());
        s.outstanding().stream().filter(Command.AskApproval.class::isInstance).map(Command.AskApproval.class::cast).findFirst()
                .ifPresent(a -> {
                    Map<String, Object> w = new LinkedHashMap<>();
                    w.put("step", a.step());
                    w.put("prompt", a.prompt());
                    w.put("deadline", a.deadline().toString());
                    m.put("waitingForApproval", w);
                });
        m.put("report", io.haven.protocol.Codec.read(RunCodec.write(r).getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.class));
        m.put("text", r.render());
        return m;
    }
}
