package io.haven.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.HavenException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The {@code process} driver against the conformance suite, with a real service: Python's HTTP
 * server serving the workload's data volume on the address and port Haven gives it.
 */
class ProcessDriverTest extends DriverConformanceTest {
    private final Map<Path, Integer> ports = new ConcurrentHashMap<>();

    @Override
    Driver driver() {
        return new ProcessDriver();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    WorkloadInstance instance(Path dir, String name) {
        int port = ports.computeIfAbsent(dir, d -> freePort());
        return new WorkloadInstance(name, Map.of("data", dir.resolve("data")), "127.0.0.1",
                Map.of("command", List.of("python3", "-m", "http.server", String.valueOf(port), "--bind", "${bind}", "--directory",
                        "${volume.data}"), "quiesce", List.of("sh", "-c", "touch \"$HAVEN_VOLUME_DATA/.quiesced\""),
                        "unquiesce", List.of("sh", "-c", "rm -f \"$HAVEN_VOLUME_DATA/.quiesced\"")),
                dir.resolve("run"));
    }

    @Override
    Probe probe(WorkloadInstance w) {
        int port = ports.get(w.runDir().getParent());
        return new Probe.Http(URI.create("http://127.0.0.1:" + port + "/"), 200);
    }

    @Override
    WorkloadInstance badInstance(Path dir) {
        return new WorkloadInstance("bad", Map.of(), null, Map.of("comand", List.of("true")), dir.resolve("bad-run"));
    }

    @Test
    void theCommandLearnsItsVolumesAndAddressFromTheEnvironment() throws Exception {
        Path run = dir.resolve("env/run");
        WorkloadInstance w = started = new WorkloadInstance("envy", Map.of("data", dir.resolve("env/data")), "127.0.0.7",
                Map.of("command", List.of("sh", "-c", "env | grep ^HAVEN_ > \"$HAVEN_VOLUME_DATA/env.txt\"; echo \"$GREETING\" "
                        + "> ${volume.data}/greeting.txt; exec sleep 60"), "env", Map.of("GREETING", "hello ${bind}")), run);
        driver().start(w);
        Path env = dir.resolve("env/data/env.txt");
        for (int i = 0; i < 50 && !Files.exists(dir.resolve("env/data/greeting.txt")); i++) {
            Thread.sleep(50);
        }
        Thread.sleep(100);
        assertThat(Files.readString(env)).contains("HAVEN_WORKLOAD=envy", "HAVEN_BIND_ADDRESS=127.0.0.7",
                "HAVEN_VOLUME_DATA=" + dir.resolve("env/data"), "HAVEN_RUN_DIR=" + run);
        assertThat(Files.readString(dir.resolve("env/data/greeting.txt")).trim()).isEqualTo("hello 127.0.0.7");
    }

    @Test
    void aCommandThatExitsAtOnceIsAClearError() {
        WorkloadInstance w = new WorkloadInstance("quitter", Map.of(), null,
                Map.of("command", List.of("sh", "-c", "echo cannot open config >&2; exit 3")), dir.resolve("q"));
        assertThatThrownBy(() -> driver().start(w)).isInstanceOf(HavenException.class)
                .hasMessageContaining("exited at once with 3").hasMessageContaining("cannot open config");
        assertThat(driver().running(w)).isFalse();
    }

    @Test
    void aProcessIgnoringSigtermIsKilledAfterTheGracePeriod() throws Exception {
        WorkloadInstance w = started = new WorkloadInstance("stubborn", Map.of(), null,
                Map.of("command", List.of("sh", "-c", "trap '' TERM; while true; do sleep 0.1; done")), dir.resolve("s"));
        driver().start(w);
        long t0 = System.nanoTime();
        driver().stop(w, Duration.ofMillis(500));
        assertThat(driver().running(w)).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(450));
    }

    @Test
    void quiesceRunsTheWorkloadsHookAndFailsLoudly() throws Exception {
        WorkloadInstance w = started = instance(dir.resolve("q2"), "hooks");
        driver().start(w);
        driver().quiesce(w);
        assertThat(dir.resolve("q2/data/.quiesced")).exists();
        driver().unquiesce(w);
        assertThat(dir.resolve("q2/data/.quiesced")).doesNotExist();
        WorkloadInstance failing = new WorkloadInstance("hooks2", Map.of(), null, Map.of("command", List.of("sleep", "30"),
                "quiesce", List.of("sh", "-c", "exit 7")), dir.resolve("q3"));
        driver().prepare(failing);
        assertThatThrownBy(() -> driver().quiesce(failing)).isInstanceOf(HavenException.class).hasMessageContaining("quiesce exited 7");
    }

    @Test
    void anUnknownPlaceholderIsRefused() {
        WorkloadInstance w = new WorkloadInstance("typo", Map.of("data", dir.resolve("d")), null,
                Map.of("command", List.of("cat", "${volume.dta}/x")), dir.resolve("t"));
        assertThatThrownBy(() -> driver().start(w)).isInstanceOf(HavenException.class).hasMessageContaining("${volume.data}");
    }
}
