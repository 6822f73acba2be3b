package io.haven.server.schedule;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.Locale;
import java.util.Objects;

/**
 * When something runs: a 5-field Unix cron expression ({@code 0 2 * * *},
 * {@code *}{@code /15 * * * 1-5}) or a fixed interval ({@code every 15m}, {@code every 6h},
 * {@code every 1d}), read on the wall clock of a time zone (an IANA name; UTC by default).
 *
 * <p>Intervals are anchored to 1970-01-01T00:00 in the schedule's zone, not to a start time:
 * {@code every 6h} fires at 00:00, 06:00, 12:00 and 18:00 local time, so every server computes
 * the same ticks.
 *
 * <p>Daylight-saving changes (as cron(8) in Vixie cron and cronie):
 * <ul>
 *   <li>A local time that a change skips (02:00–02:59 in Europe/Berlin on the last Sunday of
 *       March) fires once, at the moment of the change (03:00 CEST). No run is lost.
 *   <li>A local time that a change repeats (02:00–02:59 on the last Sunday of October) fires
 *       only on its first pass for a fixed-time schedule ({@code 30 2 * * *} runs once), and on
 *       both passes for a schedule that follows elapsed time: a cron expression whose minute or
 *       hour field starts with {@code *}, or an interval under a day ({@code every 15m} keeps
 *       firing every 15 minutes through the repeated hour).
 * </ul>
 *
 * <p>Immutable and thread-safe. Equal when the expression (as normalized by {@link #parse}) and
 * the zone are.
 */
public final class Schedule {
    /** {@link #due} counts at most this many ticks; a longer outage reports this number. */
    public static final int MAX_COUNTED_TICKS = 100_000;

    /**
     * The scheduler's catch-up decision (see {@link #due}).
     *
     * @param runNow whether to start one run now
     * @param dueTicks how many ticks this one run stands for: the planned one plus every later
     *     tick up to now (1 when on time; {@code dueTicks - 1} runs were missed and are not made
     *     up); 0 when nothing is due yet
     * @param nextPlanned the tick to wait for next: the first one strictly after now, or the
     *     planned one when it is still ahead
     */
    public record Due(boolean runNow, int dueTicks, Instant nextPlanned) {
        public Due {
            Objects.requireNonNull(nextPlanned, "nextPlanned");
            if (dueTicks < 0 || runNow != (dueTicks > 0)) {
                throw new IllegalArgumentException("runNow " + runNow + " with " + dueTicks + " due ticks");
            }
        }

        /** The runs lost to a late start: ticks that fell due but get no run of their own. */
        public int missedTicks() {
            return Math.max(0, dueTicks - 1);
        }
    }

    private final String expression;
    private final ZoneId zone;
    private final LocalRule rule;

    private Schedule(String expression, ZoneId zone, LocalRule rule) {
        this.expression = expression;
        this.zone = zone;
        this.rule = rule;
    }

    /**
     * Parses a schedule.
     *
     * @param expression a 5-field cron expression or {@code every N} with a unit {@code m},
     *     {@code h} or {@code d}; surrounding and repeated spaces are ignored
     * @param zone an IANA time-zone name such as {@code Europe/Berlin}; null or blank means UTC
     * @throws HavenException USAGE naming what is wrong: the field of a cron expression, the
     *     unit or size of an interval, an expression that never fires, or an unknown zone
     */
    public static Schedule parse(String expression, String zone) {
        ZoneId z = zone(zone);
        String e = expression == null ? "" : expression.trim().replaceAll("\\s+", " ");
        if (e.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE,
                    "the schedule is empty: give a cron expression such as '0 2 * * *' or an interval such as 'every 6h'");
        }
        if (e.toLowerCase(Locale.ROOT).startsWith("every")) {
            IntervalRule r = IntervalRule.parse(e);
            return new Schedule(r.text(), z, r);
        }
        CronRule r = CronRule.parse(e);
        return new Schedule(r.text(), z, r);
    }

    private static ZoneId zone(String zone) {
        if (zone == null || zone.isBlank()) {
            return ZoneId.of("UTC");
        }
        try {
            return ZoneId.of(zone.trim());
        } catch (DateTimeException e) {
            throw new HavenException(ErrorCode.USAGE, "unknown time zone '" + zone
                    + "': use an IANA name such as Europe/Berlin, America/New_York or UTC");
        }
    }

    /** The expression, normalized: single spaces for cron, {@code every 15m} for intervals. */
    public String expression() {
        return expression;
    }

    public ZoneId zone() {
        return zone;
    }

    /** The first tick strictly after {@code after}. */
    public Instant next(Instant after) {
        Objects.requireNonNull(after, "after");
        ZoneRules rules = zone.getRules();
        LocalDateTime cursor = LocalDateTime.ofInstant(after, zone);
        ZoneOffsetTransition around = rules.getTransition(cursor);
        if (around != null && around.isOverlap() && rule.firesTwiceWhenRepeated()
                && rules.getOffset(after).equals(around.getOffsetBefore())) {
            // on the first pass of a repeated hour, earlier local times still fire on the second pass
            cursor = around.getDateTimeAfter().minusNanos(1);
        }
        // Local matches map to instants in order, except that a second pass in a repeated hour
        // comes after first passes of later local times: keep the earliest second pass seen
        // until a first pass passes `after`.
        Instant secondPass = null;
        while (true) {
            LocalDateTime t = rule.nextAfter(cursor);
            ZoneOffsetTransition tr = rules.getTransition(t);
            Instant first;
            if (tr == null) {
                first = t.toInstant(rules.getOffset(t));
            } else if (tr.isGap()) {
                first = tr.getInstant();
            } else {
                first = t.toInstant(tr.getOffsetBefore());
                Instant second = t.toInstant(tr.getOffsetAfter());
                if (rule.firesTwiceWhenRepeated() && second.isAfter(after) && (secondPass == null || second.isBefore(secondPass))) {
                    secondPass = second;
                }
            }
            if (first.isAfter(after)) {
                return secondPass != null && secondPass.isBefore(first) ? secondPass : first;
            }
            cursor = t;
        }
    }

    /**
     * The catch-up rule: a schedule whose planned tick has passed runs <b>once</b>, however many
     * ticks went by (while the server was down, say), and then waits for the first tick after
     * {@code now}. Pure: the caller persists {@code nextPlanned} and starts the run.
     *
     * @param plannedAt the tick the scheduler was waiting for (the previous {@code nextPlanned});
     *     need not be a tick of this schedule (after a schedule change it may not be)
     * @param now the current time
     */
    public Due due(Instant plannedAt, Instant now) {
        Objects.requireNonNull(plannedAt, "plannedAt");
        Objects.requireNonNull(now, "now");
        if (now.isBefore(plannedAt)) {
            return new Due(false, 0, plannedAt);
        }
        int due = 1;
        Instant t = plannedAt;
        while (due < MAX_COUNTED_TICKS) {
            Instant n = next(t);
            if (n.isAfter(now)) {
                return new Due(true, due, n);
            }
            due++;
            t = n;
        }
        return new Due(true, due, next(now));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Schedule s && s.expression.equals(expression) && s.zone.equals(zone);
    }

    @Override
    public int hashCode() {
        return expression.hashCode() * 31 + zone.hashCode();
    }

    /** {@code 0 2 * * * (Europe/Berlin)}. */
    @Override
    public String toString() {
        return expression + " (" + zone.getId() + ")";
    }
}
