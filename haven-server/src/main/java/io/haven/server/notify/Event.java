package io.haven.server.notify;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Something the server tells people about. Immutable.
 *
 * @param kind what happened; channels filter on it
 * @param severity how urgent it is
 * @param subject one line for a mail subject or a chat message: line breaks and other control
 *     characters become one space, and text beyond {@value #MAX_SUBJECT} characters is cut (so
 *     building an event from an error message never fails)
 * @param details facts for the reader, in order (job id, host, error…), sent as JSON in a
 *     webhook and as {@code key: value} lines in a mail; values are kept when they are strings,
 *     numbers, booleans, null, lists or maps of those, and replaced by their {@code toString()}
 *     otherwise (an {@code Instant} becomes its ISO-8601 text)
 * @param time when it happened
 */
public record Event(Kind kind, Severity severity, String subject, Map<String, Object> details, Instant time) {
    /** The longest subject kept. */
    public static final int MAX_SUBJECT = 200;

    /** What happened. Labels ({@code job_failed}) are what the API and payloads use. */
    public enum Kind {
        JOB_FAILED, SCHEDULE_MISSED, AGENT_OFFLINE, DR_RUN, APPROVAL_NEEDED, RPO_BREACH, RPO_MET, TEST;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** @throws HavenException USAGE for an unknown label, listing the known ones */
        public static Kind parse(String label) {
            for (Kind k : values()) {
                if (k.label().equals(label)) {
                    return k;
                }
            }
            throw new HavenException(ErrorCode.USAGE, "unknown event '" + label
                    + "'; use job_failed, schedule_missed, agent_offline, dr_run, approval_needed, rpo_breach, rpo_met or test");
        }
    }

    /** How urgent an event is. */
    public enum Severity {
        INFO, WARNING, CRITICAL;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Event {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(time, "time");
        subject = subject == null ? "" : subject.replaceAll("\\s*\\p{Cntrl}+\\s*", " ").strip();
        if (subject.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "an event needs a subject");
        }
        if (subject.length() > MAX_SUBJECT) {
            subject = subject.substring(0, MAX_SUBJECT - 1) + "…";
        }
        details = details == null ? Map.of() : plainMap(details);
    }

    private static Map<String, Object> plainMap(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), plain(v)));
        return Collections.unmodifiableMap(out);
    }

    private static Object plain(Object v) {
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v;
        }
        if (v instanceof Map<?, ?> m) {
            return plainMap(m);
        }
        if (v instanceof Collection<?> c) {
            return Collections.unmodifiableList(c.stream().map(Event::plain).collect(java.util.stream.Collectors.toList()));
        }
        return v.toString();
    }
}
