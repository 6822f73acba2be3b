package io.haven.server.plan;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.runbook.DrPlan;
import io.haven.runbook.PlanValidationException;
import io.haven.runbook.Problem;
import io.haven.runbook.Step;
import io.haven.server.auth.Role;
import io.haven.server.http.Api;
import io.haven.server.http.Call;
import io.haven.server.http.Reply;
import io.haven.server.http.Route;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DR plans over the API: validate a plan text (problems with line, column and field), apply it
 * (a new version when it changed), list, show (any version, with its YAML), versions, delete.
 */
public final class PlanEndpoints {
    /** A plan as YAML text, and the name of the file it came from (for messages). */
    public record PlanText(String yaml, String source) {}

    private final Plans plans;
    private final Api api;

    public PlanEndpoints(Plans plans, Api api) {
        this.plans = plans;
        this.api = api;
    }

    public List<Route> routes() {
        return List.of(
                new Route("POST", "/api/v1/plans/validate", Role.VIEWER, this::validate),
                new Route("POST", "/api/v1/plans", Role.ADMIN, this::apply),
                new Route("GET", "/api/v1/plans", Role.VIEWER, c -> api.ok(Map.of("plans", plans.list().stream()
                        .map(v -> summary(v, v.plan())).toList()))),
                new Route("GET", "/api/v1/plans/{plan}", Role.VIEWER, this::show),
                new Route("POST", "/api/v1/plans/{plan}/edits", Role.ADMIN, this::edit),
                new Route("GET", "/api/v1/plans/{plan}/versions", Role.VIEWER, c -> api.ok(Map.of("versions",
                        plans.versions(c.param("plan")).stream().map(v -> {
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("version", v.version());
                            m.put("createdAt", v.createdAt().toString());
                            m.put("createdBy", v.createdBy());
                            return m;
                        }).toList()))),
                new Route("DELETE", "/api/v1/plans/{plan}", Role.ADMIN, c -> {
                    c.auditTarget("plan:" + c.param("plan"));
                    plans.delete(c.param("plan"));
                    return api.ok(Map.of("deleted", c.param("plan")));
                }));
    }

    private static String source(PlanText t) {
        return t.source() == null || t.source().isBlank() ? "plan.yaml" : t.source();
    }

    private Reply validate(Call c) throws IOException {
        PlanText t = api.read(c, PlanText.class);
        List<Problem> problems = plans.validate(Api.required(t.yaml(), "yaml"), source(t));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("valid", problems.isEmpty());
        m.put("problems", problems.stream().map(p -> problem(p, source(t))).toList());
        return api.ok(m);
    }

    private Reply apply(Call c) throws IOException {
        PlanText t = api.read(c, PlanText.class);
        try {
            Plans.Applied a = plans.apply(Api.required(t.yaml(), "yaml"), source(t), c.principal().user().username());
            c.auditTarget("plan:" + a.version().name() + " v" + a.version().version());
            Map<String, Object> m = summary(a.version(), a.version().plan());
            m.put("changed", a.changed());
            return api.reply(a.changed() ? 201 : 200, m);
        } catch (PlanValidationException e) {
            c.auditTarget("plan (invalid " + source(t) + ")");
            throw new HavenException(ErrorCode.USAGE, "the plan has " + e.problems().size() + " problem(s):\n"
                    + String.join("\n", e.problems().stream().map(p -> p.format(source(t))).toList()), e);
        }
    }

    private Reply edit(Call c) throws IOException {
        Plans.Edit e = api.read(c, Plans.Edit.class);
        c.auditTarget("plan:" + c.param("plan") + " " + e.edit());
        try {
            Plans.Applied a = plans.edit(c.param("plan"), e, c.principal().user().username());
            c.auditTarget("plan:" + a.version().name() + " v" + a.version().version() + " " + e.edit());
            Map<String, Object> m = summary(a.version(), a.version().plan());
            m.put("changed", a.changed());
            return api.reply(a.changed() ? 201 : 200, m);
        } catch (Plans.StepProblems ex) {
            throw new HavenException(ErrorCode.USAGE, "the step has " + ex.problems().size() + " problem(s):\n"
                    + String.join("\n", ex.lines()), ex);
        } catch (PlanValidationException ex) {
            throw new HavenException(ErrorCode.USAGE, "the edit leaves the plan with " + ex.problems().size() + " problem(s):\n"
                    + String.join("\n", ex.problems().stream().map(p -> p.format("plan")).toList()), ex);
        }
    }

    private Reply show(Call c) throws IOException {
        String v = c.query("version");
        Integer version = null;
        if (v != null) {
            try {
                version = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new HavenException(ErrorCode.USAGE, "version is a number, not '" + v + "'");
            }
        }
        Plans.Version pv = plans.get(c.param("plan"), version);
        Map<String, Object> m = summary(pv, pv.plan());
        m.put("yaml", pv.document());
        return api.ok(m);
    }

    static Map<String, Object> problem(Problem p, String source) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("line", p.line());
        m.put("column", p.column());
        m.put("path", p.path());
        m.put("message", p.message());
        m.put("text", p.format(source));
        return m;
    }

    static Map<String, Object> summary(Plans.Version v, DrPlan p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name());
        m.put("version", v.version());
        m.put("protectedSite", p.protectedSite());
        m.put("recoverySite", p.recoverySite());
        m.put("mode", p.mode().text());
        m.put("rpoSeconds", p.rpo().toSeconds());
        m.put("workloads", p.workloads().stream().map(w -> w.name()).toList());
        m.put("retention", p.retention().asMap());
        m.put("steps", p.runbook().steps().stream().map(PlanEndpoints::step).toList());
        m.put("updatedAt", v.createdAt().toString());
        m.put("updatedBy", v.createdBy());
        return m;
    }

    static String step(Step s) {
        return switch (s) {
            case Step.BootStep b -> "boot " + b.name() + " " + b.workloads();
            case Step.Delay d -> "delay " + d.name() + " " + d.duration().toSeconds() + "s";
            case Step.Script sc -> "script " + sc.name();
            case Step.DnsUpdate d -> "dns " + d.name();
            case Step.HttpCall h -> "http " + h.name();
            case Step.Approval a -> "approval " + a.name();
        };
    }
}
