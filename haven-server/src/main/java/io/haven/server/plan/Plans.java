package io.haven.server.plan;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.runbook.DrPlan;
import io.haven.runbook.PlanValidationException;
import io.haven.runbook.PlanYaml;
import io.haven.runbook.Problem;
import io.haven.server.agent.Agents;
import io.haven.server.inventory.Inventory;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * DR plans as the server keeps them: every applied version of a plan's YAML, the newest in force.
 * A plan is validated twice before it is stored: by itself ({@link PlanYaml}: syntax, fields,
 * runbook shape, with line and column) and against the inventory (its sites exist; each
 * workload's recovery host is an enrolled agent at the recovery site). Applying the same plan
 * again stores nothing new. Thread-safe.
 */
public final class Plans {
    /**
     * One stored version. Its number is the version row's: {@link #plan()} and {@link #document()}
     * carry it whatever the stored text says (texts stored before versions were stamped into them
     * say 1, or what their author wrote).
     */
    public record Version(String name, int version, String yaml, Instant createdAt, String createdBy) {
        public DrPlan plan() {
            return PlanYaml.parse(yaml, name + ".yaml").withVersion(version);
        }

        /** The stored text with its {@code version:} field saying this version (what export prints). */
        public String document() {
            return stamp(yaml, version);
        }
    }

    private static final java.util.regex.Pattern VERSION_LINE = java.util.regex.Pattern.compile("(?m)^version[ \\t]*:.*$");
    private static final java.util.regex.Pattern NAME_LINE = java.util.regex.Pattern.compile("(?m)^name[ \\t]*:.*$");

    /**
     * A plan text whose {@code version:} field says {@code version}: the text itself when it already
     * does (a text without the field says 1), else the text with that one line replaced or added
     * after {@code name:}, so the author's comments and layout stay. When the text cannot be changed
     * that way (checked by reading it back), the plan as {@link PlanYaml#write} writes it. A text
     * that is not a valid plan is returned as it is.
     */
    public static String stamp(String yaml, int version) {
        DrPlan given;
        try {
            given = PlanYaml.parse(yaml, null);
        } catch (PlanValidationException e) {
            return yaml;
        }
        if (given.version() == version && VERSION_LINE.matcher(yaml).find()) {
            return yaml; // it says its version already (a plan without the line is version 1 too, but does not say so)
        }
        String line = "version: " + version;
        String out = null;
        java.util.regex.Matcher m = VERSION_LINE.matcher(yaml);
        if (m.find()) {
            out = yaml.substring(0, m.start()) + line + yaml.substring(m.end());
        } else {
            java.util.regex.Matcher n = NAME_LINE.matcher(yaml);
            if (n.find()) {
                String nl = yaml.contains("\r\n") ? "\r\n" : "\n";
                out = yaml.substring(0, n.end()) + nl + line + yaml.substring(n.end());
            }
        }
        DrPlan wanted = given.withVersion(version);
        if (out != null) {
            try {
                if (PlanYaml.parse(out, null).equals(wanted)) {
                    return out;
                }
            } catch (PlanValidationException e) {
                // written out below
            }
        }
        return PlanYaml.write(wanted);
    }

    /** What an apply did. */
    public record Applied(Version version, boolean changed) {}

    /** A plan in force, parsed, and when that version was applied. */
    public record Current(DrPlan plan, Instant appliedAt) {}

    // parsed plans by name, version and time of apply: the DR loops read every plan every second
    private final java.util.Map<String, Current> parsed = new java.util.concurrent.ConcurrentHashMap<>();

    private final Jdbi jdbi;
    private final Inventory inventory;
    private final Agents agents;
    private final InstantSource clock;

    public Plans(Jdbi jdbi, Inventory inventory, Agents agents, InstantSource clock) {
        this.jdbi = jdbi;
        this.inventory = inventory;
        this.agents = agents;
        this.clock = clock;
    }

    /** Every problem of a plan text: its own, then (when it parses) the inventory's. */
    public List<Problem> validate(String yaml, String source) {
        List<Problem> own = PlanYaml.validate(yaml);
        if (!own.isEmpty()) {
            return own;
        }
        return againstInventory(PlanYaml.parse(yaml, source));
    }

    List<Problem> againstInventory(DrPlan p) {
        List<Problem> out = new ArrayList<>();
        if (inventory.findSite(p.protectedSite()).isEmpty()) {
            out.add(Problem.at("protectedSite", "no site named '" + p.protectedSite() + "' (haven site create " + p.protectedSite() + ")"));
        }
        if (inventory.findSite(p.recoverySite()).isEmpty()) {
            out.add(Problem.at("recoverySite", "no site named '" + p.recoverySite() + "' (haven site create " + p.recoverySite() + ")"));
        }
        List<Agents.Agent> all = agents.list();
        for (int i = 0; i < p.workloads().size(); i++) {
            var w = p.workloads().get(i);
            host(out, all, "workloads[" + i + "].recovery.host", w.recovery().host(), p.recoverySite(), "recovery");
            if (w.protectedAt() != null) {
                host(out, all, "workloads[" + i + "].protected.host", w.protectedAt().host(), p.protectedSite(), "protected");
            }
        }
        if (p.drills() != null) {
            try {
                io.haven.server.schedule.Schedule.parse(p.drills().schedule(), p.drills().zone());
            } catch (io.haven.core.HavenException e) {
                out.add(Problem.at("drills.schedule", e.getMessage()));
            }
        }
        if (p.repository() != null && inventory.findRepository(p.repository()).isEmpty()) {
            out.add(Problem.at("repository", "no repository named '" + p.repository() + "'"));
        }
        return out;
    }

    private static void host(List<Problem> out, List<Agents.Agent> all, String field, String host, String site, String which) {
        Optional<Agents.Agent> a = all.stream().filter(x -> x.name().equals(host)).findFirst();
        if (a.isEmpty()) {
            out.add(Problem.at(field, "no enrolled agent named '" + host + "'"));
        } else if (!site.equals(a.get().site())) {
            out.add(Problem.at(field, "agent '" + host + "' is at site " + (a.get().site() == null ? "(none)" : "'" + a.get().site() + "'")
                    + ", not the " + which + " site '" + site + "'"));
        } else if (a.get().state() != Agents.State.ACTIVE) {
            out.add(Problem.at(field, "agent '" + host + "' is " + a.get().state().label()));
        }
    }

    /**
     * Stores a plan: a new plan at version 1, or the next version of an existing one when its text
     * changed.
     *
     * @throws PlanValidationException with every problem found
     */
    public Applied apply(String yaml, String source, String by) {
        List<Problem> problems = validate(yaml, source);
        if (!problems.isEmpty()) {
            throw new PlanValidationException(source, problems);
        }
        DrPlan plan = PlanYaml.parse(yaml, source);
        long now = clock.millis();
        return jdbi.inTransaction(h -> {
            Optional<long[]> row = h.createQuery("SELECT id, version FROM dr_plans WHERE name = :n").bind("n", plan.name())
                    .map((rs, c) -> new long[] {rs.getLong("id"), rs.getLong("version")}).findOne();
            if (row.isPresent()) {
                long id = row.get()[0];
                int current = (int) row.get()[1];
                String old = h.createQuery("SELECT yaml FROM dr_plan_versions WHERE plan_id = :p AND version = :v").bind("p", id)
                        .bind("v", current).mapTo(String.class).one();
                // the version field is the server's: a text that differs from the newest only there
                // (an exported older version, say) changes nothing
                if (old.equals(yaml) || stamp(old, current).equals(stamp(yaml, current))) {
                    return new Applied(version(plan.name(), current).orElseThrow(), false);
                }
                int next = current + 1;
                if (h.createUpdate("UPDATE dr_plans SET version = :next, updated_at = :now WHERE id = :id AND version = :cur")
                        .bind("next", next).bind("now", now).bind("id", id).bind("cur", current).execute() != 1) {
                    throw new HavenException(ErrorCode.CONFLICT, "plan '" + plan.name() + "' changed meanwhile; apply again");
                }
                String stored = stamp(yaml, next);
                insertVersion(h, id, next, stored, now, by);
                return new Applied(new Version(plan.name(), next, stored, Instant.ofEpochMilli(now), by), true);
            }
            long id = h.createUpdate("INSERT INTO dr_plans (name, version, created_at, updated_at) VALUES (:n, 1, :now, :now)")
                    .bind("n", plan.name()).bind("now", now).executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
            String stored = stamp(yaml, 1);
            insertVersion(h, id, 1, stored, now, by);
            return new Applied(new Version(plan.name(), 1, stored, Instant.ofEpochMilli(now), by), true);
        });
    }

    private static void insertVersion(org.jdbi.v3.core.Handle h, long id, int version, String yaml, long now, String by) {
        h.createUpdate("INSERT INTO dr_plan_versions (plan_id, version, yaml, created_at, created_by) VALUES (:p, :v, :y, :now, :by)")
                .bind("p", id).bind("v", version).bind("y", yaml).bind("now", now).bind("by", by).execute();
    }

    /**
     * One change to a stored plan, as the API takes it. {@code edit} is one of {@code add-step}
     * ({@code definition}: the step as in the plan file's runbook, {@code position}: 0 for first,
     * default last), {@code remove-step}, {@code move-step} ({@code step}, {@code position}),
     * {@code rename-step} ({@code step}, {@code name}), {@code move-workload} ({@code workload},
     * {@code to}: a boot step), {@code remove-workload}, {@code rename-workload} ({@code workload},
     * {@code name}). An added step may come as text instead ({@code definitionYaml}, from the file
     * {@code source}), as {@code haven plan edit --add-step FILE} sends it, so that its problems
     * are reported at that file's lines.
     */
    public record Edit(String edit, String step, Integer position, String name, String workload, String to,
            java.util.Map<String, Object> definition, String definitionYaml, String source) {}

    /**
     * Applies one edit to the newest version and stores the result as the next version, after the
     * same validation as {@link #apply}. The stored text is the plan written out by
     * {@link PlanYaml#write} (comments of the original file are not kept).
     */
    public Applied edit(String name, Edit e, String by) {
        DrPlan plan = get(name, null).plan();
        String yaml = switch (e.edit() == null ? "" : e.edit()) {
            case "add-step" -> addStep(plan, e);
            case "remove-step" -> PlanYaml.write(new io.haven.runbook.PlanEdit.RemoveStep(need(e.step(), "step")).applyTo(plan));
            case "move-step" -> PlanYaml.write(new io.haven.runbook.PlanEdit.MoveStep(need(e.step(), "step"),
                    needInt(e.position(), "position")).applyTo(plan));
            case "rename-step" -> PlanYaml.write(new io.haven.runbook.PlanEdit.RenameStep(need(e.step(), "step"), need(e.name(), "name"))
                    .applyTo(plan));
            case "move-workload" -> PlanYaml.write(new io.haven.runbook.PlanEdit.MoveWorkload(need(e.workload(), "workload"),
                    need(e.to(), "to")).applyTo(plan));
            case "remove-workload" -> PlanYaml.write(new io.haven.runbook.PlanEdit.RemoveWorkload(need(e.workload(), "workload"))
                    .applyTo(plan));
            case "rename-workload" -> PlanYaml.write(new io.haven.runbook.PlanEdit.RenameWorkload(need(e.workload(), "workload"),
                    need(e.name(), "name")).applyTo(plan));
            default -> throw new HavenException(ErrorCode.USAGE, "'edit' is one of add-step, remove-step, move-step, rename-step, "
                    + "move-workload, remove-workload, rename-workload; not '" + e.edit() + "'");
        };
        try {
            return apply(yaml, name + ".yaml", by);
        } catch (PlanValidationException ex) {
            // the text is the server's own rewrite of the plan, which nobody has seen: its lines mean nothing to the
            // operator, the paths (runbook[2].workloads[0]) do
            throw new PlanValidationException(null, ex.problems().stream().map(p -> Problem.at(p.path(), p.message())).toList());
        }
    }

    /**
     * The added step's own problems (a bad duration, an unknown field), found before it is put in
     * the plan: at the lines of the operator's step file when it came as text, else by path only.
     */
    private static void checkStepAlone(Edit e, boolean asText, com.fasterxml.jackson.databind.ObjectMapper yaml) throws java.io.IOException {
        List<Problem> found = PlanYaml.validateStep(asText ? e.definitionYaml() : yaml.writeValueAsString(e.definition()));
        if (found.isEmpty()) {
            return;
        }
        if (asText) {
            throw new StepProblems(e.source() == null || e.source().isBlank() ? "step" : e.source(), found);
        }
        // lines of the server's own rendering of the JSON would mean nothing: by path only
        throw new StepProblems(null, found.stream().map(p -> Problem.at(p.path(), p.message())).toList());
    }

    /** The step given to add-step is not valid on its own; the source is its file's name (null: it came as JSON). */
    public static final class StepProblems extends PlanValidationException {
        StepProblems(String source, List<Problem> problems) {
            super(source, problems);
        }
    }

    private static String addStep(DrPlan plan, Edit e) {
        boolean asText = e.definitionYaml() != null && !e.definitionYaml().isBlank();
        if (!asText && (e.definition() == null || e.definition().isEmpty())) {
            throw new HavenException(ErrorCode.USAGE, "add-step needs 'definition' (or 'definitionYaml'): the step as in the plan "
                    + "file's runbook");
        }
        try {
            com.fasterxml.jackson.databind.ObjectMapper yaml = new com.fasterxml.jackson.databind.ObjectMapper(
                    new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
            checkStepAlone(e, asText, yaml);
            com.fasterxml.jackson.databind.JsonNode step = asText ? yaml.readTree(e.definitionYaml()) : yaml.valueToTree(e.definition());
            com.fasterxml.jackson.databind.node.ObjectNode tree = (com.fasterxml.jackson.databind.node.ObjectNode) yaml.readTree(PlanYaml.write(plan));
            com.fasterxml.jackson.databind.node.ArrayNode runbook = (com.fasterxml.jackson.databind.node.ArrayNode) tree.get("runbook");
            int at = e.position() == null ? runbook.size() : e.position();
            if (at < 0 || at > runbook.size()) {
                throw new HavenException(ErrorCode.USAGE, "position must be 0.." + runbook.size() + ", not " + at);
            }
            runbook.insert(at, step);
            return yaml.writeValueAsString(tree);
        } catch (java.io.IOException ex) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot rewrite the plan: " + ex.getMessage(), ex);
        }
    }

    private static String need(String v, String field) {
        if (v == null || v.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "this edit needs '" + field + "'");
        }
        return v;
    }

    private static int needInt(Integer v, String field) {
        if (v == null) {
            throw new HavenException(ErrorCode.USAGE, "this edit needs '" + field + "'");
        }
        return v;
    }

    /**
     * Every plan's newest version, parsed (each version once). A stored version this server can no
     * longer read (written by another Haven version) is left out, so that it does not stop the
     * others' replication; {@code haven plan show} reports its problem.
     */
    public List<Current> current() {
        List<Current> out = new ArrayList<>();
        for (Version v : list()) {
            try {
                out.add(parsed.computeIfAbsent(v.name() + "@" + v.version() + "@" + v.createdAt().toEpochMilli(),
                        k -> new Current(v.plan(), v.createdAt())));
            } catch (PlanValidationException e) {
                // left out, as said above
            }
        }
        return out;
    }

    public List<Version> list() {
        return jdbi.withHandle(h -> h.createQuery("SELECT p.name, v.* FROM dr_plans p JOIN dr_plan_versions v ON v.plan_id = p.id "
                + "AND v.version = p.version ORDER BY p.name").map((rs, c) -> row(rs)).list());
    }

    /** A plan's newest version, or the one asked for; NOT_FOUND otherwise. */
    public Version get(String name, Integer version) {
        Optional<Version> v = version == null ? jdbi.withHandle(h -> h.createQuery("SELECT p.name, v.* FROM dr_plans p JOIN dr_plan_versions v "
                + "ON v.plan_id = p.id AND v.version = p.version WHERE p.name = :n").bind("n", name).map((rs, c) -> row(rs)).findOne())
                : version(name, version);
        return v.orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no plan named '" + name + "'"
                + (version == null ? "" : " with version " + version)));
    }

    private Optional<Version> version(String name, int version) {
        return jdbi.withHandle(h -> h.createQuery("SELECT p.name, v.* FROM dr_plans p JOIN dr_plan_versions v ON v.plan_id = p.id "
                + "WHERE p.name = :n AND v.version = :v").bind("n", name).bind("v", version).map((rs, c) -> row(rs)).findOne());
    }

    /** Every version of a plan, newest first. */
    public List<Version> versions(String name) {
        List<Version> out = jdbi.withHandle(h -> h.createQuery("SELECT p.name, v.* FROM dr_plans p JOIN dr_plan_versions v ON v.plan_id = p.id "
                + "WHERE p.name = :n ORDER BY v.version DESC").bind("n", name).map((rs, c) -> row(rs)).list());
        if (out.isEmpty()) {
            throw new HavenException(ErrorCode.NOT_FOUND, "no plan named '" + name + "'");
        }
        return out;
    }

    /** Deletes a plan with all its versions. */
    public void delete(String name) {
        DrPlan plan = get(name, null).plan();
        jdbi.useTransaction(h -> {
            // a plan in the middle of things keeps its history: its runs, fences and active site refer to it
            Optional<String> open = h.createQuery("SELECT id FROM dr_runs WHERE plan_name = :p AND ended = FALSE").bind("p", name)
                    .mapTo(String.class).findFirst();
            if (open.isPresent()) {
                throw new HavenException(ErrorCode.CONFLICT, "plan " + name + " has run " + open.get() + " open; commit, roll back, "
                        + "or abort it (haven run show " + open.get() + ") before deleting the plan");
            }
            Optional<String> active = h.createQuery("SELECT active_site FROM dr_plan_state WHERE plan_name = :p").bind("p", name)
                    .mapTo(String.class).findOne();
            if (active.isPresent() && !active.get().equals(plan.protectedSite())) {
                throw new HavenException(ErrorCode.CONFLICT, "plan " + name + " runs at its recovery site " + active.get()
                        + " since a committed failover; bring it home with a failback before deleting the plan");
            }
            List<String> fenced = h.createQuery("SELECT site_name FROM dr_fences WHERE plan_name = :p").bind("p", name)
                    .mapTo(String.class).list();
            if (!fenced.isEmpty()) {
                throw new HavenException(ErrorCode.CONFLICT, "plan " + name + " still fences site(s) " + String.join(", ", fenced)
                        + "; roll back or fail back first, so that the fence is lifted, before deleting the plan");
            }
            long id = h.createQuery("SELECT id FROM dr_plans WHERE name = :n").bind("n", name).mapTo(Long.class).one();
            h.createUpdate("DELETE FROM dr_plan_versions WHERE plan_id = :p").bind("p", id).execute();
            h.createUpdate("DELETE FROM dr_plans WHERE id = :p").bind("p", id).execute();
        });
    }

    private static Version row(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new Version(rs.getString("name"), rs.getInt("version"), rs.getString("yaml"), Instant.ofEpochMilli(rs.getLong("created_at")),
                rs.getString("created_by"));
    }
}
