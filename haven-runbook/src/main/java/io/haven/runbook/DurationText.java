package io.haven.runbook;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as plan files write them: whole numbers with a unit, largest unit first, each unit
 * at most once: {@code 15s}, {@code 5m}, {@code 1h}, {@code 1h30m}, {@code 2d}. Units: {@code d}
 * (24 hours), {@code h}, {@code m}, {@code s}. Sub-second durations are not used by plans.
 */
public final class DurationText {
    private static final Pattern FORM = Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");
    private static final long[] SECONDS = {86_400, 3_600, 60, 1};
    private static final String[] UNITS = {"d", "h", "m", "s"};

    private DurationText() {}

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException with a message fit for a plan problem
     */
    public static Duration parse(String text) {
        String t = text == null ? "" : text.strip();
        Matcher m = FORM.matcher(t);
        if (t.isEmpty() || !m.matches()) {
            if (t.matches("\\d+")) {
                throw new IllegalArgumentException("needs a unit: " + t + "s, " + t + "m or " + t + "h");
            }
            throw new IllegalArgumentException("must be a duration like 15s, 5m, 1h or 1h30m, not \"" + text + "\"");
        }
        long total = 0;
        for (int i = 0; i < 4; i++) {
            String n = m.group(i + 1);
            if (n != null) {
                if (n.length() > 9) {
                    throw new IllegalArgumentException("is too long: \"" + text + "\"");
                }
                total += Long.parseLong(n) * SECONDS[i];
            }
        }
        return Duration.ofSeconds(total);
    }

    /** Formats whole seconds canonically ({@code 90s} becomes {@code 1m30s}); {@code 0s} for zero. */
    public static String format(Duration d) {
        if (d.isNegative() || d.toNanosPart() != 0) {
            throw new IllegalArgumentException("plans use whole, non-negative seconds, not " + d);
        }
        long rest = d.getSeconds();
        if (rest == 0) {
            return "0s";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            long n = rest / SECONDS[i];
            if (n > 0) {
                b.append(n).append(UNITS[i]);
                rest -= n * SECONDS[i];
            }
        }
        return b.toString();
    }
}
