package io.haven.server.schedule;

import java.time.LocalDateTime;

/**
 * The wall-clock half of a {@link Schedule}: which local date-times match, with no time zone.
 * {@link Schedule} maps them to instants. Implementations are immutable.
 */
sealed interface LocalRule permits CronRule, IntervalRule {
    /** The first matching local date-time strictly after {@code t}. */
    LocalDateTime nextAfter(LocalDateTime t);

    /**
     * Whether a match inside a repeated hour (clocks set back) fires on both passes. True for
     * rules that follow elapsed time (every 15 minutes, every hour), false for fixed times of day
     * (02:30 runs once).
     */
    boolean firesTwiceWhenRepeated();
}
