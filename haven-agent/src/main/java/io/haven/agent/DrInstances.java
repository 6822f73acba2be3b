package io.haven.agent;

import io.haven.agent.driver.WorkloadInstance;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Messages;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a DR task's workload instance lives on this host, and its driver settings. The agent
 * decides the places (docs/drivers.md, "DR operations"):
 *
 * <ul>
 *   <li>production instance of plan P, workload W: run directory {@code HOME/dr/P/W/run}, volumes
 *       as the task gives them;
 *   <li>sandbox instance (a drill, run R): {@code HOME/sandbox/R/W/run}, volumes
 *       {@code HOME/sandbox/R/W/v0}, {@code v1}, … (as many as the task gives), never the
 *       production paths.
 * </ul>
 *
 * The first volume is named {@code data}, the others {@code v1}, {@code v2}, …; the bind address
 * is the task's, or {@code 127.0.0.1} when it names none. Options (strings) become the driver's
 * settings as {@link #settings} describes. Stateless and thread-safe.
 */
final class DrInstances {
    static final String DEFAULT_BIND = "127.0.0.1";
    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

    private final Path home;

    DrInstances(Path home) {
        this.home = home.toAbsolutePath().normalize();
    }

    Path home() {
        return home;
    }

    /** {@code HOME/sandbox/R}: every sandbox instance of run R. */
    Path sandboxRun(String run) {
        return home.resolve("sandbox").resolve(name("run", run));
    }

    /** The directory of the task's workload instance (its run directory's parent). */
    Path workloadDir(Messages.DrSpec s) {
        String w = name("workload", s.workload());
        return s.sandbox() ? sandboxRun(s.run()).resolve(w) : home.resolve("dr").resolve(name("plan", s.plan())).resolve(w);
    }

    /** The task's workload instance at this host. */
    WorkloadInstance instance(Messages.DrSpec s) {
        List<String> given = s.volumes();
        if (given == null || given.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": the task names no volumes");
        }
        Path dir = workloadDir(s);
        Map<String, Path> volumes = new LinkedHashMap<>();
        for (int i = 0; i < given.size(); i++) {
            Path p;
            if (s.sandbox()) {
                p = dir.resolve("v" + i);
            } else {
                if (given.get(i) == null || !Path.of(given.get(i)).isAbsolute()) {
                    throw new HavenException(ErrorCode.USAGE, "workload " + s.workload() + ": volume " + i + " must be an absolute path, not "
                            + given.get(i));
                }
                p = Path.of(given.get(i)).normalize();
            }
            volumes.put(volumeName(i), p);
        }
        String bind = s.bindAddress() == null || s.bindAddress().isBlank() ? DEFAULT_BIND : s.bindAddress();
        return new WorkloadInstance(s.workload(), volumes, bind, settings(s.driver(), s.options(), s.workload()), dir.resolve("run"));
    }

    /** {@code data} for the first volume, {@code v1}, {@code v2}, … for the others. */
    static String volumeName(int i) {
        return i == 0 ? "data" : "v" + i;
    }

    /**
     * A task's options (strings) as a driver's settings.
     *
     * <p>{@code process}: {@code command} runs as {@code /bin/sh -c "exec COMMAND"} (the driver's
     * placeholders {@code ${bind}}, {@code ${runDir}}, {@code ${volume.NAME}} still apply, so a
     * shell variable is written {@code $NAME}, not {@code ${NAME}}); {@code env.NAME} goes into
     * the environment; {@code quiesce} and {@code unquiesce} run as {@code /bin/sh -c}.
     *
     * <p>{@code postgres}: {@code port} (a number), {@code osUser}, {@code superuser}, {@code bin},
     * {@code hba} (lines separated by newlines), {@code config.NAME}; {@code initdb}
     * ({@code true}/{@code false}) is accepted and ignored: a DR copy's cluster always comes from its
     * primary, and an empty database created at failover would be worse than a failure.
     *
     * @throws HavenException USAGE naming an option the driver does not take, or a bad value
     */
    static Map<String, Object> settings(String driver, Map<String, String> options, String workload) {
        Map<String, String> o = options == null ? Map.of() : options;
        Map<String, Object> out = new LinkedHashMap<>();
        switch (driver == null ? "" : driver) {
            case "process" -> {
                Map<String, String> env = new LinkedHashMap<>();
                for (var e : o.entrySet()) {
                    String k = e.getKey();
                    String v = e.getValue() == null ? "" : e.getValue();
                    switch (k) {
                        case "command" -> out.put("command", List.of("/bin/sh", "-c", "exec " + v));
                        case "quiesce", "unquiesce" -> out.put(k, List.of("/bin/sh", "-c", v));
                        default -> {
                            if (k.startsWith("env.") && k.length() > 4) {
                                env.put(k.substring(4), v);
                            } else {
                                throw unknown(workload, driver, k, "command, env.NAME, quiesce, unquiesce");
                            }
                        }
                    }
                }
                if (!env.isEmpty()) {
                    out.put("env", env);
                }
            }
            case "postgres" -> {
                Map<String, String> config = new LinkedHashMap<>();
                for (var e : o.entrySet()) {
                    String k = e.getKey();
                    String v = e.getValue() == null ? "" : e.getValue().trim();
                    switch (k) {
                        case "port" -> {
                            if (!v.matches("\\d{1,5}")) {
                                throw new HavenException(ErrorCode.USAGE, "workload " + workload + ": option 'port' must be a number "
                                        + "1..65535, not '" + v + "'");
                            }
                            out.put("port", Integer.parseInt(v));
                        }
                        case "osUser", "superuser", "bin" -> out.put(k, v);
                        case "initdb" -> {
                            if (!v.equals("true") && !v.equals("false")) {
                                throw new HavenException(ErrorCode.USAGE, "workload " + workload + ": option 'initdb' is true or false, "
                                        + "not '" + v + "'");
                            }
                        }
                        case "hba" -> {
                            List<String> lines = new ArrayList<>();
                            for (String l : e.getValue() == null ? new String[0] : e.getValue().split("\\R")) {
                                if (!l.isBlank()) {
                                    lines.add(l.trim());
                                }
                            }
                            out.put("hba", lines);
                        }
                        default -> {
                            if (k.startsWith("config.") && k.length() > 7) {
                                config.put(k.substring(7), e.getValue() == null ? "" : e.getValue());
                            } else {
                                throw unknown(workload, driver, k, "port, osUser, superuser, bin, initdb, hba, config.NAME");
                            }
                        }
                    }
                }
                if (!config.isEmpty()) {
                    out.put("config", config);
                }
            }
            default -> throw new HavenException(ErrorCode.USAGE, "workload " + workload + ": this agent has no driver '" + driver
                    + "' (it has process, postgres); upgrade it");
        }
        return out;
    }

    private static HavenException unknown(String workload, String driver, String key, String known) {
        return new HavenException(ErrorCode.USAGE, "workload " + workload + ": the " + driver + " driver has no option '" + key
                + "' (it takes " + known + ")");
    }

    /** A name used as a directory: letters, digits, '.', '_', '-', not starting with a dot. */
    static String name(String what, String value) {
        if (value == null || !value.matches(NAME)) {
            throw new HavenException(ErrorCode.USAGE, "the task's " + what + " must be 1 to 64 letters, digits, '.', '_' or '-' "
                    + "(not starting with '.' or '-'), not " + (value == null ? "missing" : "'" + value + "'"));
        }
        return value;
    }
}
