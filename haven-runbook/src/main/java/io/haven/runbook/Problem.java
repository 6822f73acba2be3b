package io.haven.runbook;

/**
 * One thing wrong with a DR plan: where it is and what is wrong.
 *
 * <p>{@code path} names the field as it is written in the plan file, with list indexes counted
 * from 0: {@code workloads[1].probe.port}, {@code runbook[2].workloads[0]}; the empty string means
 * the plan as a whole. {@code line} and {@code column} count from 1; both are 0 when the problem
 * was found on a plan built in code, where no text exists.
 */
public record Problem(int line, int column, String path, String message) {
    public Problem {
        if (line < 0 || column < 0) {
            throw new IllegalArgumentException("line and column must be >= 0");
        }
        path = path == null ? "" : path;
        if (message == null || message.isBlank()) {
            throw new IllegalArgumentException("a problem needs a message");
        }
    }

    /** A problem without a position in a text. */
    public static Problem at(String path, String message) {
        return new Problem(0, 0, path, message);
    }

    /** True when the problem has a position in the plan's text. */
    public boolean located() {
        return line > 0;
    }

    /**
     * The problem as the command line prints it, compiler style:
     * {@code plan.yaml:12:5: workloads[1].probe.port: must be 1..65535, not 70000}. A null
     * {@code source} leaves the file name out.
     */
    public String format(String source) {
        StringBuilder b = new StringBuilder();
        if (source != null) {
            b.append(source);
        }
        if (located()) {
            b.append(source != null ? ":" : "").append(line).append(':').append(column);
        }
        if (!b.isEmpty()) {
            b.append(": ");
        }
        if (!path.isEmpty()) {
            b.append(path).append(": ");
        }
        return b.append(message).toString();
    }

    @Override
    public String toString() {
        return format(null);
    }
}
