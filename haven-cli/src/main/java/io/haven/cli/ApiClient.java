package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * The CLI's way into the server: JSON over HTTPS to {@code /api/v1}, trusting only the server's
 * CA (saved at login), with a bearer token. Error replies become {@link HavenException}s with the
 * server's message; an unreachable server is an IO error naming the address.
 */
final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The server could not be reached (connection refused or reset, a timeout) or answered 502, 503
     * or 504: it may be restarting, and asking again may work. Commands that follow a run or job
     * retry it ({@link FollowReads}); others fail with it as with any IO error.
     */
    static final class Unreachable extends HavenException {
        Unreachable(ErrorCode code, String message, Throwable cause) {
            super(code, message, cause);
        }
    }

    private final URI base;
    private final String token;
    private final HttpClient http;

    ApiClient(URI base, String caPem, String token) {
        this.base = base;
        this.token = token;
        this.http = HttpClient.newBuilder().sslContext(trusting(caPem)).connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    static SSLContext trusting(String caPem) {
        try {
            return io.haven.core.tls.Pem.context(null, null, io.haven.core.tls.Pem.parseCertificate(caPem));
        } catch (GeneralSecurityException e) {
            throw new HavenException(ErrorCode.USAGE, "the saved server CA certificate is unusable (" + e.getMessage() + "); log in again");
        }
    }

    URI base() {
        return base;
    }

    JsonNode get(String path) {
        return send("GET", path, null);
    }

    JsonNode post(String path, Object body) {
        return send("POST", path, body);
    }

    /** A long POST whose 502 answer still carries a result (as {@code plan start}'s per-workload outcome). */
    JsonNode postAny(String path, Object body) {
        return send("POST", path, body, Duration.ofMinutes(30), 502);
    }

    static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    JsonNode send(String method, String path, Object body) {
        return send(method, path, body, Duration.ofSeconds(60), 0);
    }

    private JsonNode send(String method, String path, Object body, Duration timeout, int alsoOk) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout);
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            if (body != null) {
                b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            } else {
                b.method(method, method.equals("POST") ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            JsonNode n = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
            if (r.statusCode() >= 200 && r.statusCode() < 300 || r.statusCode() == alsoOk && n.has("workloads")) {
                return n;
            }
            String msg = n.path("error").path("message").asText("HTTP " + r.statusCode());
            if (r.statusCode() == 502 || r.statusCode() == 503 || r.statusCode() == 504) {
                throw new Unreachable(r.statusCode() == 503 ? ErrorCode.BUSY : ErrorCode.IO, msg, null);
            }
            throw new HavenException(switch (r.statusCode()) {
                case 400 -> ErrorCode.USAGE;
                case 401 -> ErrorCode.UNAUTHENTICATED;
                case 403 -> ErrorCode.FORBIDDEN;
                case 404 -> ErrorCode.NOT_FOUND;
                case 409 -> ErrorCode.CONFLICT;
                case 503 -> ErrorCode.BUSY;
                default -> ErrorCode.IO;
            }, r.statusCode() == 401 ? msg + " (haven login)" : msg);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // a body that is not JSON: a proxy's error page, or a server cut off mid-answer
            throw new Unreachable(ErrorCode.IO, "the Haven server at " + base + " gave an unreadable answer: " + e.getOriginalMessage(), e);
        } catch (javax.net.ssl.SSLHandshakeException e) {
            throw new HavenException(ErrorCode.IO, "cannot reach the Haven server at " + base + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
        } catch (IOException e) {
            throw new Unreachable(ErrorCode.IO, "cannot reach the Haven server at " + base + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted", e);
        }
    }
}
