package io.haven.server.repo;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.ObjectNames;
import io.haven.repository.backend.RestBackend;
import io.haven.repository.backend.TransientBackendException;
import io.haven.server.http.RequestBodies;
import io.haven.server.http.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Serves repositories to {@link RestBackend} clients under {@code /repo/v1/{repository}/…}
 * (the protocol is in docs/backends.md, "REST backend"): {@code GET list?dir=D}, and
 * {@code HEAD}, {@code GET} (with one {@code Range}), {@code PUT} and {@code DELETE} of
 * {@code objects/{name}}. Other paths are not handled ({@link #handle} returns false), so the
 * handler can sit in front of the API's {@link Router} in a {@code Handler.Sequence}.
 *
 * <p>Each request is authorized by {@link RepositoryAccess} first; an append-only grant is held
 * to {@link AppendOnlyRule}. Object names are checked with {@link ObjectNames} (400 otherwise).
 * Errors are JSON {@code {"error":{"code","message"}}} with the status {@link Router#status}
 * gives for the code, and the code also in the {@code X-Haven-Error} header (HEAD answers have no
 * body): 401, 403, 404 ({@code not_found} for an object, {@code repository_not_found}), 405,
 * 409, 411, 413, 416; a backend failure is 500, or 503 when it is transient.
 *
 * <p>Bodies: a GET sends the object in windows of 4 MiB read from the backend, so a pack is never
 * held whole; a PUT receives the body into one array of its {@code Content-Length} (at most
 * 512 MiB), because {@link Backend#write} stores a whole array atomically. A failure after the
 * answer's headers are sent aborts the connection, which the client sees as a truncated answer.
 *
 * <p>Writes and deletes of one name in one backend (told apart by {@link Backend#location()}) are
 * serialized in this process, so the append-only comparison of an existing object and the write
 * cannot interleave with another write of that name (several server processes sharing a backend
 * do not coordinate).
 *
 * <p>Thread safe; blocking (Jetty runs it on its thread pool).
 */
public final class RepositoryHandler extends Handler.Abstract {
    /** The path prefix this handler serves. */
    public static final String PREFIX = "/repo/v1/";
    /** The largest object a PUT may carry. */
    public static final long MAX_OBJECT = 512L << 20;
    /** How much of an object a GET reads from the backend at a time. */
    static final int WINDOW = 4 << 20;
    /** The most of a refused body read (and thrown away) so that the client sees the refusal; beyond it the connection closes. */
    static final long MAX_DISCARD = 64L << 20;
    private static final int LOCK_STRIPES = 64;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory JSON_FACTORY = JSON.getFactory();

    private final RepositoryAccess access;
    private final AppendOnlyRule appendOnly = new AppendOnlyRule();
    private final ReentrantLock[] locks = new ReentrantLock[LOCK_STRIPES];

    public RepositoryHandler(RepositoryAccess access) {
        this.access = access;
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = request.getHttpURI().getPath();
        if (path == null || !path.startsWith(PREFIX)) {
            return false;
        }
        String method = request.getMethod().toUpperCase(Locale.ROOT);
        boolean head = method.equals("HEAD");
        try {
            RepositoryPath target = RepositoryPath.parse(path);
            RepositoryAccess.Grant grant = authorize(request, target.repository());
            if (target.list()) {
                if (!method.equals("GET")) {
                    throw new MethodNotAllowed(method, path, "GET");
                }
                list(request, response, grant);
            } else {
                String problem = ObjectNames.problem(target.name());
                if (problem != null) {
                    throw new HavenException(ErrorCode.USAGE, "invalid object name '" + ObjectNames.printable(target.name())
                            + "': it " + problem);
                }
                switch (method) {
                    case "HEAD" -> stat(response, grant, target.name());
                    case "GET" -> get(request, response, grant, target.name());
                    case "PUT" -> put(request, response, grant, target.name());
                    case "DELETE" -> delete(response, grant, target.name());
                    default -> throw new MethodNotAllowed(method, path, "HEAD, GET, PUT, DELETE");
                }
            }
            callback.succeeded();
        } catch (Exception t) {
            if (response.isCommitted()) {
                callback.failed(t); // the headers are out: abort, so the client sees a truncated answer
            } else {
                if (method.equals("PUT") || method.equals("POST")) {
                    RequestBodies.discard(request, MAX_DISCARD); // beyond it the connection closes
                }
                fail(response, callback, head, t);
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- routing and access

    private RepositoryAccess.Grant authorize(Request request, String repository) {
        try {
            return access.authorize(request, repository);
        } catch (HavenException e) {
            if (e.code() == ErrorCode.NOT_FOUND || e.code() == ErrorCode.REPOSITORY_NOT_FOUND) {
                throw new HavenException(ErrorCode.REPOSITORY_NOT_FOUND, e.getMessage(), e);
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------- operations

    private static void list(Request request, Response response, RepositoryAccess.Grant grant) throws IOException {
        String dir = Request.extractQueryParameters(request).getValue("dir");
        dir = dir == null ? "" : dir;
        while (dir.endsWith("/")) {
            dir = dir.substring(0, dir.length() - 1);
        }
        if (!dir.isEmpty() && !ObjectNames.valid(dir)) {
            throw new HavenException(ErrorCode.USAGE, "invalid directory '" + ObjectNames.printable(dir) + "': it "
                    + ObjectNames.problem(dir));
        }
        List<String> names = grant.backend().list(dir);
        response.setStatus(200);
        headers(response, "application/json");
        try (OutputStream out = Content.Sink.asOutputStream(response);
                JsonGenerator g = JSON_FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("names");
            for (String n : names) {
                g.writeString(n);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }

    private static void stat(Response response, RepositoryAccess.Grant grant, String name) {
        Backend.ObjectInfo info = grant.backend().stat(name).orElseThrow(() -> missing(name));
        response.setStatus(200);
        headers(response, "application/octet-stream");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, info.size());
        response.getHeaders().put(RestBackend.MODIFIED_HEADER, Long.toString(info.modified().toEpochMilli()));
    }

    private static void get(Request request, Response response, RepositoryAccess.Grant grant, String name) throws IOException {
        Backend backend = grant.backend();
        String range = request.getHeaders().get(HttpHeader.RANGE);
        long size = backend.stat(name).orElseThrow(() -> missing(name)).size();
        if (range == null) {
            if (size <= WINDOW) {
                // whole in one read: a small object (a writer marker) may be rewritten between stat and read
                byte[] all = backend.read(name);
                response.setStatus(200);
                headers(response, "application/octet-stream");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, all.length);
                try (OutputStream out = Content.Sink.asOutputStream(response)) {
                    out.write(all);
                }
                return;
            }
            response.setStatus(200);
            send(response, backend, name, 0, size);
            return;
        }
        long[] r = parseRange(range);
        long from = r[0];
        if (from >= size) {
            throw new RangeNotSatisfiable(size, "object " + name + " has " + size + " bytes; the range "
                    + ObjectNames.printable(range, 100) + " starts past its end");
        }
        long to = Math.min(r[1], size - 1);
        response.setStatus(206);
        response.getHeaders().put(HttpHeader.CONTENT_RANGE, "bytes " + from + "-" + to + "/" + size);
        send(response, backend, name, from, to - from + 1);
    }

    /** Sends {@code length} bytes of {@code name} from {@code from}, reading {@link #WINDOW} at a time. */
    private static void send(Response response, Backend backend, String name, long from, long length) throws IOException {
        headers(response, "application/octet-stream");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            long done = 0;
            while (done < length) {
                int n = (int) Math.min(WINDOW, length - done);
                out.write(backend.read(name, from + done, n));
                done += n;
            }
        }
    }

    /** {@code bytes=A-B} or {@code bytes=A-} as {A, B} (B = Long.MAX_VALUE when open). */
    static long[] parseRange(String header) {
        String h = header.trim();
        if (!h.startsWith("bytes=") || h.indexOf(',') >= 0) {
            throw new HavenException(ErrorCode.USAGE, "unsupported Range '" + ObjectNames.printable(h, 100)
                    + "': send one range, bytes=FROM-TO or bytes=FROM-");
        }
        String spec = h.substring("bytes=".length()).trim();
        int dash = spec.indexOf('-');
        try {
            if (dash <= 0) {
                throw new NumberFormatException();
            }
            long from = Long.parseLong(spec.substring(0, dash).trim());
            String end = spec.substring(dash + 1).trim();
            long to = end.isEmpty() ? Long.MAX_VALUE : Long.parseLong(end);
            if (from < 0 || to < from) {
                throw new NumberFormatException();
            }
            return new long[] {from, to};
        } catch (NumberFormatException e) {
            throw new HavenException(ErrorCode.USAGE, "unsupported Range '" + ObjectNames.printable(h, 100)
                    + "': send one range, bytes=FROM-TO or bytes=FROM-");
        }
    }

    private void put(Request request, Response response, RepositoryAccess.Grant grant, String name) throws IOException {
        String repository = grant.backend().location();
        long length = request.getLength();
        if (length < 0) {
            throw new StatusException(411, "length_required", "a PUT of " + name + " needs a Content-Length");
        }
        if (length > MAX_OBJECT) {
            throw new StatusException(413, "too_large", "object " + name + " has " + length + " bytes; the limit is "
                    + MAX_OBJECT + " bytes");
        }
        if (grant.appendOnly()) {
            refuseIf(appendOnly.refuseWrite(repository, name, grant.actor()));
        }
        byte[] body = new byte[(int) length];
        try (InputStream in = Content.Source.asInputStream(request)) {
            int n = in.readNBytes(body, 0, body.length);
            if (n < body.length || in.read() >= 0) {
                throw new HavenException(ErrorCode.USAGE, "the body of the PUT of " + name + " does not have its Content-Length of "
                        + length + " bytes");
            }
        }
        Backend backend = grant.backend();
        boolean existed;
        ReentrantLock lock = lock(repository, name);
        lock.lock();
        try {
            if (grant.appendOnly()) {
                refuseIf(appendOnly.refuseWrite(repository, name, grant.actor())); // the owner may have changed while we read
            }
            Optional<Backend.ObjectInfo> existing = backend.stat(name);
            existed = existing.isPresent();
            boolean keep = false;
            if (existed && grant.appendOnly() && !AppendOnlyRule.isWriterMarker(name)) {
                if (!sameContent(backend, name, existing.get().size(), body)) {
                    throw new HavenException(ErrorCode.CONFLICT, "the repository already holds " + name + " with other content;"
                            + " append-only access (" + grant.actor() + ") cannot overwrite it");
                }
                keep = true; // the same bytes: a retried write, nothing to do
            }
            if (!keep) {
                backend.write(name, body, body.length);
                if (!existed) {
                    appendOnly.created(repository, name, grant.actor());
                }
            }
        } finally {
            lock.unlock();
        }
        response.setStatus(existed ? 200 : 201);
        headers(response, null);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
    }

    /** Whether the stored object {@code name} of {@code size} bytes holds exactly {@code body}, compared window by window. */
    private static boolean sameContent(Backend backend, String name, long size, byte[] body) {
        if (size != body.length) {
            return false;
        }
        for (int off = 0; off < body.length; off += WINDOW) {
            int n = Math.min(WINDOW, body.length - off);
            byte[] stored = backend.read(name, off, n);
            if (!Arrays.equals(stored, 0, n, body, off, off + n)) {
                return false;
            }
        }
        return true;
    }

    private void delete(Response response, RepositoryAccess.Grant grant, String name) {
        String repository = grant.backend().location();
        ReentrantLock lock = lock(repository, name);
        lock.lock();
        try {
            if (grant.appendOnly()) {
                refuseIf(appendOnly.refuseDelete(repository, name, grant.actor()));
            }
            grant.backend().delete(name);
            appendOnly.deleted(repository, name);
        } finally {
            lock.unlock();
        }
        response.setStatus(204);
        headers(response, null);
    }

    private static void refuseIf(String refusal) {
        if (refusal != null) {
            throw new HavenException(ErrorCode.FORBIDDEN, refusal);
        }
    }

    private ReentrantLock lock(String repository, String name) {
        return locks[Math.floorMod(31 * repository.hashCode() + name.hashCode(), locks.length)];
    }

    private static HavenException missing(String name) {
        return new HavenException(ErrorCode.NOT_FOUND, "object " + name + " does not exist");
    }

    // ---------------------------------------------------------------- answers

    private static void headers(Response response, String contentType) {
        if (contentType != null) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        }
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
    }

    /** A refusal with a status of its own (not one of {@link Router#status}'s). */
    private static class StatusException extends RuntimeException {
        final int status;
        final String code;

        StatusException(int status, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
        }
    }

    private static final class MethodNotAllowed extends StatusException {
        final String allow;

        MethodNotAllowed(String method, String path, String allow) {
            super(405, "method_not_allowed", method + " is not allowed on " + path + "; use " + allow);
            this.allow = allow;
        }
    }

    private static final class RangeNotSatisfiable extends StatusException {
        final long size;

        RangeNotSatisfiable(long size, String message) {
            super(416, "range_not_satisfiable", message);
            this.size = size;
        }
    }

    /** Answers {@code t} as a JSON error, replacing whatever status and headers the failed operation had set. */
    private static void fail(Response response, Callback callback, boolean head, Exception t) {
        response.reset();
        int status;
        String code;
        String message;
        switch (t) {
            case StatusException s -> {
                status = s.status;
                code = s.code;
                message = s.getMessage();
                if (s instanceof MethodNotAllowed m) {
                    response.getHeaders().put(HttpHeader.ALLOW, m.allow);
                }
                if (s instanceof RangeNotSatisfiable r) {
                    response.getHeaders().put(HttpHeader.CONTENT_RANGE, "bytes */" + r.size);
                }
            }
            case TransientBackendException e -> {
                status = 503;
                code = "unavailable";
                message = e.getMessage() + " (the repository's storage may be back soon; try again)";
            }
            case HavenException e -> {
                status = Router.status(e.code());
                code = e.code().name().toLowerCase(Locale.ROOT);
                message = e.getMessage();
            }
            case IllegalArgumentException e -> {
                status = 400;
                code = "usage";
                message = e.getMessage();
            }
            default -> {
                status = 500;
                code = "internal";
                message = "internal error while serving the repository";
            }
        }
        response.setStatus(status);
        headers(response, "application/json");
        response.getHeaders().put(RestBackend.ERROR_HEADER, code);
        if (status == 401) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Mutual-TLS realm=\"haven\"");
        }
        byte[] body = head ? new byte[0] : errorBody(code, message);
        if (!head) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        }
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private static byte[] errorBody(String code, String message) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", code);
        inner.put("message", message);
        try {
            return JSON.writeValueAsBytes(Map.of("error", inner));
        } catch (IOException e) {
            return ("{\"error\":{\"code\":\"internal\",\"message\":\"cannot encode an error\"}}").getBytes(StandardCharsets.UTF_8);
        }
    }
}
