package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A long-running {@code haven} process of an end-to-end test (a server or an agent), with its
 * output in {@code LOGS/NAME.out} and {@code .err}. A restart appends, so a failure report keeps
 * the earlier run's lines. Each started daemon is added to the test's list, which stops them all.
 */
final class HavenDaemon {
    final String name;
    Process process;
    private final HavenCli haven;
    private final List<HavenDaemon> started;
    private final String[] args;
    final Path out;
    private final Path err;

    HavenDaemon(HavenCli haven, Path logs, List<HavenDaemon> started, String name, String... args) {
        this.haven = haven;
        this.started = started;
        this.name = name;
        this.args = args;
        this.out = logs.resolve(name + ".out");
        this.err = logs.resolve(name + ".err");
    }

    HavenDaemon start() throws IOException {
        Files.createDirectories(out.getParent());
        process = haven.builder(args).redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(err.toFile())).start();
        if (!started.contains(this)) {
            started.add(this);
        }
        return this;
    }

    /** SIGTERM and wait: a clean stop. */
    void stop() throws InterruptedException {
        process.destroy();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as(name + " stops on SIGTERM").isTrue();
    }

    /** SIGKILL: the process gets no chance to tidy up. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as(name + " dies on SIGKILL").isTrue();
    }

    /** Kills it if it still runs (the test's clean-up). */
    void killIfAlive() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    String log() {
        try {
            return (Files.exists(out) ? Files.readString(out) : "") + (Files.exists(err) ? Files.readString(err) : "");
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
