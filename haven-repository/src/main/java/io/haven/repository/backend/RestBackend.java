package io.haven.repository.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * A repository served by a Haven server over HTTPS (the protocol is in docs/backends.md, "REST
 * backend"): how agents reach the repository, with a client certificate, and for agents usually
 * append-only (the server refuses deletes and overwrites).
 *
 * <p>Design: one {@link HttpClient} (HTTP/1.1, the caller's {@link SSLContext}, no redirects),
 * one request per operation. Bodies go from and into single arrays: a write sends the caller's
 * buffer as it is, a read receives into an array of the announced length ({@link BodyCollector}).
 * A write of 1 MiB or more sends {@code Expect: 100-continue} and its body only once the server
 * has accepted the request, so a refused pack is not uploaded.
 *
 * <p>Timeouts: {@code timeout} bounds connecting, the wait for an answer's headers (for a write,
 * counted from the start of the request, plus one second per 128 KiB of body, so a slow uplink
 * can still send a pack), and every pause while a body arrives.
 *
 * <p>Failures: 404 is NOT_FOUND naming the object (REPOSITORY_NOT_FOUND when the server does
 * not know the repository); 416 or a shorter answer to a ranged read is CORRUPT; 401 is
 * UNAUTHENTICATED and 403 FORBIDDEN, with the server's message; 409 (an existing object with
 * other bytes) is CONFLICT; 408, 429, 5xx other than 501, refused or reset connections, timeouts
 * and truncated answers are {@link TransientBackendException}s; a TLS handshake failure and
 * anything else are IO. Invalid names ({@link ObjectNames}) are refused with an
 * {@link IllegalArgumentException} before any request, as in the other backends.
 *
 * <p>Thread safe.
 */
public final class RestBackend implements Backend {
    /** Header of HEAD answers: the object's last-modified time on the server, in epoch milliseconds. */
    public static final String MODIFIED_HEADER = "X-Haven-Modified";
    /** Header of error answers: the error code of the JSON body (HEAD answers have no body). */
    public static final String ERROR_HEADER = "X-Haven-Error";
    /** The error code of a 404 that means the repository, not the object, is unknown. */
    public static final String REPOSITORY_NOT_FOUND_CODE = "repository_not_found";

    private static final int MAX_OBJECT = Integer.MAX_VALUE - 16;
    private static final int MAX_ERROR_BODY = 64 << 10;
    private static final long UPLOAD_ALLOWANCE_BYTES_PER_SECOND = 128 << 10;
    /** From this size on, a write asks for {@code 100 Continue} first, so a refusal costs no upload. */
    static final int EXPECT_CONTINUE_FROM = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String location;
    private final Duration timeout;
    private final HttpClient client;

    /**
     * A backend for the repository at {@code base} ({@code https://HOST:PORT/repo/v1/NAME}). Makes
     * no request: an unreachable server or a refused certificate shows at the first operation.
     *
     * @param ssl carries this host's client certificate and trusts the server's CA; not used for
     *     an {@code http} base, which is for tests only
     * @param timeout see the class comment
     * @throws HavenException USAGE when {@code base} is not an http(s) URI without query,
     *     fragment or user information
     */
    public RestBackend(URI base, SSLContext ssl, Duration timeout) {
        this.base = checkBase(base);
        this.location = this.base.toString();
        if (timeout.isNegative() || timeout.isZero()) {
            throw new HavenException(ErrorCode.USAGE, "the request timeout for " + location + " must be positive");
        }
        this.timeout = timeout;
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(timeout);
        if (ssl != null) {
            b.sslContext(ssl);
        }
        this.client = b.build();
    }

    private static URI checkBase(URI base) {
        String s = base.toString();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        URI u = URI.create(s);
        if (!("https".equalsIgnoreCase(u.getScheme()) || "http".equalsIgnoreCase(u.getScheme())) || u.getHost() == null
                || u.getRawQuery() != null || u.getRawFragment() != null || u.getRawUserInfo() != null) {
            throw new HavenException(ErrorCode.USAGE, "not a repository URL: " + base
                    + " (expected https://HOST:PORT/repo/v1/REPOSITORY, without query or credentials)");
        }
        return u;
    }

