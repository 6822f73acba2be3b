package io.haven.server.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * A 5-field Unix cron expression (minute, hour, day of month, month, day of week; lists,
 * ranges, steps, month and day names; when both day fields are restricted either may match, as
 * in Vixie cron), parsed and matched by cron-utils.
 *
 * <p>cron-utils only ever sees UTC here, where every local date-time exists exactly once:
 * {@link Schedule} applies the daylight-saving rules itself, so cron-utils' own handling of
 * zone transitions plays no part. Its {@link ExecutionTime} holds only final state and is shared
 * between threads.
 */
final class CronRule implements LocalRule {
    private static final String[] FIELDS = {"minute", "hour", "day-of-month", "month", "day-of-week"};
    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final String HINT = "5 fields: minute hour day-of-month month day-of-week, as in '0 2 * * *' or '*/15 * * * 1-5'";

    private final String text;
    private final ExecutionTime execution;
    private final boolean wildcard;

    private CronRule(String text, ExecutionTime execution, boolean wildcard) {
        this.text = text;
        this.execution = execution;
        this.wildcard = wildcard;
    }

    /**
     * Parses a cron expression whose fields are separated by single spaces.
     *
     * @throws HavenException USAGE naming the field that is wrong, or saying that the expression
     *     never fires (30 February)
     */
    static CronRule parse(String text) {
        String[] f = text.split(" ");
        if (text.startsWith("@")) {
            throw new HavenException(ErrorCode.USAGE, "cron nicknames such as '" + f[0] + "' are not supported; write "
                    + HINT);
        }
        if (f.length != 5) {
            throw new HavenException(ErrorCode.USAGE, "cron expression '" + text + "' has " + f.length + " field"
                    + (f.length == 1 ? "" : "s") + "; it needs " + HINT);
        }
        // parse each field alone first, so the message can name the one that is wrong
        for (int i = 0; i < 5; i++) {
            String[] probe = {"*", "*", "*", "*", "*"};
            probe[i] = f[i];
            try {
                PARSER.parse(String.join(" ", probe)).validate();
            } catch (IllegalArgumentException e) {
                throw new HavenException(ErrorCode.USAGE, "cron expression '" + text + "': the " + FIELDS[i] + " field '"
                        + f[i] + "' is wrong (" + reason(e) + "); it needs " + HINT);
            }
        }
        Cron cron;
        try {
            cron = PARSER.parse(text).validate();
        } catch (IllegalArgumentException e) {
            throw new HavenException(ErrorCode.USAGE, "cron expression '" + text + "' is wrong (" + reason(e) + "); it needs " + HINT);
        }
        // Vixie cron's rule: a minute or hour field starting with '*' makes a "wildcard" job that
        // keeps running through a repeated hour; fixed times run on its first pass only
        CronRule rule = new CronRule(text, ExecutionTime.forCron(cron), f[0].startsWith("*") || f[1].startsWith("*"));
        if (rule.find(LocalDateTime.of(2000, 1, 1, 0, 0)).isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "cron expression '" + text
                    + "' never fires: no date has that day of the month in those months");
        }
        return rule;
    }

    private static String reason(IllegalArgumentException e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        String prefix = "Failed to parse cron expression. ";
        m = m.startsWith(prefix) ? m.substring(prefix.length()) : m;
        return m.isEmpty() ? m : Character.toLowerCase(m.charAt(0)) + m.substring(1);
    }

    String text() {
        return text;
    }

    @Override
    public LocalDateTime nextAfter(LocalDateTime t) {
        // matches are whole minutes: the next one after t is the next one after t's minute
        return find(t.truncatedTo(ChronoUnit.MINUTES)).orElseThrow(() -> new HavenException(ErrorCode.INTERNAL,
                "cron expression '" + text + "' has no time after " + t));
    }

    private Optional<LocalDateTime> find(LocalDateTime t) {
        Optional<ZonedDateTime> next = execution.nextExecution(t.atZone(ZoneOffset.UTC));
        return next.map(ZonedDateTime::toLocalDateTime);
    }

    @Override
    public boolean firesTwiceWhenRepeated() {
        return wildcard;
    }
}
