package io.haven.runbook;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.List;

/**
 * A DR plan (or a part of one) is not valid. Carries every problem found, not only the first, in
 * the order of the plan's text; the message lists them all. Code {@link ErrorCode#USAGE}.
 */
public class PlanValidationException extends HavenException {
    private final String source;
    private final List<Problem> problems;

    /**
     * @param source the file or other name the plan came from, or null for a plan built in code
     * @param problems at least one
     */
    public PlanValidationException(String source, List<Problem> problems) {
        super(ErrorCode.USAGE, message(source, problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a validation failure needs at least one problem");
        }
        this.source = source;
        this.problems = List.copyOf(problems);
    }

    /** The problems, in text order (unlocated ones in the order they were found). */
    public List<Problem> problems() {
        return problems;
    }

    /** Where the plan came from ({@code plan.yaml}), or null. */
    public String source() {
        return source;
    }

    /** One line per problem, compiler style, as {@code haven plan validate} prints them. */
    public List<String> lines() {
        return problems.stream().map(p -> p.format(source)).toList();
    }

    private static String message(String source, List<Problem> problems) {
        String what = source == null ? "the DR plan" : source;
        String count = problems.size() == 1 ? "1 problem" : problems.size() + " problems";
        StringBuilder b = new StringBuilder(what).append(" is not a valid DR plan (").append(count).append("): ");
        for (int i = 0; i < problems.size(); i++) {
            b.append(i == 0 ? "" : "; ").append(problems.get(i).format(source));
        }
        return b.toString();
    }
}
