package io.haven.server.notify;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A stored notification channel. Immutable.
 *
 * @param events the kinds it receives; empty means every kind
 * @param enabled whether {@link Notifier#notify(Event)} uses it (a test send does regardless)
 */
public record Channel(long id, String name, ChannelConfig config, Set<Event.Kind> events, boolean enabled, Instant createdAt) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public Channel {
        checkName(name);
        Objects.requireNonNull(config, "config");
        events = events.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(events));
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** @throws HavenException USAGE unless 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new HavenException(ErrorCode.USAGE, "a channel name has 1 to 64 letters, digits, '.', '_' or '-' and starts "
                    + "with a letter or digit" + (name == null ? "" : ", not '" + name + "'"));
        }
        return name;
    }

    /** Whether this channel receives events of that kind (ignoring {@link #enabled}). */
    public boolean accepts(Event.Kind kind) {
        return events.isEmpty() || events.contains(kind);
    }
}
