package io.haven.server.agent;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Messages;
import io.haven.server.db.Columns;
import io.haven.server.tls.ServerTls;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * Agent enrolment. An operator asks for a one-time token ({@link #createToken}); it reads
 * {@code hve_SECRET.PIN}, where PIN is the base64url SHA-256 of the server's CA certificate, so the
 * agent can check it talks to this server before it trusts it with anything. The agent sends the
 * token and a public key it made; the server checks the token (unused, unexpired — and marks it used
 * in the same conditional update, so it works once even with several servers), records the agent
 * and returns a client certificate signed by its CA. From then on the agent speaks mutual TLS.
 * Only the SHA-256 of a token's secret is stored. Thread-safe.
 */
public final class Enrollment {
    /** Enrolment tokens live one hour unless asked otherwise; at most 7 days. */
    public static final Duration DEFAULT_TTL = Duration.ofHours(1);
    public static final Duration MAX_TTL = Duration.ofDays(7);
    /** Agent certificates live one year. */
    public static final Duration CERT_LIFETIME = Duration.ofDays(365);

    /** A token just made; the text exists only here. */
    public record Issued(long id, String token, Instant expiresAt, String pin) {}

    private final Jdbi jdbi;
    private final Agents agents;
    private final ServerTls tls;
    private final InstantSource clock;
    private final SecureRandom random;

    public Enrollment(Jdbi jdbi, Agents agents, ServerTls tls, InstantSource clock, SecureRandom random) {
        this.jdbi = jdbi;
        this.agents = agents;
        this.tls = tls;
        this.clock = clock;
        this.random = random;
    }

    /** The pin in tokens: base64url (no padding) of the SHA-256 of the CA certificate's DER. */
    public static String pin(X509Certificate ca) {
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256").digest(ca.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot fingerprint the CA: " + e, e);
        }
    }

    public Issued createToken(Long siteId, Map<String, String> labels, String createdBy, Duration ttl) {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new HavenException(ErrorCode.USAGE, "an enrolment token lives from 1 minute to 7 days");
        }
        byte[] raw = new byte[24];
        random.nextBytes(raw);
        String secret = "hve_" + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        String pin = pin(tls.caCertificate());
        Instant expires = Instant.ofEpochMilli(clock.millis()).plus(ttl);
        long id = jdbi.withHandle(h -> h.createUpdate("INSERT INTO enrollment_tokens (token_hash, site_id, labels, created_by, created_at, "
                        + "expires_at) VALUES (:h, :s, :l, :by, :now, :exp)")
                .bind("h", hash(secret)).bind("s", siteId).bind("l", Columns.fit("the labels (as JSON)", agents.write(labels), 4096)).bind("by", createdBy)
                .bind("now", clock.millis()).bind("exp", expires.toEpochMilli())
                .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one());
        return new Issued(id, secret + "." + pin, expires, pin);
    }

    /** The site and labels a token carries. */
    private record TokenRow(long id, Long siteId, String labels, long expiresAt, Long usedAt) {}

    /**
     * Enrols an agent.
     *
     * @throws HavenException UNAUTHENTICATED for an unknown, used or expired token (one message for
     *     all three, so a guesser learns nothing), USAGE for a bad name or key, CONFLICT for a name in use
     */
    public Messages.EnrollReply enroll(Messages.EnrollRequest r, java.util.function.Function<String, Long> siteByName) {
        if (r.token() == null || !r.token().startsWith("hve_")) {
            throw new HavenException(ErrorCode.UNAUTHENTICATED, "the enrolment token is unknown, used or expired; ask for a new one "
                    + "(haven agent token)");
        }
        String secret = r.token().contains(".") ? r.token().substring(0, r.token().indexOf('.')) : r.token();
        String name = r.name();
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new HavenException(ErrorCode.USAGE, "an agent name is 1 to 128 letters, digits, '.', '_' or '-'; '" + name + "' is not");
        }
        PublicKey key;
        try {
            byte[] der = Base64.getDecoder().decode(r.publicKey() == null ? "" : r.publicKey());
            key = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
        } catch (IllegalArgumentException | java.security.GeneralSecurityException e) {
            throw new HavenException(ErrorCode.USAGE, "publicKey must be a base64 X.509 SubjectPublicKeyInfo of an EC P-256 key");
        }
        X509Certificate[] issued = new X509Certificate[1];
        long agentId = jdbi.inTransaction(h -> {
            long now = clock.millis();
            TokenRow t = h.createQuery("SELECT id, site_id, labels, expires_at, used_at FROM enrollment_tokens WHERE token_hash = :h")
                    .bind("h", hash(secret))
                    .map((rs, c) -> {
                        long s = rs.getLong("site_id");
                        Long site = rs.wasNull() ? null : s;
                        long u = rs.getLong("used_at");
                        Long used = rs.wasNull() ? null : u;
                        return new TokenRow(rs.getLong("id"), site, rs.getString("labels"), rs.getLong("expires_at"), used);
                    }).findOne().orElse(null);
            if (t == null || t.usedAt() != null || t.expiresAt() <= now) {
                throw new HavenException(ErrorCode.UNAUTHENTICATED, "the enrolment token is unknown, used or expired; ask for a new one "
                        + "(haven agent token)");
            }
            if (h.createUpdate("UPDATE enrollment_tokens SET used_at = :now WHERE id = :id AND used_at IS NULL")
                    .bind("now", now).bind("id", t.id()).execute() != 1) {
                throw new HavenException(ErrorCode.UNAUTHENTICATED, "the enrolment token was used meanwhile");
            }
            Long site = t.siteId();
            if (r.site() != null && !r.site().isBlank()) {
                Long asked = siteByName.apply(r.site());
                if (site != null && !site.equals(asked)) {
                    throw new HavenException(ErrorCode.FORBIDDEN, "this token enrols into another site than '" + r.site() + "'");
                }
                site = asked;
            }
            Map<String, String> labels = new java.util.TreeMap<>(agents.labels(t.labels()));
            if (r.labels() != null) {
                labels.putAll(r.labels());
            }
            X509Certificate cert = tls.issueClient(key, "haven-agent " + name, CERT_LIFETIME, clock);
            issued[0] = cert;
            long id = agents.insert(h, name, site, labels, serial(cert), cert.getNotAfter().toInstant(), r.facts());
            h.createUpdate("UPDATE enrollment_tokens SET agent_id = :a WHERE id = :id").bind("a", id).bind("id", t.id()).execute();
            return id;
        });
        Agents.Agent a = agents.find(agentId).orElseThrow();
        return new Messages.EnrollReply(agentId, name, a.site(), ServerTls.pem(issued[0]), ServerTls.pem(tls.caCertificate()), null);
    }

    /**
     * Issues a new client certificate for an enrolled agent's new key (renewal, before the old one
     * expires). The certificate presented for the call stays valid until the agent uses the new one.
     */
    public Messages.EnrollReply renew(long agentId, X509Certificate presented, String publicKeyBase64) {
        PublicKey key;
        try {
            key = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(
                    publicKeyBase64 == null ? "" : publicKeyBase64)));
        } catch (IllegalArgumentException | java.security.GeneralSecurityException e) {
            throw new HavenException(ErrorCode.USAGE, "publicKey must be a base64 X.509 SubjectPublicKeyInfo of an EC P-256 key");
        }
        Agents.Agent a = agents.find(agentId).orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no agent " + agentId));
        X509Certificate cert = tls.issueClient(key, "haven-agent " + a.name(), CERT_LIFETIME, clock);
        agents.renewed(agentId, serial(presented), serial(cert), cert.getNotAfter().toInstant());
        return new Messages.EnrollReply(agentId, a.name(), a.site(), ServerTls.pem(cert), ServerTls.pem(tls.caCertificate()), null);
    }

    /** How certificates are looked up: lower-case hex serial number. */
    public static String serial(X509Certificate cert) {
        return cert.getSerialNumber().toString(16);
    }

    static String hash(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new HavenException(ErrorCode.INTERNAL, "no SHA-256 in this JDK", e);
        }
    }
}
