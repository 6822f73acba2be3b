package io.haven.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Codec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * JSON over HTTPS to the Haven server. Errors come back as {@link HavenException} carrying the
 * server's message; a server that cannot be reached (refused, reset, timed out, 502–504) is
 * {@link Unreachable}, which callers retry. Thread-safe.
 */
public final class ServerClient {
    /** The server could not be reached or answered "try later"; retrying may help. */
    public static final class Unreachable extends RuntimeException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final URI base;
    private final HttpClient http;

    public ServerClient(URI base, SSLContext ssl) {
        this.base = base;
        this.http = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_1_1).build();
    }

    public URI base() {
        return base;
    }

    public <T> T post(String path, Object body, Class<T> type, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Codec.write(body)));
        return send(b, type);
    }

    public <T> T get(String path, Class<T> type, Duration timeout) {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).GET(), type);
    }

    private <T> T send(HttpRequest.Builder b, Class<T> type) {
        HttpResponse<byte[]> r;
        HttpRequest req = b.build();
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new Unreachable("cannot reach the server at " + base + ": " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted while talking to the server", e);
        }
        int s = r.statusCode();
        if (s >= 200 && s < 300) {
            return Codec.read(r.body(), type);
        }
        String message = "HTTP " + s;
        String code = null;
        try {
            JsonNode err = Codec.mapper().readTree(r.body()).path("error");
            if (err.hasNonNull("message")) {
                message = err.get("message").asText();
                code = err.path("code").asText(null);
            }
        } catch (IOException e) {
            // not JSON: keep the status
        }
        if (s == 502 || s == 503 || s == 504) {
            throw new Unreachable("the server answered " + s + ": " + message, null);
        }
        throw new HavenException(switch (s) {
            case 400 -> ErrorCode.USAGE;
            case 401 -> ErrorCode.UNAUTHENTICATED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404 -> ErrorCode.NOT_FOUND;
            case 409 -> ErrorCode.CONFLICT;
            default -> ErrorCode.IO;
        }, message + (code == null ? "" : ""));
    }

    static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
