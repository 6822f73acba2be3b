package io.haven.server.auth;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/** The {@code users} table: create, find, list, check passwords. Thread-safe. */
public final class Users {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");

    private final Jdbi jdbi;
    private final PasswordHasher hasher;
    private final InstantSource clock;

    public Users(Jdbi jdbi, PasswordHasher hasher, InstantSource clock) {
        this.jdbi = jdbi;
        this.hasher = hasher;
        this.clock = clock;
    }

    /**
     * Creates a user.
     *
     * @throws HavenException USAGE for a bad name or a short password, CONFLICT when the name is taken
     */
    public User create(String username, char[] password, Role role) {
        if (username == null || !NAME.matcher(username).matches()) {
            throw new HavenException(ErrorCode.USAGE, "a user name is 1 to 64 letters, digits, '.', '_', '@' or '-', "
                    + "starting with a letter or digit; '" + username + "' is not");
        }
        if (password == null || password.length < PasswordHasher.MIN_LENGTH) {
            throw new HavenException(ErrorCode.USAGE, "a password needs at least " + PasswordHasher.MIN_LENGTH + " characters");
        }
        String hash = hasher.hash(password);
        Instant now = clock.instant();
        try {
            long id = jdbi.withHandle(h -> {
                if (h.createQuery("SELECT COUNT(*) FROM users WHERE username = :u").bind("u", username)
                        .mapTo(Long.class).one() > 0) {
                    throw new HavenException(ErrorCode.CONFLICT, "a user named '" + username + "' exists already");
                }
                return h.createUpdate("INSERT INTO users (username, password_hash, role_name, created_at) "
                                + "VALUES (:u, :p, :r, :t)")
                        .bind("u", username).bind("p", hash).bind("r", role.label()).bind("t", now.toEpochMilli())
                        .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
            });
            return new User(id, username, role, Instant.ofEpochMilli(now.toEpochMilli()), false);
        } catch (UnableToExecuteStatementException e) {
            // a concurrent insert of the same name lost the race on the unique index
            if (find(username).isPresent()) {
                throw new HavenException(ErrorCode.CONFLICT, "a user named '" + username + "' exists already", e);
            }
            throw e;
        }
    }

    public Optional<User> find(String username) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, username, role_name, created_at, disabled FROM users WHERE username = :u")
                .bind("u", username).map((rs, ctx) -> row(rs)).findOne());
    }

    public Optional<User> find(long id) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, username, role_name, created_at, disabled FROM users WHERE id = :id")
                .bind("id", id).map((rs, ctx) -> row(rs)).findOne());
    }

    public List<User> list() {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, username, role_name, created_at, disabled FROM users ORDER BY id")
                .map((rs, ctx) -> row(rs)).list());
    }

    /**
     * Removes the first admin that a server start made and could not show (the start failed after
     * it): only while it is the only user, so it never removes an account anyone used.
     */
    public void deleteFirstAdmin(String username) {
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM users WHERE username = :u AND (SELECT COUNT(*) FROM users) = 1")
                .bind("u", username).execute());
    }

    public long count() {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM users").mapTo(Long.class).one());
    }

    /**
     * The user when {@code password} is theirs and they are enabled; empty otherwise. Takes the
     * time of one hash check whether or not the user exists.
     */
    public Optional<User> authenticate(String username, char[] password) {
        record Row(User user, String hash) {}
        Optional<Row> row = username == null ? Optional.empty() : jdbi.withHandle(h -> h.createQuery(
                        "SELECT id, username, role_name, created_at, disabled, password_hash FROM users WHERE username = :u")
                .bind("u", username).map((rs, ctx) -> new Row(row(rs), rs.getString("password_hash"))).findOne());
        boolean ok = hasher.verify(password, row.map(Row::hash).orElse(null));
        return ok && !row.get().user().disabled() ? Optional.of(row.get().user()) : Optional.empty();
    }

    /** Sets a user's password. USAGE when it is too short. */
    public void setPassword(long id, char[] password) {
        if (password == null || password.length < PasswordHasher.MIN_LENGTH) {
            throw new HavenException(ErrorCode.USAGE, "a password needs at least " + PasswordHasher.MIN_LENGTH + " characters");
        }
        String hash = hasher.hash(password);
        jdbi.useHandle(h -> h.createUpdate("UPDATE users SET password_hash = :p WHERE id = :id").bind("p", hash).bind("id", id).execute());
    }

    /** Whether {@code password} is this user's (one hash check). */
    public boolean checkPassword(long id, char[] password) {
        String hash = jdbi.withHandle(h -> h.createQuery("SELECT password_hash FROM users WHERE id = :id").bind("id", id)
                .mapTo(String.class).findOne().orElse(null));
        return hasher.verify(password, hash);
    }

    /**
     * Disables or enables a user. A disabled user cannot log in and their tokens stop working.
     * CONFLICT when it would leave no enabled admin.
     */
    public User setDisabled(User u, boolean disabled) {
        jdbi.useTransaction(h -> {
            if (disabled && u.role() == Role.ADMIN && h.createQuery("SELECT COUNT(*) FROM users WHERE role_name = 'admin' AND disabled = FALSE "
                    + "AND id <> :id").bind("id", u.id()).mapTo(Long.class).one() == 0) {
                throw new HavenException(ErrorCode.CONFLICT, "'" + u.username() + "' is the last enabled admin; make another admin first");
            }
            h.createUpdate("UPDATE users SET disabled = :d WHERE id = :id").bind("d", disabled).bind("id", u.id()).execute();
        });
        return find(u.id()).orElseThrow();
    }

    static User row(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new User(rs.getLong("id"), rs.getString("username"), Role.parse(rs.getString("role_name")),
                Instant.ofEpochMilli(rs.getLong("created_at")), rs.getBoolean("disabled"));
    }
}
