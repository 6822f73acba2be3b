package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.fs.FileNames;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the command reads from its surroundings, captured once at the edge: environment
 * variables, the working directory, the streams, and whether a terminal is attached.
 */
public record Env(Map<String, String> vars, Path workingDir, PrintStream out, PrintStream err, InputStream in,
        boolean terminal) {
    public Env {
        vars = Map.copyOf(vars);
    }

    public static Env fromSystem(Map<String, String> vars) {
        return new Env(vars, Path.of("").toAbsolutePath(), System.out, System.err, System.in, interactive());
    }

    /**
     * Whether a person is at a terminal. Java 22+ returns a console even when the streams are
     * redirected and says so through {@code Console.isTerminal()}; Java 21 returns null then.
     */
    static boolean interactive() {
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    public String get(String name) {
        String v = vars.get(name);
        return v == null || v.isEmpty() ? null : v;
    }

    public String get(String name, String fallback) {
        String v = get(name);
        return v == null ? fallback : v;
    }

    /** The same environment with some variables replaced. */
    public Env with(Map<String, String> more) {
        var m = new java.util.HashMap<>(vars);
        m.putAll(more);
        return new Env(m, workingDir, out, err, in, terminal);
    }

    /**
     * A path typed on the command line, absolute. An argument that is not valid UTF-8 arrives as
     * its bytes in the form of {@link FileNames#string(byte[])}; the path is made of those bytes.
     */
    public Path resolve(String path) {
        if (path.isEmpty()) {
            // "" is no path: taken as the working directory, an unset variable in a script
            // ('--target "$T"') would back up, or with --sync empty, the wrong directory
            throw new HavenException(ErrorCode.USAGE, "an empty path was given (an unset variable?); use '.' for the current directory");
        }
        // from its bytes also when the text is valid: in a C locale the JDK cannot encode 'café'
        Path p = FileNames.path(FileNames.bytes(path));
        return workingDir.resolve(p).toAbsolutePath().normalize();
    }
}
