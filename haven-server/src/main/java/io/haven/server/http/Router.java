package io.haven.server.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.audit.AuditLog;
import io.haven.server.auth.Tokens;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * The one Jetty handler: matches a {@link Route}, authenticates the bearer token, checks the
 * role, runs the endpoint, turns failures into JSON errors ({@code {"error":{"code","message"}}}),
 * writes an audit row for every mutating call (including refused ones), and records metrics.
 *
 * <p>Refusals: no or unknown token → 401 {@code unauthenticated}; a role too low → 403
 * {@code forbidden}; unknown path → 404; known path, other method → 405. Endpoint failures map
 * by {@link ErrorCode}; anything unexpected is a 500 whose message names no internals.
 */
public final class Router extends Handler.Abstract {
    private static final int MAX_BODY = 1 << 20;

    /** Identifies an agent from its (CA-verified) client certificate; throws when it may not call. */
    @FunctionalInterface
    public interface AgentAuthenticator {
        /**
         * @throws HavenException UNAUTHENTICATED for an unknown certificate, FORBIDDEN for a
         *     disabled or revoked agent
         */
        Call.AgentPrincipal authenticate(java.security.cert.X509Certificate certificate);
    }

    private final Map<String, Map<String, Route>> routes = new LinkedHashMap<>();
    private final List<String> templates = new java.util.ArrayList<>();
    private final AgentAuthenticator agents;
    private final Tokens tokens;
    private final AuditLog audit;
    private final Metrics metrics;
    private final ObjectMapper json;
    private final LongSupplier nanoTime;

    public Router(List<Route> routes, Tokens tokens, AgentAuthenticator agents, AuditLog audit, Metrics metrics, ObjectMapper json,
            LongSupplier nanoTime) {
        for (Route r : routes) {
            if (this.routes.computeIfAbsent(r.path(), p -> new LinkedHashMap<>()).put(r.method(), r) != null) {
                throw new IllegalArgumentException("two routes for " + r.method() + " " + r.path());
            }
            if (r.templated() && !templates.contains(r.path())) {
                templates.add(r.path());
            }
        }
        this.agents = agents;
        this.tokens = tokens;
        this.audit = audit;
        this.metrics = metrics;
        this.json = json;
        this.nanoTime = nanoTime;
    }

