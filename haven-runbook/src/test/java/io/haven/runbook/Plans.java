package io.haven.runbook;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** Plans for tests: the three-tier example of docs/runbooks.md, as text and as a model. */
public final class Plans {
    private Plans() {}

    /** The example plan file (src/test/resources/shop-plan.yaml), the same text docs/runbooks.md shows. */
    public static String shopYaml() {
        try (InputStream in = Plans.class.getResourceAsStream("/shop-plan.yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static DrPlan shop() {
        return PlanYaml.parse(shopYaml(), "shop-plan.yaml");
    }

    public static Workload workload(String name, String host, String address) {
        return new Workload(name, Driver.PROCESS, new Placement(host, List.of("/srv/" + name), List.of(address)),
                new Probe.Tcp(address, 8080, Duration.ofMinutes(1)));
    }

    /** Three workloads a, b, c in the default runbook (one boot step "boot"). */
    public static DrPlan small() {
        return DrPlan.create("small", "hq", "dr", Mode.AS_NEEDED, Duration.ofMinutes(15),
                List.of(workload("a", "dr-1", "10.0.0.1"), workload("b", "dr-2", "10.0.0.2"), workload("c", "dr-3", "10.0.0.3")));
    }
}
