package io.haven.agent.driver;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One workload as a driver runs it on this host: its name, its volumes at this site (name →
 * path), the address it binds, driver settings, and a run directory the driver owns (pid files,
 * logs). A drill runs a sandbox instance: other volume paths, another address, another run
 * directory, so it never touches production.
 *
 * @param settings driver-specific settings; for {@code process}: {@code command} (argv list),
 *     {@code env} (map), {@code quiesce} / {@code unquiesce} (argv lists)
 */
public record WorkloadInstance(String name, Map<String, Path> volumes, String bindAddress, Map<String, Object> settings, Path runDir) {
    public WorkloadInstance {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new HavenException(ErrorCode.USAGE, "a workload name is 1 to 64 letters, digits, '.', '_' or '-', not '" + name + "'");
        }
        volumes = Map.copyOf(volumes == null ? Map.of() : volumes);
        for (var e : volumes.entrySet()) {
            if (!e.getKey().matches("[A-Za-z0-9_]{1,32}") || !e.getValue().isAbsolute()) {
                throw new HavenException(ErrorCode.USAGE, "workload " + name + ": volume '" + e.getKey() + "' needs a name of letters, "
                        + "digits or '_' and an absolute path, not " + e.getValue());
            }
        }
        settings = Map.copyOf(settings == null ? Map.of() : settings);
        Objects.requireNonNull(runDir, "runDir");
    }

    /** A setting as a list of strings (an argv), or empty. USAGE when it is something else. */
    public List<String> argv(String key) {
        Object v = settings.get(key);
        if (v == null) {
            return List.of();
        }
        if (v instanceof List<?> l && l.stream().allMatch(x -> x instanceof String)) {
            return l.stream().map(String.class::cast).toList();
        }
        throw new HavenException(ErrorCode.USAGE, "workload " + name + ": '" + key + "' is a list of strings (the command and its "
                + "arguments), not " + v);
    }

    /** A setting as a map of strings, or empty. */
    public Map<String, String> stringMap(String key) {
        Object v = settings.get(key);
        if (v == null) {
            return Map.of();
        }
        if (v instanceof Map<?, ?> m) {
            java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), String.valueOf(x)));
            return out;
        }
        throw new HavenException(ErrorCode.USAGE, "workload " + name + ": '" + key + "' is a map of names to values, not " + v);
    }
}