    /** Every route, for documentation checks. */
    public List<Route> routes() {
        return routes.values().stream().flatMap(m -> m.values().stream()).toList();
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long start = nanoTime.getAsLong();
        String method = request.getMethod().toUpperCase(Locale.ROOT);
        String path = request.getHttpURI().getPath();
        String address = Request.getRemoteAddr(request);
        Map<String, String> params = new HashMap<>();
        String template = match(path, params);
        Map<String, Route> byMethod = template == null ? null : routes.get(template);
        Route route = byMethod == null ? null : byMethod.get(method);
        String routeLabel = byMethod == null ? "unmatched" : template;
        Reply reply;
        Call call = null;
        // who a call refused before it became a Call came from: the client certificate's subject
        String certificateActor = null;
        try {
            if (byMethod == null) {
                throw new HavenException(ErrorCode.NOT_FOUND, "no such endpoint: " + path + " (see /api/v1/openapi.json)");
            }
            if (route == null) {
                reply = error(405, "method_not_allowed", method + " is not allowed on " + path + "; use "
                        + String.join(" or ", byMethod.keySet()));
            } else {
                // public routes ignore credentials: a stale token must not block a login or a health check
                java.security.cert.X509Certificate cert = clientCertificate(request);
                if (cert != null) {
                    certificateActor = "certificate:" + cert.getSubjectX500Principal().getName();
                }
                Call.Principal principal = null;
                Call.AgentPrincipal agent = null;
                if (route.access() == Route.Access.AGENT) {
                    if (cert == null) {
                        throw new HavenException(request.getHeaders().get(HttpHeader.AUTHORIZATION) != null ? ErrorCode.FORBIDDEN
                                : ErrorCode.UNAUTHENTICATED, "this endpoint is for agents: it needs an enrolled agent's client "
                                + "certificate (haven agent enroll); user tokens are not accepted here");
                    }
                    agent = agents.authenticate(cert);
                } else if (route.access() == Route.Access.USER) {
                    principal = authenticate(request);
                    if (principal == null && cert != null) {
                        throw new HavenException(ErrorCode.FORBIDDEN, "agents may not call user endpoints (" + method + " " + path + ")");
                    }
                }
                call = new Call(method, path, query(request), body(request), address, principal, agent, params);
                if (route.access() == Route.Access.USER) {
                    if (principal == null) {
                        throw new HavenException(ErrorCode.UNAUTHENTICATED,
                                "this endpoint needs credentials: send 'Authorization: Bearer TOKEN' (from POST /api/v1/login or an API token)");
                    }
                    if (!principal.user().role().includes(route.role())) {
                        throw new HavenException(ErrorCode.FORBIDDEN, "user '" + principal.user().username() + "' (role "
                                + principal.user().role().label() + ") may not " + method + " " + path + "; it needs the role "
                                + route.role().label());
                    }
                }
                reply = route.endpoint().handle(call);
            }
        } catch (HavenException e) {
            reply = error(status(e.code()), e.code().name().toLowerCase(Locale.ROOT), e.getMessage());
        } catch (JacksonException e) {
            reply = error(400, "usage", "the request body is not the JSON this call takes: " + e.getOriginalMessage());
        } catch (Exception e) {
            reply = error(500, "internal", "internal error while serving " + method + " " + path);
        }
        if (route != null && route.mutating() && route.audited()) {
            String actor = call == null ? certificateActor
                    : call.principal() != null ? call.principal().user().username()
                    : call.agent() != null ? "agent:" + call.agent().name()
                    : call.auditActor != null ? call.auditActor : certificateActor;
            try {
                audit.record(actor, method + " " + path, call == null ? null : call.auditTarget, address, reply.status());
            } catch (RuntimeException e) {
                reply = error(500, "internal", "the call ran but its audit record could not be written: " + e.getMessage());
            }
        }
        if (call == null && !RequestBodies.discard(request, MAX_BODY)) {
            // A request refused before its body was read (404, 405, a bad token) may still be
            // sending it; Jetty closes such a connection when the handler is done, so a body that
            // could not be read and thrown away (over 1 MiB, held back, broken off) ends it, and
            // the client is told.
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
        response.setStatus(reply.status());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, reply.contentType());
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put("Strict-Transport-Security", "max-age=31536000");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        if (reply.status() == 401) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"haven\"");
        }
        metrics.record(method, routeLabel, reply.status(), nanoTime.getAsLong() - start);
        response.write(true, ByteBuffer.wrap(reply.body()), callback);
        return true;
    }

    /** The template path {@code path} matches (exact paths first), filling {@code params}; null when none. */
    String match(String path, Map<String, String> params) {
        if (routes.containsKey(path)) {
            return path;
        }
        String[] got = path.split("/", -1);
        for (String t : templates) {
            String[] want = t.split("/", -1);
            if (want.length != got.length) {
                continue;
            }
            Map<String, String> found = new HashMap<>();
            boolean ok = true;
            for (int i = 0; i < want.length && ok; i++) {
                if (want[i].startsWith("{") && want[i].endsWith("}")) {
                    if (got[i].isEmpty()) {
                        ok = false;
                    } else {
                        found.put(want[i].substring(1, want[i].length() - 1), java.net.URLDecoder.decode(got[i],
                                java.nio.charset.StandardCharsets.UTF_8));
                    }
                } else {
                    ok = want[i].equals(got[i]);
                }
            }
            if (ok) {
                params.putAll(found);
                return t;
            }
        }
        return null;
    }

    private static java.security.cert.X509Certificate clientCertificate(Request request) {
        Object o = request.getAttribute(org.eclipse.jetty.io.EndPoint.SslSessionData.ATTRIBUTE);
        if (o instanceof org.eclipse.jetty.io.EndPoint.SslSessionData ssl) {
            java.security.cert.X509Certificate[] chain = ssl.peerCertificates();
            if (chain != null && chain.length > 0) {
                return chain[0];
            }
        }
        return null;
    }

    private Call.Principal authenticate(Request request) {
        String h = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (h == null) {
            return null;
        }
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new HavenException(ErrorCode.UNAUTHENTICATED, "only 'Authorization: Bearer TOKEN' is accepted");
        }
        return tokens.resolve(h.substring(7).trim())
                .map(x -> new Call.Principal(x.user(), x.kind(), x.tokenId()))
                .orElseThrow(() -> new HavenException(ErrorCode.UNAUTHENTICATED,
                        "the token is unknown, expired or revoked; log in again"));
    }

    private static Map<String, String> query(Request request) {
        Fields f = Request.extractQueryParameters(request);
        Map<String, String> m = new HashMap<>();
        for (Fields.Field field : f) {
            m.put(field.getName(), field.getValue());
        }
        return m;
    }

    private static byte[] body(Request request) throws IOException {
        long declared = request.getLength();
        if (declared > MAX_BODY) {
            throw new HavenException(ErrorCode.USAGE, "the request body is larger than " + MAX_BODY + " bytes");
        }
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] b = in.readNBytes(MAX_BODY + 1);
            if (b.length > MAX_BODY) {
                throw new HavenException(ErrorCode.USAGE, "the request body is larger than " + MAX_BODY + " bytes");
            }
            return b;
        }
    }

    /** The HTTP status of an error with {@code code}; the repository handler answers with the same mapping. */
    public static int status(ErrorCode code) {
        return switch (code) {
            case USAGE -> 400;
            case UNAUTHENTICATED, WRONG_PASSWORD -> 401;
            case FORBIDDEN -> 403;
            case NOT_FOUND, REPOSITORY_NOT_FOUND -> 404;
            case CONFLICT, REPOSITORY_EXISTS -> 409;
            case BUSY -> 503;
            case CORRUPT, TARGET_UNUSABLE, UNSAFE_PATH, IO, INTERNAL, COLD -> 500;
        };
    }

    private Reply error(int status, String code, String message) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", code);
        inner.put("message", message);
        try {
            return new Reply(status, "application/json", json.writeValueAsBytes(Map.of("error", inner)));
        } catch (JacksonException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot encode an error", e);
        }
    }
}
