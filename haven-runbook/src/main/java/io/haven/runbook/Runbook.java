package io.haven.runbook;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A plan's recovery workflow: steps run one after another. Step names are unique, and no
 * workload is in two boot steps. Whether every workload of the plan is in exactly one boot step
 * is the plan's rule ({@link DrPlan}), since only the plan knows its workloads.
 */
public record Runbook(List<Step> steps) {
    /** The name of the one boot step of a default runbook. */
    public static final String DEFAULT_BOOT_STEP = "boot";

    public Runbook {
        Checks c = new Checks();
        if (c.list("", steps)) {
            check(c, "", steps.stream().map(StepShape::of).toList());
        }
        c.done();
        steps = List.copyOf(steps);
    }

    /** The runbook a new plan gets: one boot step with all its workloads. */
    public static Runbook defaultFor(List<String> workloads) {
        return new Runbook(List.of(new Step.BootStep(DEFAULT_BOOT_STEP, workloads)));
    }

    /** The boot steps, in runbook order. */
    public List<Step.BootStep> bootSteps() {
        List<Step.BootStep> out = new ArrayList<>();
        for (Step s : steps) {
            if (s instanceof Step.BootStep b) {
                out.add(b);
            }
        }
        return out;
    }

    /** The boot step that starts {@code workload}, if any. */
    public Optional<Step.BootStep> bootStepOf(String workload) {
        return bootSteps().stream().filter(b -> b.workloads().contains(workload)).findFirst();
    }

    /** The position of the step named {@code name}, or -1. */
    public int indexOf(String name) {
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    public Optional<Step> step(String name) {
        int i = indexOf(name);
        return i < 0 ? Optional.empty() : Optional.of(steps.get(i));
    }

    /**
     * The runbook's own rules on step shapes (nulls are skipped): unique names, no workload in
     * two boot steps. Paths go under {@code base}; messages name steps as {@code runbook[i]}.
     */
    static void check(Checks c, String base, List<StepShape> shapes) {
        Map<String, Integer> names = new HashMap<>();
        Map<String, Integer> owner = new HashMap<>();
        for (int i = 0; i < shapes.size(); i++) {
            StepShape s = shapes.get(i);
            if (s == null) {
                continue;
            }
            String at = base + "[" + i + "]";
            if (s.name() != null) {
                Integer first = names.putIfAbsent(s.name(), i);
                if (first != null) {
                    c.add(at + "." + s.kind(), "step name '" + s.name() + "' is taken by runbook[" + first + "]; step names are unique");
                }
            }
            if (s.bootWorkloads() == null) {
                continue;
            }
            for (int j = 0; j < s.bootWorkloads().size(); j++) {
                String w = s.bootWorkloads().get(j);
                if (w == null) {
                    continue;
                }
                Integer first = owner.putIfAbsent(w, i);
                if (first != null && first != i) {
                    c.add(at + ".workloads[" + j + "]", "workload '" + w + "' is already in boot step '" + shapes.get(first).name()
                            + "' (runbook[" + first + "]); a workload boots in exactly one step");
                }
            }
        }
    }
}
