package io.haven.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.HavenException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link Driver} must do. A subclass supplies the driver, a healthy instance of a
 * service writing to its volume, and the probe that says it serves.
 */
abstract class DriverConformanceTest {
    @TempDir
    Path dir;

    final Probes probes = new Probes(Duration.ofSeconds(2));
    WorkloadInstance started;

    abstract Driver driver();

    /** A workload that serves on {@link #probe} once started, with its data under {@code dir}. */
    abstract WorkloadInstance instance(Path dir, String name);

    abstract Probe probe(WorkloadInstance w);

    /** An instance whose settings the driver must refuse. */
    abstract WorkloadInstance badInstance(Path dir);

    @AfterEach
    void stopLeftovers() {
        if (started != null) {
            driver().stop(started, Duration.ofSeconds(5));
        }
    }

    @Test
    void startMakesTheWorkloadHealthyAndStopMakesItGone() throws Exception {
        WorkloadInstance w = started = instance(dir, "svc");
        Driver d = driver();
        d.prepare(w);
        for (Path v : w.volumes().values()) {
            assertThat(v).isDirectory();
        }
        assertThat(d.running(w)).isFalse();
        d.start(w);
        assertThat(d.running(w)).isTrue();
        assertThat(probes.await(probe(w), Duration.ofSeconds(20), Duration.ofMillis(100)).ok()).isTrue();
        d.stop(w, Duration.ofSeconds(5));
        assertThat(d.running(w)).isFalse();
        assertThat(probes.once(probe(w)).ok()).isFalse();
    }

    @Test
    void everyOperationIsIdempotent() throws Exception {
        WorkloadInstance w = started = instance(dir, "idem");
        Driver d = driver();
        d.stop(w, Duration.ofSeconds(1)); // never started: fine
        d.prepare(w);
        d.prepare(w);
        d.start(w);
        d.start(w);
        assertThat(probes.await(probe(w), Duration.ofSeconds(20), Duration.ofMillis(100)).ok()).isTrue();
        d.quiesce(w);
        d.unquiesce(w);
        d.stop(w, Duration.ofSeconds(5));
        d.stop(w, Duration.ofSeconds(5));
        assertThat(d.running(w)).isFalse();
    }

    @Test
    void aNewDriverObjectFindsWhatTheOldOneStarted() throws Exception {
        WorkloadInstance w = started = instance(dir, "survivor");
        driver().start(w);
        assertThat(probes.await(probe(w), Duration.ofSeconds(20), Duration.ofMillis(100)).ok()).isTrue();
        Driver fresh = driver(); // as after an agent restart
        assertThat(fresh.running(w)).isTrue();
        fresh.stop(w, Duration.ofSeconds(5));
        assertThat(driver().running(w)).isFalse();
    }

    @Test
    void aSandboxInstanceRunsBesideProductionWithoutTouchingIt() throws Exception {
        WorkloadInstance prod = started = instance(dir.resolve("prod"), "app");
        WorkloadInstance drill = instance(dir.resolve("drill"), "app");
        Driver d = driver();
        d.start(prod);
        d.start(drill);
        try {
            assertThat(probes.await(probe(prod), Duration.ofSeconds(20), Duration.ofMillis(100)).ok()).isTrue();
            assertThat(probes.await(probe(drill), Duration.ofSeconds(20), Duration.ofMillis(100)).ok()).isTrue();
            d.stop(drill, Duration.ofSeconds(5));
            assertThat(d.running(prod)).isTrue();
            assertThat(probes.once(probe(prod)).ok()).isTrue();
        } finally {
            d.stop(drill, Duration.ofSeconds(5));
        }
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingRuns() {
        WorkloadInstance bad = badInstance(dir);
        assertThatThrownBy(() -> driver().validate(bad)).isInstanceOf(HavenException.class);
        assertThatThrownBy(() -> driver().start(bad)).isInstanceOf(HavenException.class);
        assertThat(driver().running(bad)).isFalse();
        assertThat(Files.exists(bad.runDir().resolve("pid"))).isFalse();
    }
}
