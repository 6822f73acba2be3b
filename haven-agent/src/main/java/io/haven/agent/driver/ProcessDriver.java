package io.haven.agent.driver;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The {@code process} driver: a workload is a command that runs the service, with its data
 * volumes. Haven tells the command where things are at this site through the environment —
 * {@code HAVEN_WORKLOAD}, {@code HAVEN_BIND_ADDRESS}, {@code HAVEN_RUN_DIR} and
 * {@code HAVEN_VOLUME_<NAME>} for each volume — and through {@code ${bind}}, {@code ${runDir}} and
 * {@code ${volume.NAME}} in the command's arguments.
 *
 * <p>The process runs in its own session ({@code setsid}), so stopping or restarting the agent
 * does not stop it; its pid and start time are kept in {@code RUN_DIR/pid}, so a new agent process
 * finds it again and a recycled pid is never mistaken for it. Output goes to
 * {@code RUN_DIR/output.log}. Stop sends SIGTERM to the process and its descendants, waits for
 * the grace period, then SIGKILL.
 */
public final class ProcessDriver implements Driver {
    private static final Duration STARTUP_CHECK = Duration.ofMillis(300);
    private static final Duration HOOK_TIMEOUT = Duration.ofSeconds(60);

    @Override
    public String kind() {
        return "process";
    }

    @Override
    public void validate(WorkloadInstance w) {
        if (w.argv("command").isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + ": the process driver needs 'command' (the program "
                    + "and its arguments)");
        }
        w.stringMap("env");
        w.argv("quiesce");
        w.argv("unquiesce");
        for (String s : w.settings().keySet()) {
            if (!List.of("command", "env", "quiesce", "unquiesce").contains(s)) {
                throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + ": the process driver has no setting '" + s
                        + "' (it takes command, env, quiesce, unquiesce)");
            }
        }
    }

    @Override
    public void prepare(WorkloadInstance w) {
        validate(w);
        try {
            Files.createDirectories(w.runDir());
            for (var e : w.volumes().entrySet()) {
                Files.createDirectories(e.getValue());
                if (!Files.isWritable(e.getValue())) {
                    throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": volume " + e.getKey() + " at " + e.getValue()
                            + " is not writable");
                }
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": cannot prepare its volumes: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void start(WorkloadInstance w) {
        if (running(w)) {
            return;
        }
        prepare(w);
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        for (String a : w.argv("command")) {
            cmd.add(substitute(a, w));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(w.runDir().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(w.runDir().resolve("output.log").toFile()));
        pb.environment().putAll(environment(w));
        try {
            Process p = pb.start();
            ProcessHandle h = p.toHandle();
            Instant started = h.info().startInstant().orElse(Instant.EPOCH);
            writePid(w, h.pid(), started);
            if (p.waitFor(STARTUP_CHECK.toMillis(), TimeUnit.MILLISECONDS)) {
                Files.deleteIfExists(w.runDir().resolve("pid"));
                throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": the command exited at once with " + p.exitValue()
                        + "; its output ends with: " + tail(w.runDir().resolve("output.log")));
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": cannot start " + cmd + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted while starting " + w.name(), e);
        }
    }

    @Override
    public synchronized void stop(WorkloadInstance w, Duration grace) {
        Optional<ProcessHandle> h = handle(w);
        if (h.isEmpty()) {
            deletePid(w);
            return;
        }
        ProcessHandle p = h.get();
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(0, p);
        all.forEach(ProcessHandle::destroy);
        long end = System.nanoTime() + grace.toNanos();
        while (System.nanoTime() < end && all.stream().anyMatch(ProcessHandle::isAlive)) {
            sleep(50);
        }
        if (all.stream().anyMatch(ProcessHandle::isAlive)) {
            all.forEach(ProcessHandle::destroyForcibly);
            long hard = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < hard && all.stream().anyMatch(ProcessHandle::isAlive)) {
                sleep(50);
            }
        }
        deletePid(w);
    }

    @Override
    public boolean running(WorkloadInstance w) {
        return handle(w).isPresent();
    }

    @Override
    public void quiesce(WorkloadInstance w) {
        hook(w, "quiesce");
    }

    @Override
    public void unquiesce(WorkloadInstance w) {
        hook(w, "unquiesce");
    }

    private void hook(WorkloadInstance w, String key) {
        List<String> argv = w.argv(key);
        if (argv.isEmpty()) {
            return;
        }
        List<String> cmd = argv.stream().map(a -> substitute(a, w)).toList();
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(w.runDir().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(w.runDir().resolve("output.log").toFile()));
        pb.environment().putAll(environment(w));
        try {
            Process p = pb.start();
            if (!p.waitFor(HOOK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": " + key + " did not finish within "
                        + HOOK_TIMEOUT.toSeconds() + " s");
            }
            if (p.exitValue() != 0) {
                throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": " + key + " exited " + p.exitValue() + ": "
                        + tail(w.runDir().resolve("output.log")));
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": cannot run " + key + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted during " + key + " of " + w.name(), e);
        }
    }

    static Map<String, String> environment(WorkloadInstance w) {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("HAVEN_WORKLOAD", w.name());
        env.put("HAVEN_RUN_DIR", w.runDir().toString());
        if (w.bindAddress() != null) {
            env.put("HAVEN_BIND_ADDRESS", w.bindAddress());
        }
        w.volumes().forEach((k, v) -> env.put("HAVEN_VOLUME_" + k.toUpperCase(Locale.ROOT), v.toString()));
        for (var e : w.stringMap("env").entrySet()) {
            env.put(e.getKey(), substitute(e.getValue(), w));
        }
        return env;
    }

    public static String substitute(String s, WorkloadInstance w) {
        String out = s.replace("${bind}", w.bindAddress() == null ? "" : w.bindAddress()).replace("${runDir}", w.runDir().toString());
        for (var e : w.volumes().entrySet()) {
            out = out.replace("${volume." + e.getKey() + "}", e.getValue().toString());
        }
        if (out.contains("${")) {
            throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + ": unknown placeholder in '" + s + "' (known: ${bind}, "
                    + "${runDir}, " + String.join(", ", w.volumes().keySet().stream().map(k -> "${volume." + k + "}").toList()) + ")");
        }
        return out;
    }

    /** The workload's process when its pid file names a live process that started when recorded. */
    private static Optional<ProcessHandle> handle(WorkloadInstance w) {
        Path f = w.runDir().resolve("pid");
        try {
            if (!Files.exists(f)) {
                return Optional.empty();
            }
            String[] parts = Files.readString(f, StandardCharsets.US_ASCII).trim().split("\\s+");
            long pid = Long.parseLong(parts[0]);
            Instant started = parts.length > 1 ? Instant.parse(parts[1]) : Instant.EPOCH;
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .filter(h -> h.info().startInstant().map(s -> s.equals(started)).orElse(true));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void writePid(WorkloadInstance w, long pid, Instant started) throws IOException {
        Path tmp = w.runDir().resolve("pid.tmp");
        Files.writeString(tmp, pid + " " + started + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, w.runDir().resolve("pid"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static void deletePid(WorkloadInstance w) {
        try {
            Files.deleteIfExists(w.runDir().resolve("pid"));
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": cannot remove its pid file: " + e.getMessage(), e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException | java.io.UncheckedIOException e) {
            return "(no output)";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
