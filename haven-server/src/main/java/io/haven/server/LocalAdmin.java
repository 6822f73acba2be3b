package io.haven.server;

import io.haven.server.audit.AuditLog;
import io.haven.server.auth.PasswordHasher;
import io.haven.server.auth.Role;
import io.haven.server.auth.User;
import io.haven.server.auth.Users;
import io.haven.server.db.Database;
import io.haven.server.db.DatabaseConfig;
import java.security.SecureRandom;
import java.time.InstantSource;

/**
 * Work on a server's database without the server ({@code haven admin create}): for a first admin
 * before the first start, or to regain access. The embedded database refuses while a server
 * holds it; PostgreSQL is shared. Each call writes an audit row with address {@code local}.
 */
public final class LocalAdmin {
    private LocalAdmin() {}

    /**
     * Creates a user directly in the database (migrating the schema first if needed).
     *
     * @param actor who did it, for the audit log (for example {@code cli:root})
     * @throws io.haven.core.HavenException CONFLICT when the name is taken, BUSY when a server holds
     *     the embedded database, USAGE for a bad name or password
     */
    public static User createUser(DatabaseConfig database, String username, char[] password, Role role,
            PasswordHasher.Params params, InstantSource clock, SecureRandom random, String actor) {
        try (Database db = Database.open(database)) {
            Users users = new Users(db.jdbi(), new PasswordHasher(params, random), clock);
            User u = users.create(username, password, role);
            new AuditLog(db.jdbi(), clock).record(actor, "create user (haven admin create)", "user:" + username, "local", 201);
            return u;
        }
    }
}
