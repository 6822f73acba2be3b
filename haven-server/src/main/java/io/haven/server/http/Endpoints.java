package io.haven.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.audit.AuditLog;
import io.haven.server.auth.Role;
import io.haven.server.auth.Tokens;
import io.haven.server.auth.User;
import io.haven.server.auth.Users;
import io.haven.server.db.Database;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The endpoints of this slice: health, metrics, the OpenAPI document, login, me, users, tokens
 * and audit. Request bodies are small records read with Jackson (unknown fields refused).
 */
public final class Endpoints {
    /** {@code POST /api/v1/login} body. */
    public record LoginRequest(String username, String password) {}

    /** {@code POST /api/v1/users} body. */
    public record CreateUserRequest(String username, String password, String role) {}

    /** {@code POST /api/v1/tokens} body: a name, optionally the user it acts as and a lifetime. */
    public record CreateTokenRequest(String name, String username, Integer expiresInDays) {}

    private final Database db;
    private final Users users;
    private final Tokens tokens;
    private final AuditLog audit;
    private final Metrics metrics;
    private final ObjectMapper json;
    private final Duration sessionTtl;
    private final String version;
    private final io.haven.server.auth.LoginThrottle throttle;

    public Endpoints(Database db, Users users, Tokens tokens, AuditLog audit, Metrics metrics, ObjectMapper json,
            Duration sessionTtl, String version, java.time.InstantSource clock) {
        this.db = db;
        this.users = users;
        this.tokens = tokens;
        this.audit = audit;
        this.metrics = metrics;
        this.json = json;
        this.sessionTtl = sessionTtl;
        this.version = version;
        this.throttle = new io.haven.server.auth.LoginThrottle(io.haven.server.auth.LoginThrottle.DEFAULT, clock);
    }

    public List<Route> routes() {
        return List.of(
                new Route("GET", "/health", null, this::health),
                new Route("GET", "/metrics", null, c -> Reply.text(200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape())),
                new Route("GET", "/api/v1/openapi.json", null, this::openapi),
                new Route("POST", "/api/v1/login", null, this::login),
                new Route("GET", "/api/v1/me", Role.VIEWER, this::me),
                new Route("GET", "/api/v1/users", Role.ADMIN, c -> ok(Map.of("users", users.list().stream().map(Endpoints::user).toList()))),
                new Route("POST", "/api/v1/users", Role.ADMIN, this::createUser),
                new Route("POST", "/api/v1/tokens", Role.ADMIN, this::createToken),
                new Route("GET", "/api/v1/tokens", Role.ADMIN, this::listTokens),
                new Route("POST", "/api/v1/tokens/{id}/revoke", Role.ADMIN, this::revokeToken),
                new Route("POST", "/api/v1/logout", Role.VIEWER, this::logout),
                new Route("POST", "/api/v1/users/{user}/disable", Role.ADMIN, c -> disable(c, true)),
                new Route("POST", "/api/v1/users/{user}/enable", Role.ADMIN, c -> disable(c, false)),
                new Route("POST", "/api/v1/users/{user}/password", Role.VIEWER, this::password),
                new Route("GET", "/api/v1/audit", Role.ADMIN, this::audit));
    }