    @Override
    public String location() {
        return location;
    }

    // ---------------------------------------------------------------- operations

    @Override
    public List<String> list(String directory) {
        String dir = directory;
        while (dir.endsWith("/")) {
            dir = dir.substring(0, dir.length() - 1);
        }
        if (!dir.isEmpty()) {
            ObjectNames.check(dir);
        }
        String what = dir.isEmpty() ? "the objects" : dir + "/";
        Answer a = send(request("/list?dir=" + encode(dir, false)).GET(), timeout, MAX_OBJECT, "list", what);
        if (a.status != 200) {
            throw failure("list", what, a);
        }
        try {
            JsonNode names = JSON.readTree(a.body).get("names");
            if (names == null || !names.isArray()) {
                throw new IOException("no \"names\" array");
            }
            List<String> out = new ArrayList<>(names.size());
            for (JsonNode n : names) {
                if (!n.isTextual() || !ObjectNames.valid(n.asText())) {
                    throw new IOException("an invalid name " + n);
                }
                out.add(n.asText());
            }
            return out;
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot list " + what + " at " + location
                    + ": the server's answer is not a listing (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        ObjectNames.check(name);
        Answer a = send(request(objectPath(name)).HEAD(), timeout, 0, "stat", name);
        if (a.status == 404 && !REPOSITORY_NOT_FOUND_CODE.equals(a.errorCode())) {
            return Optional.empty();
        }
        if (a.status != 200) {
            throw failure("stat", name, a);
        }
        OptionalLong size = a.headers.firstValueAsLong("Content-Length");
        OptionalLong modified = a.headers.firstValueAsLong(MODIFIED_HEADER);
        if (size.isEmpty() || modified.isEmpty()) {
            throw new HavenException(ErrorCode.IO, "cannot stat " + name + " at " + location
                    + ": the server's answer lacks Content-Length or " + MODIFIED_HEADER);
        }
        return Optional.of(new ObjectInfo(size.getAsLong(), Instant.ofEpochMilli(modified.getAsLong())));
    }

    @Override
    public byte[] read(String name) {
        ObjectNames.check(name);
        Answer a = send(request(objectPath(name)).GET(), timeout, MAX_OBJECT, "read", name);
        if (a.status != 200) {
            throw failure("read", name, a);
        }
        return a.body;
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        ObjectNames.check(name);
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative range " + offset + "+" + length + " of " + name);
        }
        if (length == 0) {
            long size = stat(name).orElseThrow(() -> missing(name, null)).size();
            if (offset > size) {
                throw shorter(name, offset, length);
            }
            return new byte[0];
        }
        HttpRequest.Builder r = request(objectPath(name)).GET().header("Range", "bytes=" + offset + "-" + (offset + length - 1));
        Answer a = send(r, timeout, MAX_OBJECT, "read", name);
        if (a.status == 206) {
            if (a.body.length < length) {
                throw shorter(name, offset, length);
            }
            if (a.body.length > length) {
                throw new HavenException(ErrorCode.IO, "cannot read " + name + " at " + location + ": asked for " + length
                        + " bytes, the server sent " + a.body.length);
            }
            return a.body;
        }
        if (a.status == 200) {
            // a server (or proxy) that ignores Range sends the whole object
            if (a.body.length < offset + length) {
                throw shorter(name, offset, length);
            }
            return java.util.Arrays.copyOfRange(a.body, (int) offset, (int) offset + length);
        }
        if (a.status == 416) {
            throw shorter(name, offset, length);
        }
        throw failure("read", name, a);
    }

