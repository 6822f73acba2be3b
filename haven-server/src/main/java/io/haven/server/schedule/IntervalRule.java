package io.haven.server.schedule;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code every N(m|h|d)}: the local date-times that are whole multiples of the period counted
 * from 1970-01-01T00:00 local time, so {@code every 6h} is 00:00, 06:00, 12:00 and 18:00 and
 * {@code every 15m} is :00, :15, :30 and :45, whatever the start time and on every server.
 */
record IntervalRule(Duration period) implements LocalRule {
    static final Duration MIN = Duration.ofMinutes(1);
    static final Duration MAX = Duration.ofDays(366);
    private static final Pattern SYNTAX = Pattern.compile("every\\s+(\\d{1,9})\\s*([a-z]*)");

    IntervalRule {
        if (period.compareTo(MIN) < 0 || period.compareTo(MAX) > 0) {
            throw new HavenException(ErrorCode.USAGE, "an interval must be from 1m to 366d, not " + period);
        }
    }

    /** Parses {@code every 15m}, {@code every 6h}, {@code every 1d} (case and spaces are free). */
    static IntervalRule parse(String expression) {
        Matcher m = SYNTAX.matcher(expression.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new HavenException(ErrorCode.USAGE, "interval '" + expression
                    + "' is not 'every N' and a unit: write it as 'every 15m', 'every 6h' or 'every 1d'");
        }
        long n = Long.parseLong(m.group(1));
        Duration period = switch (m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            case "" -> throw new HavenException(ErrorCode.USAGE, "interval '" + expression
                    + "' has no unit: add m (minutes), h (hours) or d (days), as in 'every 15m'");
            default -> throw new HavenException(ErrorCode.USAGE, "interval '" + expression + "' has the unit '" + m.group(2)
                    + "'; use m (minutes), h (hours) or d (days), as in 'every 15m'");
        };
        if (n == 0) {
            throw new HavenException(ErrorCode.USAGE, "interval '" + expression + "' is zero; the shortest is 'every 1m'");
        }
        if (period.compareTo(MAX) > 0) {
            throw new HavenException(ErrorCode.USAGE, "interval '" + expression + "' is longer than the longest, 'every 366d'");
        }
        return new IntervalRule(period);
    }

    /** The canonical text: {@code every 15m}, {@code every 6h}, {@code every 2d}. */
    String text() {
        long s = period.toSeconds();
        if (s % 86_400 == 0) {
            return "every " + s / 86_400 + "d";
        }
        if (s % 3_600 == 0) {
            return "every " + s / 3_600 + "h";
        }
        return "every " + s / 60 + "m";
    }

    @Override
    public LocalDateTime nextAfter(LocalDateTime t) {
        long p = period.toSeconds();
        long s = t.toEpochSecond(ZoneOffset.UTC); // seconds of the local clock since its 1970-01-01T00:00
        long next = (Math.floorDiv(s, p) + 1) * p;
        return LocalDateTime.ofEpochSecond(next, 0, ZoneOffset.UTC);
    }

    /** Intervals under a day follow elapsed time; {@code every Nd} is a fixed time of day (midnight). */
    @Override
    public boolean firesTwiceWhenRepeated() {
        return period.compareTo(Duration.ofDays(1)) < 0;
    }
}
