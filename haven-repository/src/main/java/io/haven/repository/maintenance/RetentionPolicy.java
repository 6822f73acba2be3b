package io.haven.repository.maintenance;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Period;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which snapshots {@code forget} keeps (the rules of restic and borg, which operators know). Every
 * count is "how many periods, newest first, keep their newest snapshot"; periods without a
 * snapshot do not count. A snapshot is kept when any rule keeps it.
 *
 * @param within keep everything at most this long older than the group's newest snapshot
 */
public record RetentionPolicy(int last, int hourly, int daily, int weekly, int monthly, int yearly, Within within,
        List<String> tags) {
    public RetentionPolicy {
        for (int n : new int[] {last, hourly, daily, weekly, monthly, yearly}) {
            if (n < 0) {
                throw new HavenException(ErrorCode.USAGE, "keep counts cannot be negative");
            }
        }
        tags = tags == null ? List.of() : List.copyOf(tags);
    }

    /** Whether the policy keeps anything at all; forgetting with an empty policy is refused. */
    public boolean isEmpty() {
        return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && within == null
                && tags.isEmpty();
    }

    /** A calendar span such as {@code 1y6m}, {@code 14d} or {@code 36h}. */
    public record Within(Period period, Duration duration, String text) {
        private static final Pattern PART = Pattern.compile("(\\d+)([yYmwdh])");

        /**
         * Parses {@code [Ny][Nm][Nw][Nd][Nh]} (years, months, weeks, days, hours).
         *
         * @throws HavenException USAGE when malformed
         */
        public static Within parse(String s) {
            if (s == null || s.isBlank()) {
                throw new HavenException(ErrorCode.USAGE, "empty duration; use for example 7d, 2w, 1y6m or 36h");
            }
            Matcher m = PART.matcher(s);
            int pos = 0;
            Period p = Period.ZERO;
            Duration d = Duration.ZERO;
            while (m.find()) {
                if (m.start() != pos) {
                    break;
                }
                int n;
                try {
                    n = Integer.parseInt(m.group(1));
                } catch (NumberFormatException e) {
                    throw new HavenException(ErrorCode.USAGE, "duration '" + s + "' has a number that is too large");
                }
                switch (m.group(2)) {
                    case "y", "Y" -> p = p.plusYears(n);
                    case "m" -> p = p.plusMonths(n);
                    case "w" -> p = p.plusDays(7L * n);
                    case "d" -> p = p.plusDays(n);
                    case "h" -> d = d.plusHours(n);
                    default -> throw new IllegalStateException();
                }
                pos = m.end();
            }
            if (pos != s.length() || pos == 0) {
                throw new HavenException(ErrorCode.USAGE, "cannot read duration '" + s
                        + "'; use numbers with y (years), m (months), w (weeks), d (days), h (hours), e.g. 7d, 1y6m, 36h");
            }
            return new Within(p, d, s);
        }
    }
}
