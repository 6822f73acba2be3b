package io.haven.runbook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DR plans as YAML files (docs/runbooks.md describes the format). {@link #parse} reports every
 * problem it finds with its line, column and field path; {@link #write} writes every field,
 * defaults included, so an exported plan says everything it does. {@code parse(write(p))}
 * equals {@code p}. Thread-safe: both are pure functions of their arguments.
 */
public final class PlanYaml {
    private static final ObjectMapper OUT = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build());

    private PlanYaml() {}

    /**
     * Reads a plan from YAML text.
     *
     * @param sourceName where the text came from ({@code plan.yaml}), used in messages; may be null
     * @throws PlanValidationException with every problem found, each located in the text
     */
    public static DrPlan parse(String yaml, String sourceName) {
        List<Problem> problems = new ArrayList<>();
        YamlTree.Node root = YamlTree.parse(yaml == null ? "" : yaml, problems);
        PlanReader reader = new PlanReader();
        DrPlan plan = root == null ? null : reader.read(root);
        problems.addAll(reader.problems());
        if (!problems.isEmpty() || plan == null) {
            throw new PlanValidationException(sourceName, problems.isEmpty() ? List.of(Problem.at("", "not a DR plan")) : problems);
        }
        return plan;
    }

    /**
     * The problems of one runbook step on its own, as {@code haven plan edit --add-step} reads it
     * from a file: located in {@code yaml}, with paths inside the step ({@code timeout},
     * {@code tsig.key}). Rules that need the whole plan (a name taken, a workload in another boot
     * step) are not checked here. Empty when the step is valid alone.
     */
    public static List<Problem> validateStep(String yaml) {
        List<Problem> problems = new ArrayList<>();
        YamlTree.Node root = YamlTree.parse(yaml == null ? "" : yaml, problems);
        if (root == null) {
            if (problems.isEmpty()) {
                problems.add(Problem.at("", "is empty: a step is a mapping with one of " + String.join(", ", Step.KINDS)));
            }
            return problems;
        }
        PlanReader reader = new PlanReader();
        reader.readStep(root);
        problems.addAll(reader.problems());
        return problems;
    }

    /** The problems of a plan text, in text order; empty when it is a valid plan. */
    public static List<Problem> validate(String yaml) {
        try {
            parse(yaml, null);
            return List.of();
        } catch (PlanValidationException e) {
            return e.problems();
        }
    }

    /** The plan as YAML, every field written. */
    public static String write(DrPlan plan) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", plan.name());
        m.put("protectedSite", plan.protectedSite());
        m.put("recoverySite", plan.recoverySite());
        m.put("mode", plan.mode().text());
        m.put("rpo", d(plan.rpo()));
        if (plan.autoRollbackAfter() != null) {
            m.put("autoRollbackAfter", d(plan.autoRollbackAfter()));
        }
        m.put("version", plan.version());
        if (plan.repository() != null) {
            m.put("repository", plan.repository());
        }
        if (plan.drills() != null) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("schedule", plan.drills().schedule());
            if (plan.drills().timeZone() != null) {
                d.put("timeZone", plan.drills().timeZone());
            }
            m.put("drills", d);
        }
        if (!plan.retention().isDefault()) {
            m.put("retention", plan.retention().asMap());
        }
        m.put("workloads", plan.workloads().stream().map(PlanYaml::workload).toList());
        m.put("runbook", plan.runbook().steps().stream().map(PlanYaml::step).toList());
        try {
            return OUT.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot write plan " + plan.name() + " as YAML: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> placement(Placement p) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("host", p.host());
        r.put("volumes", p.volumes());
        if (!p.addresses().isEmpty()) {
            r.put("addresses", p.addresses());
        }
        return r;
    }

    private static Map<String, Object> workload(Workload w) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", w.name());
        m.put("driver", w.driver().text());
        m.put("recovery", placement(w.recovery()));
        if (w.protectedAt() != null) {
            m.put("protected", placement(w.protectedAt()));
        }
        if (!w.sandboxAddresses().isEmpty()) {
            m.put("sandboxAddresses", w.sandboxAddresses());
        }
        Map<String, Object> p = new LinkedHashMap<>();
        switch (w.probe()) {
            case Probe.Tcp t -> {
                p.put("tcp", t.host());
                p.put("port", t.port());
            }
            case Probe.Http h -> {
                p.put("http", h.url());
                p.put("status", h.status());
            }
            case Probe.Exec c -> p.put("command", c.command());
        }
        p.put("timeout", d(w.probe().timeout()));
        m.put("probe", p);
        if (!w.postBoot().isEmpty()) {
            m.put("postBoot", w.postBoot().stream().map(s -> {
                Map<String, Object> sm = new LinkedHashMap<>();
                sm.put("command", s.command());
                sm.put("timeout", d(s.timeout()));
                sm.put("abortOnFailure", s.abortOnFailure());
                return sm;
            }).toList());
        }
        if (!w.options().isEmpty()) {
            m.put("options", w.options());
        }
        return m;
    }

    private static Map<String, Object> step(Step s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(s.kind(), s.name());
        switch (s) {
            case Step.BootStep b -> m.put("workloads", b.workloads());
            case Step.Delay dl -> m.put("duration", d(dl.duration()));
            case Step.Script sc -> {
                m.put("where", sc.where().text());
                m.put("command", sc.command());
                m.put("timeout", d(sc.timeout()));
                m.put("abortOnFailure", sc.abortOnFailure());
                m.put("skipInDrill", sc.skipInDrill());
            }
            case Step.DnsUpdate dn -> {
                m.put("server", dn.server().toString());
                m.put("zone", dn.zone());
                m.put("record", dn.record());
                m.put("type", dn.type().name());
                m.put("ttl", dn.ttl());
                m.put("toRecovery", dn.toRecovery());
                m.put("toProtected", dn.toProtected());
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("key", dn.tsig().key());
                t.put("algorithm", dn.tsig().algorithm().text());
                t.put("secret", dn.tsig().secret());
                m.put("tsig", t);
            }
            case Step.HttpCall h -> {
                m.put("method", h.method());
                m.put("url", h.url());
                if (h.body() != null) {
                    m.put("body", h.body());
                }
                m.put("status", h.status());
                m.put("timeout", d(h.timeout()));
                m.put("abortOnFailure", h.abortOnFailure());
                m.put("skipInDrill", h.skipInDrill());
            }
            case Step.Approval a -> {
                m.put("prompt", a.prompt());
                m.put("timeout", d(a.timeout()));
                m.put("skipInDrill", a.skipInDrill());
            }
        }
        return m;
    }

    private static String d(Duration d) {
        return DurationText.format(d);
    }
}
