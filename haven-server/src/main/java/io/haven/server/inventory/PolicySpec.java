package io.haven.server.inventory;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.maintenance.RetentionPolicy;
import java.util.List;

/**
 * What a backup policy says, stored as JSON in {@code policies.spec}.
 *
 * @param schedule when backups run: a 5-field cron expression or {@code every 15m|6h|1d}
 * @param timezone the IANA zone the schedule is read in (default UTC)
 * @param retention which snapshots {@code forget} keeps (null: keep all)
 * @param excludes patterns excluded from every workload's backup, on top of its own
 * @param bandwidthLimit bytes per second an agent may send while backing up (0: no limit)
 * @param maintenanceSchedule when retention (forget + prune) runs on the server (default daily 04:00)
 */
public record PolicySpec(String schedule, String timezone, Retention retention, List<String> excludes, long bandwidthLimit,
        String maintenanceSchedule) {
    /** The {@code haven forget} rules, per workload. */
    public record Retention(int keepLast, int keepHourly, int keepDaily, int keepWeekly, int keepMonthly, int keepYearly,
            String keepWithin) {
        public boolean isEmpty() {
            return keepLast == 0 && keepHourly == 0 && keepDaily == 0 && keepWeekly == 0 && keepMonthly == 0 && keepYearly == 0
                    && (keepWithin == null || keepWithin.isBlank());
        }

        /**
         * These rules as {@code forget} (and so maintenance) applies them, read by the same parser.
         *
         * @throws HavenException USAGE naming the option, for a negative count or a duration it cannot read
         */
        public RetentionPolicy rules() {
            count("keepLast", "--keep-last", keepLast);
            count("keepHourly", "--keep-hourly", keepHourly);
            count("keepDaily", "--keep-daily", keepDaily);
            count("keepWeekly", "--keep-weekly", keepWeekly);
            count("keepMonthly", "--keep-monthly", keepMonthly);
            count("keepYearly", "--keep-yearly", keepYearly);
            RetentionPolicy.Within within = null;
            if (keepWithin != null && !keepWithin.isBlank()) {
                try {
                    within = RetentionPolicy.Within.parse(keepWithin);
                } catch (HavenException e) {
                    throw new HavenException(ErrorCode.USAGE, "retention keepWithin (--keep-within): " + e.getMessage());
                }
            }
            return new RetentionPolicy(keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly, within, List.of());
        }

        private static void count(String field, String option, int n) {
            if (n < 0) {
                throw new HavenException(ErrorCode.USAGE, "retention " + field + " (" + option + ") is a count of snapshots to keep, "
                        + "0 or more, not " + n);
            }
        }
    }

    public PolicySpec {
        timezone = timezone == null || timezone.isBlank() ? "UTC" : timezone;
        excludes = excludes == null ? List.of() : List.copyOf(excludes);
        maintenanceSchedule = maintenanceSchedule == null || maintenanceSchedule.isBlank() ? "0 4 * * *" : maintenanceSchedule;
        if (bandwidthLimit < 0) {
            throw new HavenException(ErrorCode.USAGE, "bandwidthLimit must not be negative");
        }
    }
}
