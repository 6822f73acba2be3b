package io.haven.server.auth;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Bearer tokens: session tokens ({@code hvs_…}, from a login, short-lived) and API tokens
 * ({@code hvt_…}, for scripts, optional expiry). A token is 32 random bytes; only its SHA-256 is
 * stored (a token has full entropy, so a slow hash adds nothing), and the clear text is returned
 * once, at creation. Thread-safe.
 */
public final class Tokens {
    /** What kind of token a caller used. */
    public enum Kind {
        SESSION("hvs_"), API("hvt_");

        final String prefix;

        Kind(String prefix) {
            this.prefix = prefix;
        }

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A token just created: the clear text exists only here. */
    public record Issued(long id, String token, Kind kind, String name, Instant createdAt, Instant expiresAt) {}

    /** Who a valid token stands for. */
    public record Holder(User user, Kind kind, long tokenId) {}

    private final Jdbi jdbi;
    private final InstantSource clock;
    private final SecureRandom random;

    public Tokens(Jdbi jdbi, InstantSource clock, SecureRandom random) {
        this.jdbi = jdbi;
        this.clock = clock;
        this.random = random;
    }

    /** Issues a token for {@code user}; {@code ttl} null means it does not expire. */
    public Issued issue(User user, Kind kind, String name, Duration ttl) {
        if (name != null && name.length() > 128) {
            throw new HavenException(ErrorCode.USAGE, "a token name has at most 128 characters");
        }
        byte[] raw = new byte[32];
        random.nextBytes(raw);
        String token = kind.prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Instant now = Instant.ofEpochMilli(clock.millis());
        Instant expires = ttl == null ? null : now.plus(ttl);
        long id = jdbi.withHandle(h -> h.createUpdate("INSERT INTO tokens (user_id, kind, name, token_hash, created_at, expires_at) "
                        + "VALUES (:u, :k, :n, :h, :c, :e)")
                .bind("u", user.id()).bind("k", kind.label()).bind("n", name).bind("h", hash(token))
                .bind("c", now.toEpochMilli()).bind("e", expires == null ? null : expires.toEpochMilli())
                .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one());
        return new Issued(id, token, kind, name, now, expires);
    }

    /** The holder of {@code token} when it exists, has not expired and its user is enabled. */
    public Optional<Holder> resolve(String token) {
        Kind kind = null;
        for (Kind k : Kind.values()) {
            if (token != null && token.startsWith(k.prefix)) {
                kind = k;
            }
        }
        if (kind == null) {
            return Optional.empty();
        }
        Kind k = kind;
        long now = clock.millis();
        Optional<Holder> holder = jdbi.withHandle(h -> h.createQuery(
                        "SELECT t.id AS token_id, u.id, u.username, u.role_name, u.created_at, u.disabled FROM tokens t "
                                + "JOIN users u ON u.id = t.user_id WHERE t.token_hash = :h AND t.kind = :k "
                                + "AND (t.expires_at IS NULL OR t.expires_at > :now) AND t.revoked_at IS NULL AND u.disabled = FALSE")
                .bind("h", hash(token)).bind("k", k.label()).bind("now", now)
                .map((rs, ctx) -> new Holder(Users.row(rs), k, rs.getLong("token_id"))).findOne());
        holder.ifPresent(x -> jdbi.useHandle(h -> h.createUpdate("UPDATE tokens SET last_used_at = :now WHERE id = :id")
                .bind("now", now).bind("id", x.tokenId()).execute()));
        return holder;
    }

    /** A token as listed: never its secret. */
    public record Listed(long id, String username, Kind kind, String name, Instant createdAt, Instant expiresAt, Instant lastUsedAt,
            Instant revokedAt) {}

    /** API tokens (not sessions), of one user or of all, newest first. */
    public java.util.List<Listed> list(String username) {
        return jdbi.withHandle(h -> h.createQuery("SELECT t.*, u.username FROM tokens t JOIN users u ON u.id = t.user_id "
                        + "WHERE t.kind = 'api' AND (u.username = :u OR :all) ORDER BY t.id DESC")
                .bind("u", username == null ? "" : username).bind("all", username == null)
                .map((rs, c) -> new Listed(rs.getLong("id"), rs.getString("username"), Kind.API, rs.getString("name"),
                        Instant.ofEpochMilli(rs.getLong("created_at")), instant(rs, "expires_at"), instant(rs, "last_used_at"),
                        instant(rs, "revoked_at"))).list());
    }

    /** Revokes a token by id; false when there is none or it was revoked already. */
    public boolean revoke(long id) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL")
                .bind("now", clock.millis()).bind("id", id).execute()) == 1;
    }

    /** Drops session tokens that expired more than a day ago (they can never work again). */
    public int purgeExpiredSessions() {
        return jdbi.withHandle(h -> h.createUpdate("DELETE FROM tokens WHERE kind = 'session' AND expires_at < :cutoff")
                .bind("cutoff", clock.millis() - 86_400_000L).execute());
    }

    private static Instant instant(java.sql.ResultSet rs, String col) throws java.sql.SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new HavenException(ErrorCode.INTERNAL, "no SHA-256 in this JDK", e);
        }
    }
}
