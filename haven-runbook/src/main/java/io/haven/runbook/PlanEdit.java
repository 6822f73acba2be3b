package io.haven.runbook;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.ArrayList;
import java.util.List;

/**
 * One change to a plan. {@link #applyTo} is pure: it returns a new plan with {@code version + 1},
 * validated like any plan, and leaves the given one alone. Edits are values, so the server can
 * take them as JSON, audit them, and apply them to the version the operator saw.
 *
 * <p>Failures: an unknown step or workload name is {@link ErrorCode#NOT_FOUND}; a position out of
 * range or a name already taken is {@link ErrorCode#USAGE}; removing a boot step that still holds
 * workloads (or the last boot step) is {@link ErrorCode#CONFLICT}; a result that breaks a plan rule
 * throws {@link PlanValidationException}. The message says what to do instead.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "edit")
@JsonSubTypes({
    @JsonSubTypes.Type(value = PlanEdit.AddStep.class, name = "add-step"),
    @JsonSubTypes.Type(value = PlanEdit.RemoveStep.class, name = "remove-step"),
    @JsonSubTypes.Type(value = PlanEdit.MoveStep.class, name = "move-step"),
    @JsonSubTypes.Type(value = PlanEdit.ReplaceStep.class, name = "replace-step"),
    @JsonSubTypes.Type(value = PlanEdit.RenameStep.class, name = "rename-step"),
    @JsonSubTypes.Type(value = PlanEdit.MoveWorkload.class, name = "move-workload"),
    @JsonSubTypes.Type(value = PlanEdit.AddWorkload.class, name = "add-workload"),
    @JsonSubTypes.Type(value = PlanEdit.RemoveWorkload.class, name = "remove-workload"),
    @JsonSubTypes.Type(value = PlanEdit.RenameWorkload.class, name = "rename-workload"),
    @JsonSubTypes.Type(value = PlanEdit.ReplaceWorkload.class, name = "replace-workload")})
public sealed interface PlanEdit {
    /** Inserts {@code step} so that it becomes step number {@code position} (0 = first; the step count appends). */
    record AddStep(int position, Step step) implements PlanEdit {}

    /** Removes a step. A boot step must be empty first (move its workloads to other boot steps). */
    record RemoveStep(String step) implements PlanEdit {}

    /** Moves a step so that it becomes step number {@code position} (0 = first). */
    record MoveStep(String step, int position) implements PlanEdit {}

    /** Replaces a step's settings (and possibly its name) in place. */
    record ReplaceStep(String step, Step replacement) implements PlanEdit {}

    /** Renames a step. */
    record RenameStep(String step, String newName) implements PlanEdit {}

    /** Moves a workload from its boot step to the end of boot step {@code toBootStep}. */
    record MoveWorkload(String workload, String toBootStep) implements PlanEdit {}

    /** Adds a workload to the plan, at the end of boot step {@code bootStep}. */
    record AddWorkload(Workload workload, String bootStep) implements PlanEdit {}

    /** Removes a workload from the plan and from its boot step (the step stays, possibly empty). */
    record RemoveWorkload(String workload) implements PlanEdit {}

    /** Renames a workload; its boot step follows. */
    record RenameWorkload(String workload, String newName) implements PlanEdit {}

    /** Replaces a workload's settings; a new name is carried into its boot step. */
    record ReplaceWorkload(String workload, Workload replacement) implements PlanEdit {}

    /**
     * The plan after this edit, with {@code version + 1}.
     *
     * @throws HavenException as the interface describes
     */
    default DrPlan applyTo(DrPlan plan) {
        List<Step> steps = new ArrayList<>(plan.runbook().steps());
        List<Workload> workloads = new ArrayList<>(plan.workloads());
        switch (this) {
            case AddStep a -> {
                if (a.step() == null) {
                    throw new HavenException(ErrorCode.USAGE, "add-step needs a step");
                }
                if (a.position() < 0 || a.position() > steps.size()) {
                    // the API counts positions from 0, the CLI and reports number steps from 1: the message gives both
                    throw new HavenException(ErrorCode.USAGE, "position " + a.position() + " (step " + (a.position() + 1)
                            + ") is outside the runbook of plan " + plan.name() + ": use 0.." + steps.size() + " (steps 1.." + (steps.size() + 1)
                            + "; the last appends)");
                }
                if (plan.runbook().indexOf(a.step().name()) >= 0) {
                    throw new HavenException(ErrorCode.USAGE, "plan " + plan.name() + " already has a step named '" + a.step().name()
                            + "'; step names are unique");
                }
                steps.add(a.position(), a.step());
            }
            case RemoveStep r -> {
                int i = stepIndex(plan, r.step());
                if (steps.get(i) instanceof Step.BootStep b) {
                    if (!b.workloads().isEmpty()) {
                        throw new HavenException(ErrorCode.CONFLICT, "boot step '" + b.name() + "' still holds " + String.join(", ", b.workloads())
                                + ": move them to another boot step first, then remove it");
                    }
                    if (plan.runbook().bootSteps().size() == 1) {
                        throw new HavenException(ErrorCode.CONFLICT, "boot step '" + b.name() + "' is the last boot step of plan " + plan.name()
                                + "; a runbook keeps at least one");
                    }
                }
                steps.remove(i);
            }
            case MoveStep m -> {
                int i = stepIndex(plan, m.step());
                if (m.position() < 0 || m.position() >= steps.size()) {
                    throw new HavenException(ErrorCode.USAGE, "position " + m.position() + " (step " + (m.position() + 1)
                            + ") is outside the runbook of plan " + plan.name() + ": use 0.." + (steps.size() - 1) + " (steps 1.." + steps.size() + ")");
                }
                steps.add(m.position(), steps.remove(i));
            }
            case ReplaceStep r -> {
                int i = stepIndex(plan, r.step());
                if (r.replacement() == null) {
                    throw new HavenException(ErrorCode.USAGE, "replace-step needs the new step");
                }
                int other = plan.runbook().indexOf(r.replacement().name());
                if (other >= 0 && other != i) {
                    throw new HavenException(ErrorCode.USAGE, "plan " + plan.name() + " already has a step named '" + r.replacement().name() + "'");
                }
                steps.set(i, r.replacement());
            }
            case RenameStep r -> {
                int i = stepIndex(plan, r.step());
                if (plan.runbook().indexOf(r.newName()) >= 0 && !r.newName().equals(r.step())) {
                    throw new HavenException(ErrorCode.USAGE, "plan " + plan.name() + " already has a step named '" + r.newName() + "'");
                }
                try {
                    steps.set(i, steps.get(i).withName(r.newName()));
                } catch (PlanValidationException e) {
                    throw rebased("runbook[" + i + "]", e);
                }
            }
            case RenameWorkload r -> {
                int i = workloadIndex(plan, r.workload());
                return new ReplaceWorkload(r.workload(), renamed(plan.workloads().get(i), i, r.newName())).applyTo(plan);
            }
            case MoveWorkload m -> {
                workloadIndex(plan, m.workload());
                int to = bootStepIndex(plan, m.toBootStep());
                remove(steps, m.workload());
                add(steps, to, m.workload());
            }
            case AddWorkload a -> {
                if (a.workload() == null) {
                    throw new HavenException(ErrorCode.USAGE, "add-workload needs a workload");
                }
                if (plan.workload(a.workload().name()).isPresent()) {
                    throw new HavenException(ErrorCode.USAGE, "plan " + plan.name() + " already has a workload named '" + a.workload().name() + "'");
                }
                int to = bootStepIndex(plan, a.bootStep());
                workloads.add(a.workload());
                add(steps, to, a.workload().name());
            }
            case RemoveWorkload r -> {
                workloads.remove(workloadIndex(plan, r.workload()));
                if (workloads.isEmpty()) {
                    throw new HavenException(ErrorCode.CONFLICT, "'" + r.workload() + "' is the last workload of plan " + plan.name()
                            + "; a plan protects at least one (delete the plan instead)");
                }
                remove(steps, r.workload());
            }
            case ReplaceWorkload r -> {
                int i = workloadIndex(plan, r.workload());
                if (r.replacement() == null) {
                    throw new HavenException(ErrorCode.USAGE, "replace-workload needs the new workload");
                }
                String newName = r.replacement().name();
                if (!newName.equals(r.workload()) && plan.workload(newName).isPresent()) {
                    throw new HavenException(ErrorCode.USAGE, "plan " + plan.name() + " already has a workload named '" + newName + "'");
                }
                workloads.set(i, r.replacement());
                for (int s = 0; s < steps.size(); s++) {
                    if (steps.get(s) instanceof Step.BootStep b && b.workloads().contains(r.workload())) {
                        List<String> names = new ArrayList<>(b.workloads());
                        names.set(names.indexOf(r.workload()), newName);
                        steps.set(s, new Step.BootStep(b.name(), names));
                    }
                }
            }
        }
        Runbook runbook;
        try {
            runbook = new Runbook(steps);
        } catch (PlanValidationException e) {
            throw rebased("runbook", e);
        }
        return new DrPlan(plan.name(), plan.protectedSite(), plan.recoverySite(), plan.mode(), plan.rpo(), workloads, runbook,
                plan.autoRollbackAfter(), plan.version() + 1, plan.repository(),
                plan.drills(), plan.retention());
    }

    /** The problems of {@code e} placed under {@code base}. */
    private static PlanValidationException rebased(String base, PlanValidationException e) {
        Checks c = new Checks();
        c.addAll(base, e.problems());
        return new PlanValidationException(null, c.problems());
    }

    private static Workload renamed(Workload w, int index, String newName) {
        try {
            return w.withName(newName);
        } catch (PlanValidationException e) {
            throw rebased("workloads[" + index + "]", e);
        }
    }

    private static int stepIndex(DrPlan plan, String name) {
        int i = plan.runbook().indexOf(name);
        if (i < 0) {
            throw new HavenException(ErrorCode.NOT_FOUND, "plan " + plan.name() + " has no step named '" + name + "' (steps: "
                    + String.join(", ", plan.runbook().steps().stream().map(Step::name).toList()) + ")");
        }
        return i;
    }

    private static int bootStepIndex(DrPlan plan, String name) {
        int i = stepIndex(plan, name);
        if (!(plan.runbook().steps().get(i) instanceof Step.BootStep)) {
            throw new HavenException(ErrorCode.USAGE, "step '" + name + "' of plan " + plan.name() + " is a "
                    + plan.runbook().steps().get(i).kind() + " step; workloads go into boot steps");
        }
        return i;
    }

    private static int workloadIndex(DrPlan plan, String name) {
        List<String> names = plan.workloadNames();
        int i = names.indexOf(name);
        if (i < 0) {
            throw new HavenException(ErrorCode.NOT_FOUND, "plan " + plan.name() + " has no workload named '" + name + "' (workloads: "
                    + String.join(", ", names) + ")");
        }
        return i;
    }

    private static void remove(List<Step> steps, String workload) {
        for (int s = 0; s < steps.size(); s++) {
            if (steps.get(s) instanceof Step.BootStep b && b.workloads().contains(workload)) {
                List<String> names = new ArrayList<>(b.workloads());
                names.remove(workload);
                steps.set(s, new Step.BootStep(b.name(), names));
            }
        }
    }

    private static void add(List<Step> steps, int index, String workload) {
        Step.BootStep b = (Step.BootStep) steps.get(index);
        List<String> names = new ArrayList<>(b.workloads());
        names.add(workload);
        steps.set(index, new Step.BootStep(b.name(), names));
    }
}
