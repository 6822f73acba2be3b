package io.haven.server.auth;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.Locale;

/** What a user may do; each role includes the ones before it. */
public enum Role {
    /** Reads state. */
    VIEWER,
    /** Also starts and cancels operations (backups, restores: later slices). */
    OPERATOR,
    /** Also manages users, tokens and reads the audit log. */
    ADMIN;

    public boolean includes(Role other) {
        return ordinal() >= other.ordinal();
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role parse(String s) {
        if (s != null) {
            for (Role r : values()) {
                if (r.label().equals(s.toLowerCase(Locale.ROOT))) {
                    return r;
                }
            }
        }
        throw new HavenException(ErrorCode.USAGE, "unknown role '" + s + "'; use admin, operator or viewer");
    }
}
