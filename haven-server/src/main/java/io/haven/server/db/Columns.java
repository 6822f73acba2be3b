package io.haven.server.db;

import java.sql.ResultSet;
import java.sql.SQLException;

/** Reading columns the same way from SQLite and PostgreSQL. */
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
}
