package io.haven.repository.maintenance;

import io.haven.repository.Repository.SnapshotEntry;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Applies a {@link RetentionPolicy} to snapshots: groups them (by host and paths unless chosen
 * otherwise), walks each group newest first and records, for every kept snapshot, every rule
 * that keeps it. Pure: no I/O; calendar periods are taken in the given time zone.
 */
public final class Retention {
    /** What the snapshots are grouped by. */
    public enum GroupBy { HOST, PATHS, TAGS }

    /** A kept snapshot and why. */
    public record Kept(SnapshotEntry snapshot, List<String> reasons) {}

    /** One group's decision. {@code key} describes the group, e.g. {@code host=db1 paths=[/etc]}. */
    public record Group(String key, List<Kept> keep, List<SnapshotEntry> remove) {}

    private Retention() {}

    public static List<Group> apply(List<SnapshotEntry> snapshots, RetentionPolicy policy, Set<GroupBy> groupBy, ZoneId zone) {
        Map<String, List<SnapshotEntry>> groups = new LinkedHashMap<>();
        List<SnapshotEntry> sorted = new ArrayList<>(snapshots);
        sorted.sort(Comparator.comparing(SnapshotEntry::time).thenComparing(SnapshotEntry::id));
        for (SnapshotEntry s : sorted) {
            groups.computeIfAbsent(groupKey(s, groupBy), k -> new ArrayList<>()).add(s);
        }
        List<Group> out = new ArrayList<>();
        for (Map.Entry<String, List<SnapshotEntry>> g : groups.entrySet()) {
            out.add(applyToGroup(g.getKey(), g.getValue().reversed(), policy, zone));
        }
        return out;
    }

    static String groupKey(SnapshotEntry s, Set<GroupBy> by) {
        List<String> parts = new ArrayList<>();
        if (by.contains(GroupBy.HOST)) {
            parts.add("host=" + s.snapshot().host());
        }
        if (by.contains(GroupBy.PATHS)) {
            parts.add("paths=" + new TreeSet<>(s.snapshot().paths()));
        }
        if (by.contains(GroupBy.TAGS)) {
            parts.add("tags=" + new TreeSet<>(s.snapshot().tags()));
        }
        return parts.isEmpty() ? "all" : String.join(" ", parts);
    }

    /** {@code newestFirst} is the group, newest snapshot first. */
    private static Group applyToGroup(String key, List<SnapshotEntry> newestFirst, RetentionPolicy p, ZoneId zone) {
        int[] left = {p.last(), p.hourly(), p.daily(), p.weekly(), p.monthly(), p.yearly()};
        String[] names = {"last", "hourly", "daily", "weekly", "monthly", "yearly"};
        String[] lastBucket = new String[6];
        ZonedDateTime newest = newestFirst.isEmpty() ? null : newestFirst.get(0).time().atZone(zone);
        ZonedDateTime withinLimit = null;
        if (p.within() != null && newest != null) {
            withinLimit = newest.minus(p.within().period()).minus(p.within().duration());
        }
        List<Kept> keep = new ArrayList<>();
        List<SnapshotEntry> remove = new ArrayList<>();
        int index = 0;
        for (SnapshotEntry s : newestFirst) {
            ZonedDateTime t = s.time().atZone(zone);
            List<String> reasons = new ArrayList<>();
            String[] buckets = {
                String.valueOf(index),
                String.format("%04d-%02d-%02d %02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth(), t.getHour()),
                String.format("%04d-%02d-%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth()),
                String.format("%04d-W%02d", t.get(IsoFields.WEEK_BASED_YEAR), t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR)),
                String.format("%04d-%02d", t.getYear(), t.getMonthValue()),
                String.format("%04d", t.getYear()),
            };
            for (int r = 0; r < 6; r++) {
                if (left[r] > 0 && !buckets[r].equals(lastBucket[r])) {
                    lastBucket[r] = buckets[r];
                    left[r]--;
                    reasons.add(r == 0 ? "last " + p.last() : names[r] + " (" + buckets[r] + ")");
                }
            }
            if (withinLimit != null && !t.isBefore(withinLimit)) {
                reasons.add("within " + p.within().text() + " of the newest");
            }
            for (String tag : p.tags()) {
                if (s.snapshot().hasTags(tag)) {
                    reasons.add("tagged " + tag);
                }
            }
            if (reasons.isEmpty()) {
                remove.add(s);
            } else {
                keep.add(new Kept(s, List.copyOf(reasons)));
            }
            index++;
        }
        return new Group(key, keep, remove);
    }
}