    private Reply health(Call c) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        try {
            db.ping();
            m.put("status", "ok");
            m.put("database", "ok");
            m.put("version", version);
            return reply(200, m);
        } catch (java.sql.SQLException | RuntimeException e) {
            m.put("status", "unavailable");
            m.put("database", "failing"); // no details for unauthenticated callers
            m.put("version", version);
            return reply(503, m);
        }
    }

    private Reply openapi(Call c) throws IOException {
        try (InputStream in = Endpoints.class.getResourceAsStream("/io/haven/server/openapi.json")) {
            if (in == null) {
                throw new HavenException(ErrorCode.INTERNAL, "the OpenAPI document is missing from the server's jar");
            }
            return new Reply(200, "application/json", in.readAllBytes());
        }
    }

    private Reply login(Call c) throws IOException {
        LoginRequest r = read(c, LoginRequest.class);
        c.auditActor(r.username());
        c.auditTarget("session");
        long wait = throttle.retryAfterSeconds(r.username(), c.address());
        if (wait > 0) {
            throw new HavenException(ErrorCode.BUSY, "too many failed logins for this user name or from this address; try again in "
                    + wait + " s");
        }
        char[] pw = r.password() == null ? new char[0] : r.password().toCharArray();
        User u = users.authenticate(r.username(), pw).orElse(null);
        if (u == null) {
            throttle.failed(r.username(), c.address());
            throw new HavenException(ErrorCode.UNAUTHENTICATED, "wrong user name or password");
        }
        throttle.succeeded(r.username());
        Tokens.Issued t = tokens.issue(u, Tokens.Kind.SESSION, "login from " + c.address(), sessionTtl);
        tokens.purgeExpiredSessions();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("token", t.token());
        m.put("tokenType", "Bearer");
        m.put("expiresAt", t.expiresAt().toString());
        m.put("user", user(u));
        return ok(m);
    }

    private Reply me(Call c) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>(user(c.principal().user()));
        m.put("authenticatedBy", c.principal().via() == Tokens.Kind.SESSION ? "session" : "api-token");
        return ok(m);
    }

    private Reply createUser(Call c) throws IOException {
        CreateUserRequest r = read(c, CreateUserRequest.class);
        c.auditTarget("user:" + r.username());
        Role role = Role.parse(r.role() == null ? "viewer" : r.role());
        User u = users.create(r.username(), r.password() == null ? null : r.password().toCharArray(), role);
        return reply(201, user(u));
    }

    private Reply createToken(Call c) throws IOException {
        CreateTokenRequest r = read(c, CreateTokenRequest.class);
        if (r.name() == null || r.name().isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "give the token a name (what script or system uses it)");
        }
        User owner = c.principal().user();
        if (r.username() != null) {
            owner = users.find(r.username())
                    .orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no user named '" + r.username() + "'"));
        }
        Duration ttl = null;
        if (r.expiresInDays() != null) {
            if (r.expiresInDays() < 1 || r.expiresInDays() > 3650) {
                throw new HavenException(ErrorCode.USAGE, "expiresInDays must be between 1 and 3650");
            }
            ttl = Duration.ofDays(r.expiresInDays());
        }
        Tokens.Issued t = tokens.issue(owner, Tokens.Kind.API, r.name(), ttl);
        c.auditTarget("token:" + t.id() + " for user:" + owner.username());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("name", t.name());
        m.put("username", owner.username());
        m.put("token", t.token());
        m.put("createdAt", t.createdAt().toString());
        m.put("expiresAt", t.expiresAt() == null ? null : t.expiresAt().toString());
        return reply(201, m);
    }

    /** {@code POST /api/v1/users/{user}/password} body: the new password, and the current one when changing one's own. */
    public record PasswordRequest(String password, String currentPassword) {}

    private Reply listTokens(Call c) throws IOException {
        List<Map<String, Object>> out = tokens.list(c.query("username")).stream().map(t -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", t.id());
            m.put("name", t.name());
            m.put("username", t.username());
            m.put("createdAt", t.createdAt().toString());
            m.put("expiresAt", t.expiresAt() == null ? null : t.expiresAt().toString());
            m.put("lastUsedAt", t.lastUsedAt() == null ? null : t.lastUsedAt().toString());
            m.put("revokedAt", t.revokedAt() == null ? null : t.revokedAt().toString());
            return m;
        }).toList();
        return ok(Map.of("tokens", out));
    }

    private Reply revokeToken(Call c) throws IOException {
        long id = c.longParam("id");
        c.auditTarget("token:" + id);
        if (!tokens.revoke(id)) {
            throw new HavenException(ErrorCode.NOT_FOUND, "no unrevoked token " + id);
        }
        return ok(Map.of("id", id, "revoked", true));
    }

    private Reply logout(Call c) throws IOException {
        c.auditTarget("session");
        tokens.revoke(c.principal().tokenId());
        return ok(Map.of("loggedOut", true, "revokedTokenKind", c.principal().via().label()));
    }

    private Reply disable(Call c, boolean disabled) throws IOException {
        User u = users.find(c.param("user")).orElseThrow(() -> new HavenException(ErrorCode.NOT_FOUND, "no user named '" + c.param("user") + "'"));
        c.auditTarget("user:" + u.username());
        return ok(user(users.setDisabled(u, disabled)));
    }

    private Reply password(Call c) throws IOException {
        PasswordRequest r = read(c, PasswordRequest.class);
        User caller = c.principal().user();
        User u = users.find(c.param("user")).orElseThrow(() -> new HavenException(caller.role() == Role.ADMIN ? ErrorCode.NOT_FOUND
                : ErrorCode.FORBIDDEN, caller.role() == Role.ADMIN ? "no user named '" + c.param("user") + "'"
                : "only admins change other users' passwords"));
        c.auditTarget("user:" + u.username());
        if (u.id() != caller.id() && caller.role() != Role.ADMIN) {
            throw new HavenException(ErrorCode.FORBIDDEN, "only admins change other users' passwords");
        }
        if (u.id() == caller.id() && (r.currentPassword() == null || !users.checkPassword(u.id(), r.currentPassword().toCharArray()))) {
            throw new HavenException(ErrorCode.FORBIDDEN, "give your current password ('currentPassword') to change it");
        }
        users.setPassword(u.id(), r.password() == null ? null : r.password().toCharArray());
        return ok(Map.of("username", u.username(), "passwordChanged", true));
    }

    private Reply audit(Call c) throws IOException {
        int limit = 100;
        String l = c.query("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > 10_000) {
                throw new HavenException(ErrorCode.USAGE, "limit must be a number from 1 to 10000, not '" + l + "'");
            }
        }
        List<Map<String, Object>> entries = audit.latest(limit).stream().map(e -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", e.id());
            m.put("at", e.at().toString());
            m.put("actor", e.actor());
            m.put("action", e.action());
            m.put("target", e.target());
            m.put("address", e.address());
            m.put("status", e.status());
            return m;
        }).toList();
        return ok(Map.of("entries", entries));
    }

    static Map<String, Object> user(User u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", u.id());
        m.put("username", u.username());
        m.put("role", u.role().label());
        m.put("createdAt", u.createdAt().toString());
        m.put("disabled", u.disabled());
        return m;
    }

    private <T> T read(Call c, Class<T> type) throws IOException {
        if (c.body().length == 0) {
            throw new HavenException(ErrorCode.USAGE, c.method() + " " + c.path() + " needs a JSON body");
        }
        return json.readValue(c.body(), type);
    }

    private Reply ok(Object body) throws IOException {
        return reply(200, body);
    }

    private Reply reply(int status, Object body) throws IOException {
        return new Reply(status, "application/json", json.writeValueAsBytes(body));
    }
}
