package io.haven.runbook;

/**
 * Which of a plan's replication snapshots (its DR copies' recovery points) the server keeps
 * ({@code retention:} in the plan file; docs/runbooks.md, "Retention of DR copies"). Each count
 * is "how many periods, newest first, keep their newest point", as {@code haven forget}'s
 * {@code --keep-*} rules read it; a point is kept when any rule keeps it. Periods are in UTC.
 * Whatever the counts, the server keeps the newest point, every point a copy holds, and
 * everything while a run of the plan is open.
 *
 * <p>A field left out of the plan file takes its value from {@link #DEFAULT}, so
 * {@code retention: {daily: 90}} keeps three months of daily points and the rest as before.
 *
 * @param last the newest points, whatever their age
 * @param hourly the newest point of each of the last hours that have one
 * @param daily of each of the last days
 * @param weekly of each of the last ISO weeks
 * @param monthly of each of the last months
 */
public record CopyRetention(int last, int hourly, int daily, int weekly, int monthly) {
    /** Ten points, 48 hours and 30 days: why, in docs/runbooks.md. */
    public static final CopyRetention DEFAULT = new CopyRetention(10, 48, 30, 0, 0);
    /** More than ten years of hours; a larger count is a typing mistake rather than a wish. */
    public static final int MAX = 100_000;

    public CopyRetention {
        Checks c = new Checks();
        c.range("last", last, 0, MAX);
        c.range("hourly", hourly, 0, MAX);
        c.range("daily", daily, 0, MAX);
        c.range("weekly", weekly, 0, MAX);
        c.range("monthly", monthly, 0, MAX);
        if (c.ok() && last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0) {
            c.add("", "keeps no point but the newest; give at least one count above 0 "
                    + "(left out, the counts are last: 10, hourly: 48, daily: 30)");
        }
        c.done();
    }

    /** The five counts by their plan-file names, in the file's order (for the plan's YAML and the API). */
    public java.util.Map<String, Object> asMap() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("last", last);
        m.put("hourly", hourly);
        m.put("daily", daily);
        m.put("weekly", weekly);
        m.put("monthly", monthly);
        return m;
    }

    /** Whether these are the default rules (a plan file then need not write them). */
    public boolean isDefault() {
        return equals(DEFAULT);
    }
}
