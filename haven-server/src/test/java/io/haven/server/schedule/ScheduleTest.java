package io.haven.server.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    // 2025: clocks go forward on 30 March at 02:00 CET (01:00Z), back on 26 October at 03:00 CEST (01:00Z)

    static Instant utc(String s) {
        return Instant.parse(s);
    }

    static Instant berlin(String localDateTime) {
        return LocalDateTime.parse(localDateTime).atZone(BERLIN).toInstant();
    }

    static List<Instant> ticks(Schedule s, Instant from, Instant until) {
        List<Instant> out = new ArrayList<>();
        for (Instant t = s.next(from); t.isBefore(until); t = s.next(t)) {
            out.add(t);
        }
        return out;
    }

    static void assertUsage(String expression, String zone, String... fragments) {
        assertThatThrownBy(() -> Schedule.parse(expression, zone))
                .isInstanceOf(HavenException.class)
                .satisfies(e -> assertThat(((HavenException) e).code()).isEqualTo(ErrorCode.USAGE))
                .message().contains(fragments);
    }

    @Test
    void cronNextIsStrictlyAfterTheGivenInstant() {
        Schedule s = Schedule.parse("0 2 * * *", "UTC");
        assertThat(s.next(utc("2025-01-01T01:59:59.999Z"))).isEqualTo(utc("2025-01-01T02:00:00Z"));
        assertThat(s.next(utc("2025-01-01T02:00:00Z"))).isEqualTo(utc("2025-01-02T02:00:00Z"));
        assertThat(s.next(utc("2025-01-01T02:00:00.001Z"))).isEqualTo(utc("2025-01-02T02:00:00Z"));
    }

    @Test
    void cronIsReadOnTheWallClockOfItsZone() {
        Schedule s = Schedule.parse("0 2 * * *", "Europe/Berlin");
        assertThat(s.next(utc("2025-01-15T12:00:00Z"))).isEqualTo(utc("2025-01-16T01:00:00Z")); // 02:00 CET
        assertThat(s.next(utc("2025-07-15T12:00:00Z"))).isEqualTo(utc("2025-07-16T00:00:00Z")); // 02:00 CEST
    }

    @Test
    void aFixedTimeSkippedBySpringForwardFiresOnceAtTheChange() {
        Schedule s = Schedule.parse("30 2 * * *", "Europe/Berlin");
        Instant before = s.next(berlin("2025-03-28T12:00"));
        assertThat(before).isEqualTo(berlin("2025-03-29T02:30"));
        Instant gapDay = s.next(before);
        assertThat(gapDay).isEqualTo(utc("2025-03-30T01:00:00Z")); // 02:30 does not exist: 03:00 CEST, the change
        assertThat(gapDay.atZone(BERLIN).toLocalDateTime()).isEqualTo(LocalDateTime.parse("2025-03-30T03:00"));
        assertThat(s.next(gapDay)).isEqualTo(berlin("2025-03-31T02:30"));
        // the hour after the gap is untouched
        assertThat(Schedule.parse("0 3 * * *", "Europe/Berlin").next(berlin("2025-03-29T12:00")))
                .isEqualTo(utc("2025-03-30T01:00:00Z"));
    }

    @Test
    void aFixedTimeRepeatedByAutumnFallBackFiresOnlyOnItsFirstPass() {
        Schedule s = Schedule.parse("30 2 * * *", "Europe/Berlin");
        Instant first = s.next(berlin("2025-10-25T12:00"));
        assertThat(first).isEqualTo(utc("2025-10-26T00:30:00Z")); // 02:30 CEST
        assertThat(s.next(first)).isEqualTo(utc("2025-10-27T01:30:00Z")); // not 02:30 CET on the 26th
        // asked from inside the repeated hour's second pass, it waits for the next day
        assertThat(s.next(utc("2025-10-26T01:10:00Z"))).isEqualTo(utc("2025-10-27T01:30:00Z"));
    }

    @Test
    void aWildcardCronKeepsElapsedTimeThroughBothChanges() {
        Schedule s = Schedule.parse("*/15 * * * *", "Europe/Berlin");
        for (String day : List.of("2025-03-30", "2025-10-26")) {
            Instant from = utc(day + "T00:00:00Z").minus(Duration.ofHours(3));
            List<Instant> ticks = ticks(s, from, from.plus(Duration.ofHours(8)));
            assertThat(ticks).hasSize(8 * 4 - 1);
            for (int i = 1; i < ticks.size(); i++) {
                assertThat(Duration.between(ticks.get(i - 1), ticks.get(i))).as(day + " tick " + i).isEqualTo(Duration.ofMinutes(15));
            }
        }
        // from inside the first pass of the repeated hour, the next tick is the next quarter hour
        assertThat(s.next(utc("2025-10-26T00:50:00Z"))).isEqualTo(utc("2025-10-26T01:00:00Z")); // 02:00 CET
        assertThat(s.next(utc("2025-10-26T01:05:00Z"))).isEqualTo(utc("2025-10-26T01:15:00Z")); // 02:15 CET
    }

    @Test
    void anHourlyCronFiresOnBothPassesOfTheRepeatedHour() {
        Schedule s = Schedule.parse("15 * * * *", "Europe/Berlin");
        assertThat(ticks(s, utc("2025-10-25T23:00:00Z"), utc("2025-10-26T03:00:00Z"))).containsExactly(
                utc("2025-10-25T23:15:00Z"), utc("2025-10-26T00:15:00Z"), utc("2025-10-26T01:15:00Z"), utc("2025-10-26T02:15:00Z"));
    }

    @Test
    void cronAndTheEquivalentIntervalGiveTheSameTicksAllYear() {
        for (String zone : List.of("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC")) {
            Instant from = utc("2025-01-01T00:00:00Z");
            Instant until = utc("2026-01-01T00:00:00Z");
            assertThat(ticks(Schedule.parse("0 * * * *", zone), from, until)).as(zone + " hourly")
                    .isEqualTo(ticks(Schedule.parse("every 1h", zone), from, until));
            assertThat(ticks(Schedule.parse("0 0 * * *", zone), from, until)).as(zone + " daily")
                    .isEqualTo(ticks(Schedule.parse("every 1d", zone), from, until));
        }
    }

    @Test
    void intervalsAreAnchoredToTheEpochInTheirZoneNotToTheStartTime() {
        Schedule q = Schedule.parse("every 15m", "UTC");
        assertThat(q.next(utc("2025-05-05T10:07:13Z"))).isEqualTo(utc("2025-05-05T10:15:00Z"));
        assertThat(q.next(utc("2025-05-05T10:15:00Z"))).isEqualTo(utc("2025-05-05T10:30:00Z"));
        Schedule six = Schedule.parse("every 6h", "Europe/Berlin");
        for (String start : List.of("2025-05-05T00:00", "2025-05-05T01:23", "2025-05-05T05:59")) {
            assertThat(six.next(berlin(start))).as(start).isEqualTo(berlin("2025-05-05T06:00"));
        }
        assertThat(ticks(six, berlin("2025-05-05T00:00"), berlin("2025-05-06T00:01")))
                .extracting(t -> t.atZone(BERLIN).getHour()).containsExactly(6, 12, 18, 0);
        Schedule seven = Schedule.parse("every 7m", "UTC");
        assertThat(seven.next(utc("1970-01-01T00:00:00Z"))).isEqualTo(utc("1970-01-01T00:07:00Z"));
        // 2025-05-05T10:00Z is minute 29,107,320 of the epoch = 7 × 4,158,188 + 4: the next multiple is 3 minutes on
        assertThat(seven.next(utc("2025-05-05T10:00:00Z"))).isEqualTo(utc("2025-05-05T10:03:00Z"));
        Schedule twoDays = Schedule.parse("every 2d", "UTC");
        assertThat(twoDays.next(utc("1970-01-01T00:00:00Z"))).isEqualTo(utc("1970-01-03T00:00:00Z"));
    }

    @Test
    void intervalsFollowLocalTimeAcrossDaylightSavingChanges() {
        Schedule six = Schedule.parse("every 6h", "Europe/Berlin");
        assertThat(ticks(six, berlin("2025-03-29T20:00"), berlin("2025-03-30T13:00"))).containsExactly(
                berlin("2025-03-30T00:00"), berlin("2025-03-30T06:00"), berlin("2025-03-30T12:00"));
        assertThat(Duration.between(berlin("2025-03-30T00:00"), berlin("2025-03-30T06:00"))).isEqualTo(Duration.ofHours(5));
        assertThat(ticks(six, berlin("2025-10-25T20:00"), berlin("2025-10-26T13:00"))).containsExactly(
                berlin("2025-10-26T00:00"), berlin("2025-10-26T06:00"), berlin("2025-10-26T12:00"));
        Schedule hourly = Schedule.parse("every 1h", "Europe/Berlin");
        assertThat(ticks(hourly, utc("2025-10-25T23:30:00Z"), utc("2025-10-26T02:30:00Z"))).containsExactly(
                utc("2025-10-26T00:00:00Z"), utc("2025-10-26T01:00:00Z"), utc("2025-10-26T02:00:00Z"));
        assertThat(ticks(hourly, utc("2025-03-29T23:30:00Z"), utc("2025-03-30T02:30:00Z"))).containsExactly(
                utc("2025-03-30T00:00:00Z"), utc("2025-03-30T01:00:00Z"), utc("2025-03-30T02:00:00Z"));
    }

    @Test
    void dayOfWeekRestrictsTheDaysAndNamesAndSevenWork() {
        Schedule weekdays = Schedule.parse("*/15 * * * 1-5", "UTC");
        // Friday 3 January 2025, 23:50 → Monday 6 January, 00:00
        assertThat(weekdays.next(utc("2025-01-03T23:50:00Z"))).isEqualTo(utc("2025-01-06T00:00:00Z"));
        assertThat(weekdays.next(utc("2025-01-03T10:00:00Z"))).isEqualTo(utc("2025-01-03T10:15:00Z"));
        Instant monday9 = utc("2025-01-06T09:00:00Z");
        assertThat(Schedule.parse("0 9 * * MON", "UTC").next(utc("2025-01-01T00:00:00Z"))).isEqualTo(monday9);
        Instant sunday = utc("2025-01-05T00:00:00Z");
        assertThat(Schedule.parse("0 0 * * 0", "UTC").next(utc("2025-01-01T00:00:00Z"))).isEqualTo(sunday);
        assertThat(Schedule.parse("0 0 * * 7", "UTC").next(utc("2025-01-01T00:00:00Z"))).isEqualTo(sunday);
        assertThat(Schedule.parse("0 0 * * SUN", "UTC").next(utc("2025-01-01T00:00:00Z"))).isEqualTo(sunday);
        // both day fields restricted: either matches (Vixie cron): Fridays and the 13th
        assertThat(ticks(Schedule.parse("0 0 13 * 5", "UTC"), utc("2025-01-01T00:00:00Z"), utc("2025-01-18T00:00:00Z")))
                .containsExactly(utc("2025-01-03T00:00:00Z"), utc("2025-01-10T00:00:00Z"), utc("2025-01-13T00:00:00Z"),
                        utc("2025-01-17T00:00:00Z"));
        // in its zone: Monday 00:00 in Berlin is still Sunday in UTC
        assertThat(Schedule.parse("0 0 * * 1", "Europe/Berlin").next(utc("2025-01-04T00:00:00Z")))
                .isEqualTo(utc("2025-01-05T23:00:00Z"));
    }

    @Test
    void leapDayRunsEveryFourYears() {
        Schedule s = Schedule.parse("0 0 29 2 *", "UTC");
        assertThat(s.next(utc("2025-01-01T00:00:00Z"))).isEqualTo(utc("2028-02-29T00:00:00Z"));
    }

    @Test
    void badExpressionsAreRefusedNamingWhatIsWrong() {
        assertUsage("", "UTC", "the schedule is empty");
        assertUsage(null, "UTC", "the schedule is empty");
        assertUsage("0 2 * *", "UTC", "has 4 fields", "it needs 5 fields");
        assertUsage("0 2 * * * *", "UTC", "has 6 fields");
        assertUsage("0 25 * * *", "UTC", "the hour field '25' is wrong", "not in range [0, 23]");
        assertUsage("61 * * * *", "UTC", "the minute field '61'");
        assertUsage("x * * * *", "UTC", "the minute field 'x'");
        assertUsage("0 0 0 * *", "UTC", "the day-of-month field '0'");
        assertUsage("0 0 * 13 *", "UTC", "the month field '13'");
        assertUsage("0 0 * * 8", "UTC", "the day-of-week field '8'");
        assertUsage("0 0 * * 1#2", "UTC", "the day-of-week field '1#2'");
        assertUsage("0 0 30 2 *", "UTC", "never fires");
        assertUsage("@daily", "UTC", "nicknames", "'@daily'");
        assertUsage("every 15x", "UTC", "the unit 'x'", "m (minutes), h (hours) or d (days)");
        assertUsage("every 15", "UTC", "has no unit");
        assertUsage("every 0m", "UTC", "is zero");
        assertUsage("every 400d", "UTC", "longer than the longest");
        assertUsage("every", "UTC", "'every 15m'");
        assertUsage("every -5m", "UTC", "'every 15m'");
    }

    @Test
    void unknownZonesAreRefused() {
        assertUsage("0 2 * * *", "Europe/Berln", "unknown time zone 'Europe/Berln'", "IANA");
        assertUsage("every 1h", "Mars/Olympus", "unknown time zone 'Mars/Olympus'");
        assertUsage("every 1h", "not a zone!", "unknown time zone");
    }

    @Test
    void expressionsAreNormalizedAndTheZoneDefaultsToUtc() {
        Schedule s = Schedule.parse("  0   2 * *  * ", null);
        assertThat(s.expression()).isEqualTo("0 2 * * *");
        assertThat(s.zone()).isEqualTo(ZoneId.of("UTC"));
        assertThat(Schedule.parse("0 2 * * *", " ").zone()).isEqualTo(ZoneId.of("UTC"));
        assertThat(Schedule.parse("Every 6H", "Europe/Berlin").expression()).isEqualTo("every 6h");
        assertThat(Schedule.parse("every 120m", "UTC").expression()).isEqualTo("every 2h");
        assertThat(Schedule.parse("every 90 m", "UTC").expression()).isEqualTo("every 90m");
        assertThat(Schedule.parse("every 24h", "UTC").expression()).isEqualTo("every 1d");
        assertThat(Schedule.parse("0 2 * * *", "Europe/Berlin")).isEqualTo(Schedule.parse(" 0 2 * * * ", "Europe/Berlin"))
                .isNotEqualTo(Schedule.parse("0 2 * * *", "UTC"))
                .hasToString("0 2 * * * (Europe/Berlin)");
    }

    @Test
    void tenTicksMissedWhileTheServerWasDownGiveOneRunAndTheNextTickAfterNow() {
        Schedule s = Schedule.parse("every 1h", "UTC");
        Instant planned = utc("2025-01-01T00:00:00Z");
        Instant now = utc("2025-01-01T09:30:00Z"); // down from before 00:00 until 09:30: ticks 00:00 … 09:00
        Schedule.Due due = s.due(planned, now);
        assertThat(due.runNow()).isTrue();
        assertThat(due.dueTicks()).isEqualTo(10);
        assertThat(due.missedTicks()).isEqualTo(9);
        assertThat(due.nextPlanned()).isEqualTo(utc("2025-01-01T10:00:00Z")).isAfter(now);
        // after the one run, the scheduler waits for 10:00: nothing more is due before then
        assertThat(s.due(due.nextPlanned(), now.plusSeconds(60)).runNow()).isFalse();
    }

    @Test
    void aTickOnTimeRunsOnceAndAFutureTickWaits() {
        Schedule s = Schedule.parse("0 2 * * *", "Europe/Berlin");
        Instant planned = berlin("2025-06-01T02:00");
        Schedule.Due onTime = s.due(planned, planned);
        assertThat(onTime).isEqualTo(new Schedule.Due(true, 1, berlin("2025-06-02T02:00")));
        assertThat(onTime.missedTicks()).isZero();
        Schedule.Due early = s.due(planned, planned.minusSeconds(1));
        assertThat(early).isEqualTo(new Schedule.Due(false, 0, planned));
        // late, but within the same period: one run, nothing missed
        assertThat(s.due(planned, planned.plus(Duration.ofHours(5)))).isEqualTo(new Schedule.Due(true, 1, berlin("2025-06-02T02:00")));
    }

    @Test
    void aPlannedTimeThatIsNotATickStillCountsOnce() {
        // the schedule changed from hourly to daily while a tick at 05:00 was planned
        Schedule daily = Schedule.parse("0 2 * * *", "UTC");
        Schedule.Due due = daily.due(utc("2025-01-01T05:00:00Z"), utc("2025-01-03T03:00:00Z"));
        assertThat(due).isEqualTo(new Schedule.Due(true, 3, utc("2025-01-04T02:00:00Z"))); // 05:00, 2 Jan 02:00, 3 Jan 02:00
    }

    @Test
    void aVeryLongOutageIsCountedUpToTheLimit() {
        Schedule s = Schedule.parse("every 1m", "UTC");
        Instant planned = utc("2024-01-01T00:00:00Z");
        Schedule.Due due = s.due(planned, utc("2025-01-01T00:00:30Z"));
        assertThat(due.dueTicks()).isEqualTo(Schedule.MAX_COUNTED_TICKS);
        assertThat(due.nextPlanned()).isEqualTo(utc("2025-01-01T00:01:00Z"));
    }

    @Test
    void nextIsStrictlyIncreasingOverAYearInSeveralZones() {
        for (String zone : List.of("Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Kathmandu")) {
            for (String expr : List.of("*/15 * * * *", "30 2 * * *", "every 6h", "0 0 * * 0")) {
                Schedule s = Schedule.parse(expr, zone);
                Instant t = utc("2018-01-01T00:00:00Z");
                for (int i = 0; i < 2000; i++) {
                    Instant n = s.next(t);
                    assertThat(n).as(s + " after " + t).isAfter(t);
                    assertThat(Duration.between(t, n)).as(s + " after " + t).isLessThan(Duration.ofDays(8));
                    t = n;
                }
            }
        }
    }
}