    @Override
    public void write(String name, byte[] data, int length) {
        ObjectNames.check(name);
        if (length < 0 || length > data.length) {
            throw new IllegalArgumentException("length " + length + " outside the " + data.length + "-byte buffer");
        }
        HttpRequest.Builder r = request(objectPath(name)).header("Content-Type", "application/octet-stream")
                .expectContinue(length >= EXPECT_CONTINUE_FROM)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(data, 0, length));
        Duration wait = timeout.plusSeconds(length / UPLOAD_ALLOWANCE_BYTES_PER_SECOND);
        Answer a = send(r, wait, MAX_ERROR_BODY, "write", name);
        if (a.status != 200 && a.status != 201 && a.status != 204) {
            throw failure("write", name, a);
        }
    }

    @Override
    public void delete(String name) {
        ObjectNames.check(name);
        Answer a = send(request(objectPath(name)).DELETE(), timeout, MAX_ERROR_BODY, "delete", name);
        if (a.status == 404 && !REPOSITORY_NOT_FOUND_CODE.equals(a.errorCode())) {
            return; // the server answers 204 for an absent object; a 404 means the same
        }
        if (a.status != 200 && a.status != 204) {
            throw failure("delete", name, a);
        }
    }

    @Override
    public void close() {
        client.close();
    }

    // ---------------------------------------------------------------- requests

    /** An answer: status, headers, and the body (the object, or the start of an error document). */
    private record Answer(int status, HttpHeaders headers, byte[] body) {
        String errorCode() {
            return headers.firstValue(ERROR_HEADER).orElse(null);
        }
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(location + pathAndQuery));
    }

    private static String objectPath(String name) {
        return "/objects/" + encode(name, true);
    }

    /**
     * Percent-encodes UTF-8 {@code s} for a URL: unreserved characters (RFC 3986) stay, and '/'
     * stays in a path; everything else becomes {@code %XX}.
     */
    static String encode(String s, boolean path) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
                    || c == '~' || path && c == '/') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

    /**
     * Sends a request and receives its answer, keeping at most {@code limit} bytes of a
     * successful body (error bodies are cut at 64 KiB). Waits {@code headerWait} for the headers,
     * then as long as the body keeps arriving, {@code timeout} at most between two pieces.
     */
    private Answer send(HttpRequest.Builder builder, Duration headerWait, int limit, String action, String name) {
        HttpRequest request = builder.timeout(headerWait).build();
        boolean head = request.method().equals("HEAD");
        AtomicReference<BodyCollector> collector = new AtomicReference<>();
        HttpResponse.BodyHandler<byte[]> handler = info -> {
            boolean ok = info.statusCode() < 300;
            long announced = head ? -1 : info.headers().firstValueAsLong("Content-Length").orElse(-1);
            BodyCollector c = new BodyCollector(announced, ok ? limit : MAX_ERROR_BODY, !ok);
            collector.set(c);
            return c;
        };
        CompletableFuture<HttpResponse<byte[]>> future = client.sendAsync(request, handler);
        long lastSeen = -1;
        long waitNanos = headerWait.plusSeconds(1).toNanos();
        while (true) {
            try {
                HttpResponse<byte[]> r = future.get(waitNanos, TimeUnit.NANOSECONDS);
                return new Answer(r.statusCode(), r.headers(), r.body());
            } catch (TimeoutException e) {
                BodyCollector c = collector.get();
                if (c == null || c.received() == lastSeen) {
                    future.cancel(true);
                    if (c != null) {
                        c.abort();
                    }
                    throw new TransientBackendException(what(action, name) + ": timed out (no answer for "
                            + Duration.ofNanos(waitNanos).toSeconds() + " s)");
                }
                lastSeen = c.received();
                waitNanos = timeout.toNanos();
            } catch (InterruptedException e) {
                future.cancel(true);
                Thread.currentThread().interrupt();
                throw new HavenException(ErrorCode.IO, what(action, name) + ": interrupted");
            } catch (ExecutionException | CompletionException e) {
                throw failure(action, name, e.getCause() == null ? e : e.getCause());
            }
        }
    }

    private String what(String action, String name) {
        return "cannot " + action + " " + name + " at " + location;
    }

    /** Maps a failure to send or receive (no HTTP status) to Haven's errors. */
    private HavenException failure(String action, String name, Throwable t) {
        String what = what(action, name);
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof HavenException h) {
                return h;
            }
            if (c instanceof BodyCollector.Oversized o) {
                return new HavenException(ErrorCode.IO, what + ": " + o.getMessage(), t);
            }
        }
        if (t instanceof HttpConnectTimeoutException) {
            return new TransientBackendException(what + ": timed out connecting", t);
        }
        if (t instanceof HttpTimeoutException) {
            return new TransientBackendException(what + ": timed out waiting for the answer", t);
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SSLHandshakeException || c instanceof SSLPeerUnverifiedException
                    || c instanceof SSLException && String.valueOf(c.getMessage()).contains("certificate")) {
                return new HavenException(ErrorCode.IO, what + ": TLS failed (" + c.getMessage() + "): check that the server's "
                        + "certificate is signed by the CA this host trusts, and that the server accepts this host's certificate", t);
            }
        }
        if (t instanceof ConnectException) {
            return new TransientBackendException(what + ": cannot connect (" + (t.getMessage() == null
                    ? "connection refused" : t.getMessage()) + ")", t);
        }
        if (t instanceof IOException) {
            return new TransientBackendException(what + ": " + t.getClass().getSimpleName()
                    + (t.getMessage() == null ? "" : ": " + t.getMessage()), t);
        }
        return new HavenException(ErrorCode.IO, what + ": " + t, t);
    }

    /** Maps an HTTP answer that is not the expected one to Haven's errors (see the class comment). */
    private HavenException failure(String action, String name, Answer a) {
        String what = what(action, name);
        String message = serverMessage(a);
        String detail = "HTTP " + a.status + (message == null ? "" : ": " + message);
        return switch (a.status) {
            case 401 -> new HavenException(ErrorCode.UNAUTHENTICATED, what + ": the server did not accept this host's "
                    + "credentials (" + detail + ")");
            case 403 -> new HavenException(ErrorCode.FORBIDDEN, what + ": the server refused (" + detail + ")");
            case 404 -> REPOSITORY_NOT_FOUND_CODE.equals(a.errorCode())
                    ? new HavenException(ErrorCode.REPOSITORY_NOT_FOUND, what + ": the server has no such repository (" + detail + ")")
                    : missing(name, detail);
            case 409 -> new HavenException(ErrorCode.CONFLICT, what + ": the repository already holds " + name
                    + " with other content, and objects are never overwritten (" + detail + ")");
            case 408, 429 -> new TransientBackendException(what + ": " + detail);
            default -> a.status >= 500 && a.status != 501 ? new TransientBackendException(what + ": " + detail)
                    : new HavenException(ErrorCode.IO, what + ": unexpected answer (" + detail + ")");
        };
    }

    /** The message of a JSON error document ({@code {"error":{"code","message"}}}), else the body's start as text. */
    private static String serverMessage(Answer a) {
        if (a.body.length == 0) {
            return a.errorCode();
        }
        try {
            JsonNode m = JSON.readTree(a.body).path("error").path("message");
            if (m.isTextual()) {
                return ObjectNames.printable(m.asText(), 1000);
            }
        } catch (IOException e) {
            // not JSON: show the text
        }
        return ObjectNames.printable(new String(a.body, 0, Math.min(a.body.length, 300), StandardCharsets.UTF_8).strip(), 300);
    }

    private HavenException missing(String name, String detail) {
        return new HavenException(ErrorCode.NOT_FOUND, "object " + name + " is missing from the repository at " + location
                + (detail == null ? "" : " (" + detail + ")"));
    }

    private HavenException shorter(String name, long offset, int length) {
        return new HavenException(ErrorCode.CORRUPT, "object " + name + " at " + location + " is shorter than expected (wanted "
                + length + " bytes at " + offset + ")");
    }
}
