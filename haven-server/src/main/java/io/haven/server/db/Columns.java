package io.haven.server.db;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Reading and writing columns the same way on SQLite and PostgreSQL. */
public final class Columns {
    private Columns() {
    }

    /**
     * A {@code BIGINT} column that may be NULL. (SQLite's driver refuses
     * {@code getObject(column, Long.class)} on a NULL.)
     */
    public static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    /**
     * {@code value} (may be null) when it fits a {@code VARCHAR(max)} column. PostgreSQL refuses a
     * longer value with an error the user cannot act on, and SQLite stores it whole, so the
     * check is made here, with a message that names the field.
     *
     * @throws HavenException USAGE when it is longer than {@code max} characters
     */
    public static String fit(String what, String value, int max) {
        if (value != null && value.codePointCount(0, value.length()) > max) {
            throw new HavenException(ErrorCode.USAGE, what + " is longer than " + max + " characters");
        }
        return value;
    }
}
