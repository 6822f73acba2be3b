package io.haven.runbook;

import java.util.List;

/**
 * What the cross-step rules need of a step: its kind key, its name and, for a boot step, its
 * workloads. The YAML reader makes shapes from the text even for steps it could not build, so
 * a plan with a broken step still gets its other cross-step problems reported. Fields may be
 * null where the text was unusable.
 */
record StepShape(String kind, String name, List<String> bootWorkloads) {
    static StepShape of(Step s) {
        return new StepShape(s.kind(), s.name(), s instanceof Step.BootStep b ? b.workloads() : null);
    }
}
