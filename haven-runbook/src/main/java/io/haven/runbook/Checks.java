package io.haven.runbook;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Collects the problems of one value under construction. Compact constructors of the plan's
 * records make one, check every field (naming fields as the plan file does) and call
 * {@link #done()}, which throws {@link PlanValidationException} with all the problems at once.
 * Not thread-safe; one per construction.
 */
final class Checks {
    /** Names of plans, sites, agents, workloads and steps: as the inventory's (docs/agents.md). */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final List<Problem> problems = new ArrayList<>();

    void add(String path, String message) {
        problems.add(Problem.at(path, message));
    }

    /** Adds the problems of a nested value, their paths placed under {@code base}. */
    void addAll(String base, Collection<Problem> nested) {
        for (Problem p : nested) {
            problems.add(new Problem(p.line(), p.column(), join(base, p.path()), p.message()));
        }
    }

    boolean ok() {
        return problems.isEmpty();
    }

    List<Problem> problems() {
        return List.copyOf(problems);
    }

    /** @throws PlanValidationException when a problem was added */
    void done() {
        if (!problems.isEmpty()) {
            throw new PlanValidationException(null, problems);
        }
    }

    boolean present(String path, Object value) {
        if (value == null) {
            add(path, "is required");
            return false;
        }
        return true;
    }

    boolean name(String path, String value) {
        if (!present(path, value)) {
            return false;
        }
        if (!NAME.matcher(value).matches()) {
            add(path, "must be 1-64 letters, digits, '.', '_' or '-', not \"" + value + "\"");
            return false;
        }
        return true;
    }

    boolean text(String path, String value) {
        if (!present(path, value)) {
            return false;
        }
        if (value.isBlank()) {
            add(path, "must not be empty");
            return false;
        }
        return true;
    }

    boolean range(String path, int value, int min, int max) {
        if (value < min || value > max) {
            add(path, "must be " + min + ".." + max + ", not " + value);
            return false;
        }
        return true;
    }

    boolean range(String path, Duration value, Duration min, Duration max) {
        if (!present(path, value)) {
            return false;
        }
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0 || value.toNanosPart() != 0) {
            add(path, "must be from " + DurationText.format(min) + " to " + DurationText.format(max) + ", not "
                    + (value.isNegative() || value.toNanosPart() != 0 ? value.toString() : DurationText.format(value)));
            return false;
        }
        return true;
    }

    /** Checks a list is present and holds no nulls. */
    boolean list(String path, List<?> values) {
        if (!present(path, values)) {
            return false;
        }
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) == null) {
                add(path + "[" + i + "]", "must not be null");
                return false;
            }
        }
        return true;
    }

    /** Joins a base path and a relative one: {@code join("workloads[1]", "probe.port")}. */
    static String join(String base, String rel) {
        if (base == null || base.isEmpty()) {
            return rel;
        }
        if (rel == null || rel.isEmpty()) {
            return base;
        }
        return rel.startsWith("[") ? base + rel : base + "." + rel;
    }
}
