package io.haven.runbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanEditTest {
    static void assertRefused(DrPlan plan, PlanEdit edit, ErrorCode code, String... fragments) {
        assertThatThrownBy(() -> edit.applyTo(plan))
                .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(code))
                .message().contains(fragments);
    }

    static List<String> stepNames(DrPlan plan) {
        return plan.runbook().steps().stream().map(Step::name).toList();
    }

    @Test
    void aNewPlanHasOneBootStepWithAllWorkloads() {
        DrPlan plan = Plans.small();
        assertThat(plan.version()).isEqualTo(1);
        assertThat(plan.runbook().steps()).containsExactly(new Step.BootStep("boot", List.of("a", "b", "c")));
    }

    @Test
    void everyEditMakesANewVersionAndLeavesTheOldPlanAlone() {
        DrPlan v1 = Plans.small();
        DrPlan v2 = new PlanEdit.AddStep(1, new Step.Delay("wait", Duration.ofSeconds(30))).applyTo(v1);
        assertThat(v2.version()).isEqualTo(2);
        assertThat(stepNames(v2)).containsExactly("boot", "wait");
        assertThat(stepNames(v1)).containsExactly("boot");
        assertThat(new PlanEdit.RenameStep("wait", "settle").applyTo(v2).version()).isEqualTo(3);
    }

    @Test
    void workloadsAreSplitIntoOrderedBootStepsByAddingEmptyBootStepsAndMovingWorkloads() {
        DrPlan plan = Plans.small();
        plan = new PlanEdit.AddStep(1, new Step.BootStep("second", List.of())).applyTo(plan);
        plan = new PlanEdit.AddStep(2, new Step.BootStep("third", List.of())).applyTo(plan);
        plan = new PlanEdit.MoveWorkload("b", "second").applyTo(plan);
        plan = new PlanEdit.MoveWorkload("c", "third").applyTo(plan);
        plan = new PlanEdit.RenameStep("boot", "first").applyTo(plan);
        assertThat(plan.runbook().bootSteps()).containsExactly(
                new Step.BootStep("first", List.of("a")), new Step.BootStep("second", List.of("b")), new Step.BootStep("third", List.of("c")));
        assertThat(plan.version()).isEqualTo(6);
    }

    @Test
    void aBootStepThatStillHoldsWorkloadsCannotBeRemoved() {
        DrPlan plan = new PlanEdit.AddStep(1, new Step.BootStep("later", List.of())).applyTo(Plans.small());
        plan = new PlanEdit.MoveWorkload("c", "later").applyTo(plan);
        assertRefused(plan, new PlanEdit.RemoveStep("later"), ErrorCode.CONFLICT,
                "boot step 'later' still holds c: move them to another boot step first");
        DrPlan emptied = new PlanEdit.MoveWorkload("c", "boot").applyTo(plan);
        assertThat(stepNames(new PlanEdit.RemoveStep("later").applyTo(emptied))).containsExactly("boot");
    }

    @Test
    void theLastBootStepCannotBeRemovedEvenWhenEmpty() {
        DrPlan plan = new PlanEdit.AddStep(0, new Step.BootStep("empty", List.of())).applyTo(Plans.small());
        DrPlan removed = new PlanEdit.RemoveStep("empty").applyTo(plan);
        assertThat(stepNames(removed)).containsExactly("boot");
    }

    @Test
    void otherStepsAreRemovedFreely() {
        DrPlan plan = Plans.shop();
        DrPlan after = new PlanEdit.RemoveStep("cut-over").applyTo(plan);
        assertThat(stepNames(after)).doesNotContain("cut-over").hasSize(plan.runbook().steps().size() - 1);
    }

    @Test
    void stepsAreReorderedByMovingOneToAPosition() {
        DrPlan plan = Plans.shop();
        assertThat(stepNames(new PlanEdit.MoveStep("point-www", 0).applyTo(plan))).startsWith("point-www", "database");
        assertThat(stepNames(new PlanEdit.MoveStep("database", 7).applyTo(plan))).endsWith("notify-team", "database");
        assertRefused(plan, new PlanEdit.MoveStep("database", 8), ErrorCode.USAGE, "position 8 (step 9) is outside the runbook of plan shop: use 0..7 (steps 1..8)");
    }

    @Test
    void renamingAWorkloadCarriesTheNewNameIntoItsBootStep() {
        DrPlan plan = Plans.shop();
        Workload db = plan.workload("db").orElseThrow();
        DrPlan after = new PlanEdit.ReplaceWorkload("db", db.withName("pg")).applyTo(plan);
        assertThat(after.runbook().bootStepOf("pg").orElseThrow().name()).isEqualTo("database");
        assertThat(after.runbook().bootStepOf("db")).isEmpty();
    }

    @Test
    void renamingAWorkloadByNameKeepsItsSettings() {
        DrPlan plan = new PlanEdit.RenameWorkload("web", "front-end").applyTo(Plans.shop());
        assertThat(plan.workloadNames()).containsExactly("db", "app", "front-end");
        assertThat(plan.workload("front-end").orElseThrow().probe()).isEqualTo(Plans.shop().workload("web").orElseThrow().probe());
        assertThat(plan.runbook().bootStepOf("front-end").orElseThrow().name()).isEqualTo("front");
        assertThat(plan.version()).isEqualTo(2);
    }

    @Test
    void aBadNewNameIsReportedAtItsPlaceInThePlan() {
        assertThatThrownBy(() -> new PlanEdit.RenameStep("front", "web tier").applyTo(Plans.shop()))
                .isInstanceOfSatisfying(PlanValidationException.class, e -> assertThat(e.lines()).containsExactly(
                        "runbook[4].boot: must be 1-64 letters, digits, '.', '_' or '-', not \"web tier\""));
        assertThatThrownBy(() -> new PlanEdit.RenameWorkload("web", "").applyTo(Plans.shop()))
                .isInstanceOfSatisfying(PlanValidationException.class, e -> assertThat(e.lines()).containsExactly(
                        "workloads[2].name: must be 1-64 letters, digits, '.', '_' or '-', not \"\""));
    }

    @Test
    void editsAreJsonValuesForTheApi() {
        PlanEdit edit = new PlanEdit.MoveWorkload("db", "front");
        String json = io.haven.runbook.run.RunCodec.write(edit);
        assertThat(json).isEqualTo("{\"edit\":\"move-workload\",\"workload\":\"db\",\"toBootStep\":\"front\"}");
        assertThat(io.haven.runbook.run.RunCodec.read(json, PlanEdit.class)).isEqualTo(edit);
    }

    @Test
    void workloadsAreAddedIntoABootStepAndRemovedFromIt() {
        DrPlan plan = new PlanEdit.AddWorkload(Plans.workload("d", "dr-4", "10.0.0.4"), "boot").applyTo(Plans.small());
        assertThat(plan.runbook().bootSteps().get(0).workloads()).containsExactly("a", "b", "c", "d");
        plan = new PlanEdit.RemoveWorkload("a").applyTo(plan);
        assertThat(plan.workloadNames()).containsExactly("b", "c", "d");
        assertThat(plan.runbook().bootSteps().get(0).workloads()).containsExactly("b", "c", "d");
    }

    @Test
    void editsThatBreakAPlanRuleAreRefusedWithTheProblem() {
        DrPlan plan = Plans.small();
        assertThatThrownBy(() -> new PlanEdit.AddStep(1, new Step.BootStep("again", List.of("a"))).applyTo(plan))
                .isInstanceOfSatisfying(PlanValidationException.class, e -> assertThat(e.problems()).containsExactly(Problem.at(
                        "runbook[1].workloads[0]", "workload 'a' is already in boot step 'boot' (runbook[0]); a workload boots in exactly one step")));
        assertThatThrownBy(() -> new PlanEdit.AddStep(0, new Step.BootStep("ghost", List.of("z"))).applyTo(plan))
                .isInstanceOf(PlanValidationException.class).hasMessageContaining("no workload named 'z' in this plan");
    }

    @Test
    void unknownNamesPositionsAndTakenNamesAreClearErrors() {
        DrPlan plan = Plans.shop();
        assertRefused(plan, new PlanEdit.RemoveStep("nope"), ErrorCode.NOT_FOUND, "plan shop has no step named 'nope' (steps: database,");
        assertRefused(plan, new PlanEdit.MoveWorkload("nope", "front"), ErrorCode.NOT_FOUND, "no workload named 'nope' (workloads: db, app, web)");
        assertRefused(plan, new PlanEdit.MoveWorkload("db", "cut-over"), ErrorCode.USAGE, "step 'cut-over' of plan shop is a approval step");
        assertRefused(plan, new PlanEdit.RenameStep("front", "database"), ErrorCode.USAGE, "already has a step named 'database'");
        assertRefused(plan, new PlanEdit.AddStep(9, new Step.Delay("d", Duration.ofSeconds(5))), ErrorCode.USAGE, "use 0..8 (steps 1..9; the last appends)");
        assertRefused(Plans.small().withWorkloads(List.of(Plans.workload("a", "h", "10.0.0.1")), Runbook.defaultFor(List.of("a"))),
                new PlanEdit.RemoveWorkload("a"), ErrorCode.CONFLICT, "the last workload of plan small");
    }
}
