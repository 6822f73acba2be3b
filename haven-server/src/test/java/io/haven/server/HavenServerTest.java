package io.haven.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.server.auth.PasswordHasher;
import io.haven.server.http.Route;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real server on 127.0.0.1 with a free port and a temporary data directory, spoken to over HTTPS. */
public class HavenServerTest {
    public static final String ADMIN_PW = "admin-password-1";
    public static final PasswordHasher.Params FAST = new PasswordHasher.Params(1024, 1, 1);

    @TempDir
    static Path data;
    static HavenServer server;
    static TestClient client;
    static String admin;

    public static ServerConfig config(Path dir) {
        return ServerConfig.defaults(dir, "127.0.0.1", 0).withAdminPassword(ADMIN_PW).withPasswords(FAST);
    }

    @BeforeAll
    static void start() throws Exception {
        server = HavenServer.start(config(data));
        client = new TestClient(server.uri(), server.tls().caCertificateFile());
        admin = client.login("admin", ADMIN_PW);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void healthAnswersWithoutCredentialsAndChecksTheDatabase() throws Exception {
        var r = client.get("/health", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("ok");
        assertThat(r.json().get("database").asText()).isEqualTo("ok");
        assertThat(r.raw().headers().firstValue("Strict-Transport-Security")).isPresent();
    }

    @Test
    void loginWithTheRightPasswordGivesASessionTokenWithExpiry() throws Exception {
        var r = client.post("/api/v1/login", null, Map.of("username", "admin", "password", ADMIN_PW));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("token").asText()).startsWith("hvs_");
        assertThat(r.json().get("expiresAt").asText()).isNotBlank();
        assertThat(r.json().get("user").get("role").asText()).isEqualTo("admin");
        var me = client.get("/api/v1/me", r.json().get("token").asText());
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().get("username").asText()).isEqualTo("admin");
        assertThat(me.json().get("authenticatedBy").asText()).isEqualTo("session");
    }

    @Test
    void loginWithAWrongPasswordOrUnknownUserIs401() throws Exception {
        var wrong = client.post("/api/v1/login", null, Map.of("username", "admin", "password", "not-the-password"));
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.json().get("error").get("code").asText()).isEqualTo("unauthenticated");
        assertThat(wrong.json().get("error").get("message").asText()).contains("wrong user name or password");
        var unknown = client.post("/api/v1/login", null, Map.of("username", "nobody", "password", "whatever-it-is"));
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.body()).isEqualTo(wrong.body());
    }

    @Test
    void requestsWithoutValidCredentialsAre401() throws Exception {
        for (String path : List.of("/api/v1/me", "/api/v1/users", "/api/v1/audit")) {
            var none = client.get(path, null);
            assertThat(none.status()).as(path).isEqualTo(401);
            assertThat(none.json().get("error").get("code").asText()).isEqualTo("unauthenticated");
            assertThat(none.raw().headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"haven\"");
            assertThat(client.get(path, "hvs_forged-token").status()).as(path).isEqualTo(401);
            assertThat(client.get(path, "hvt_forged-token").status()).as(path).isEqualTo(401);
        }
        assertThat(client.post("/api/v1/users", null, Map.of("username", "x", "password", "12345678")).status()).isEqualTo(401);
        // public routes ignore a stale token
        assertThat(client.get("/health", "hvs_expired-long-ago").status()).isEqualTo(200);
        assertThat(client.post("/api/v1/login", "hvs_expired-long-ago", Map.of("username", "admin", "password", ADMIN_PW))
                .status()).isEqualTo(200);
    }

    @Test
    void aViewerIsRefusedAdminEndpointsWith403() throws Exception {
        var created = client.post("/api/v1/users", admin, Map.of("username", "vera", "password", "viewer-password", "role", "viewer"));
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.json().get("role").asText()).isEqualTo("viewer");
        String vera = client.login("vera", "viewer-password");
        assertThat(client.get("/api/v1/me", vera).status()).isEqualTo(200);
        for (String path : List.of("/api/v1/users", "/api/v1/audit")) {
            var r = client.get(path, vera);
            assertThat(r.status()).as(path).isEqualTo(403);
            assertThat(r.json().get("error").get("code").asText()).isEqualTo("forbidden");
        }
        var post = client.post("/api/v1/users", vera, Map.of("username", "mallory", "password", "mallory-password", "role", "admin"));
        assertThat(post.status()).isEqualTo(403);
        assertThat(client.post("/api/v1/tokens", vera, Map.of("name", "mine")).status()).isEqualTo(403);
        assertThat(client.get("/api/v1/users", admin).body()).doesNotContain("mallory");
    }

    @Test
    void anApiTokenIsShownOnceAndActsAsItsUser() throws Exception {
        client.post("/api/v1/users", admin, Map.of("username", "otto", "password", "operator-password", "role", "operator"));
        var t = client.post("/api/v1/tokens", admin, Map.of("name", "nightly-report", "username", "otto", "expiresInDays", 30));
        assertThat(t.status()).isEqualTo(201);
        String token = t.json().get("token").asText();
        assertThat(token).startsWith("hvt_");
        assertThat(t.json().get("expiresAt").isNull()).isFalse();
        var me = client.get("/api/v1/me", token);
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().get("username").asText()).isEqualTo("otto");
        assertThat(me.json().get("role").asText()).isEqualTo("operator");
        assertThat(me.json().get("authenticatedBy").asText()).isEqualTo("api-token");
        assertThat(client.get("/api/v1/users", token).status()).isEqualTo(403);
        // an admin's own token works on admin endpoints; the clear token is never listed anywhere
        var own = client.post("/api/v1/tokens", admin, Map.of("name", "ci"));
        assertThat(client.get("/api/v1/users", own.json().get("token").asText()).status()).isEqualTo(200);
        assertThat(client.get("/api/v1/audit?limit=1000", admin).body()).doesNotContain(token);
        // an API token is not a session token: the prefix cannot be swapped
        assertThat(client.get("/api/v1/me", "hvs_" + token.substring(4)).status()).isEqualTo(401);
    }

    @Test
    void mutatingCallsAreWrittenToTheAuditLog() throws Exception {
        client.post("/api/v1/users", admin, Map.of("username", "audrey", "password", "audrey-password"));
        client.post("/api/v1/login", null, Map.of("username", "audrey", "password", "wrong-password"));
        client.post("/api/v1/users", null, Map.of("username", "eve", "password", "eve-password"));
        JsonNode entries = client.get("/api/v1/audit?limit=1000", admin).json().get("entries");
        List<String> rows = new ArrayList<>();
        for (JsonNode e : entries) {
            rows.add(e.get("actor").asText() + "|" + e.get("action").asText() + "|" + e.get("target").asText() + "|"
                    + e.get("address").asText() + "|" + e.get("status").asInt());
            assertThat(e.get("at").asText()).isNotBlank();
        }
        assertThat(rows).contains(
                "admin|POST /api/v1/users|user:audrey|127.0.0.1|201",
                "audrey|POST /api/v1/login|session|127.0.0.1|401",
                "null|POST /api/v1/users|null|127.0.0.1|401",
                "haven server|create first admin|user:admin|local|201");
        // reads are not audited
        assertThat(rows).noneMatch(r -> r.contains("GET "));
    }

    @Test
    void errorsAreJsonWithCodeAndMessage() throws Exception {
        var notFound = client.get("/api/v1/nothing-here", admin);
        assertThat(notFound.status()).isEqualTo(404);
        assertThat(notFound.json().get("error").get("code").asText()).isEqualTo("not_found");
        var badJson = client.post("/api/v1/users", admin, "{not json");
        assertThat(badJson.status()).isEqualTo(400);
        assertThat(badJson.json().get("error").get("code").asText()).isEqualTo("usage");
        var unknownField = client.post("/api/v1/login", null, Map.of("user", "admin", "password", ADMIN_PW));
        assertThat(unknownField.status()).isEqualTo(400);
        var shortPw = client.post("/api/v1/users", admin, Map.of("username", "shorty", "password", "short"));
        assertThat(shortPw.status()).isEqualTo(400);
        assertThat(shortPw.json().get("error").get("message").asText()).contains("at least 8 characters");
        var dup = client.post("/api/v1/users", admin, Map.of("username", "admin", "password", "another-password"));
        assertThat(dup.status()).isEqualTo(409);
        assertThat(dup.json().get("error").get("code").asText()).isEqualTo("conflict");
        var badRole = client.post("/api/v1/users", admin, Map.of("username", "rolf", "password", "rolf-password", "role", "root"));
        assertThat(badRole.status()).isEqualTo(400);
        var method = client.post("/health", null, "{}");
        assertThat(method.status()).isEqualTo(405);
        assertThat(method.json().get("error").get("code").asText()).isEqualTo("method_not_allowed");
    }

    @Test
    void aRefusedRequestWhoseBodyIsStillArrivingLeavesTheConnectionUsable() throws Exception {
        try (var s = client.socket()) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            // the headers and 2 of 10 body bytes; the server refuses (405) before the rest arrives
            out.write(("POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 10\r\n\r\n{\"").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(300);
            out.write("a\":\"bc\"}".getBytes(StandardCharsets.US_ASCII));
            out.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String first = readResponse(in);
            assertThat(first).startsWith("HTTP/1.1 405").contains("method_not_allowed");
            assertThat(first.toLowerCase(java.util.Locale.ROOT)).doesNotContain("connection: close");
            // before the fix the server closed the connection here, unannounced
            assertThat(readResponse(in)).startsWith("HTTP/1.1 200").contains("\"status\"");
        }
        try (var s = client.socket()) {
            // a body over the limit is not read: the refusal says the connection ends
            s.getOutputStream().write(("POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000000\r\n\r\n{}")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String answer = readResponse(s.getInputStream());
            assertThat(answer).startsWith("HTTP/1.1 405");
            assertThat(answer.toLowerCase(java.util.Locale.ROOT)).contains("connection: close");
        }
    }

    /** One HTTP/1.1 response with a Content-Length body, read from a raw connection. */
    private static String readResponse(InputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new java.io.EOFException("the connection closed after " + head.length() + " bytes: " + head);
            }
            head.append((char) c);
        }
        var m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Test
    void metricsExposeRequestCountsAndLatencyHistograms() throws Exception {
        client.get("/health", null);
        client.get("/api/v1/me", null);
        var r = client.get("/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.raw().headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain; version=0.0.4");
        assertThat(r.body())
                .contains("# TYPE haven_http_requests_total counter")
                .contains("# TYPE haven_http_request_duration_seconds histogram")
                .containsPattern("haven_http_requests_total\\{method=\"GET\",route=\"/health\",status=\"200\"} [1-9]")
                .containsPattern("haven_http_requests_total\\{method=\"GET\",route=\"/api/v1/me\",status=\"401\"} [1-9]")
                .containsPattern("haven_http_request_duration_seconds_bucket\\{route=\"/health\",le=\"\\+Inf\"} [1-9]")
                .containsPattern("haven_http_request_duration_seconds_count\\{route=\"/health\"} [1-9]");
        // every line is a comment or NAME{labels} VALUE
        for (String line : r.body().split("\n")) {
            assertThat(line).matches("# (HELP|TYPE) .*|[a-z_]+(\\{[^}]*})? [0-9.eE+-]+");
        }
    }

    @Test
    void theOpenApiDocumentDescribesExactlyTheServedRoutes() throws Exception {
        var r = client.get("/api/v1/openapi.json", null);
        assertThat(r.status()).isEqualTo(200);
        JsonNode doc = r.json();
        assertThat(doc.get("openapi").asText()).startsWith("3.");
        List<String> documented = new ArrayList<>();
        doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames()
                .forEachRemaining(m -> documented.add(m.toUpperCase() + " " + p.getKey())));
        List<String> served = server.router().routes().stream().map(x -> x.method() + " " + x.path()).toList();
        assertThat(documented).containsExactlyInAnyOrderElementsOf(served);
        for (Route route : server.router().routes()) {
            JsonNode op = doc.get("paths").get(route.path()).get(route.method().toLowerCase());
            assertThat(op.has("security")).as(route.method() + " " + route.path()).isEqualTo(route.access() != Route.Access.PUBLIC);
            if (op.has("security")) {
                assertThat(op.get("security").get(0).has(route.access() == Route.Access.AGENT ? "agentCertificate" : "bearer"))
                        .as(route.method() + " " + route.path()).isTrue();
            }
        }
    }

    @Test
    void plainHttpIsRefused() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] got;
            try {
                got = in.readNBytes(4096);
            } catch (java.io.IOException e) {
                got = new byte[0]; // reset by the server: refused
            }
            String answer = new String(got, StandardCharsets.ISO_8859_1);
            assertThat(answer).doesNotContain("\"status\"").doesNotContain("HTTP/1.1 200");
        }
        var plain = java.net.http.HttpClient.newHttpClient();
        var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + "/health"))
                .timeout(java.time.Duration.ofSeconds(5)).build();
        try {
            var res = plain.send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isNotEqualTo(200);
            assertThat(res.body()).doesNotContain("\"status\"");
        } catch (java.io.IOException expected) {
            // refused at the TLS layer
        }
    }

    @Test
    void privateKeysAreReadableOnlyByTheOwner() throws Exception {
        for (String f : List.of("ca.key", "server.key")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("tls").resolve(f))))
                    .as(f).isEqualTo("rw-------");
        }
        assertThat(server.tls().caFingerprint()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
    }

    @Test
    void tokensAreListedWithoutSecretsAndRevokedAtOnce() throws Exception {
        var created = client.post("/api/v1/tokens", admin, Map.of("name", "ci-revoke")).json();
        String t = created.get("token").asText();
        assertThat(client.get("/api/v1/me", t).status()).isEqualTo(200);
        var list = client.get("/api/v1/tokens", admin);
        assertThat(list.body()).contains("ci-revoke").doesNotContain(t);
        assertThat(client.post("/api/v1/tokens/" + created.get("id").asLong() + "/revoke", admin, Map.of()).status()).isEqualTo(200);
        assertThat(client.get("/api/v1/me", t).status()).isEqualTo(401);
        assertThat(client.post("/api/v1/tokens/" + created.get("id").asLong() + "/revoke", admin, Map.of()).status()).isEqualTo(404);
    }

    @Test
    void logoutEndsTheSession() throws Exception {
        String s = client.login("admin", ADMIN_PW);
        assertThat(client.post("/api/v1/logout", s, Map.of()).status()).isEqualTo(200);
        assertThat(client.get("/api/v1/me", s).status()).isEqualTo(401);
    }

    @Test
    void usersChangePasswordsAndAdminsDisableUsersButNotTheLastAdmin() throws Exception {
        assertThat(client.post("/api/v1/users", admin, Map.of("username", "pat", "password", "pat-password-1", "role", "operator")).status())
                .isEqualTo(201);
        String pat = client.login("pat", "pat-password-1");
        assertThat(client.post("/api/v1/users/pat/password", pat, Map.of("password", "pat-password-2", "currentPassword", "wrong-one")).status())
                .isEqualTo(403);
        assertThat(client.post("/api/v1/users/admin/password", pat, Map.of("password", "taken-over-1")).status()).isEqualTo(403);
        assertThat(client.post("/api/v1/users/pat/password", pat, Map.of("password", "pat-password-2", "currentPassword", "pat-password-1"))
                .status()).isEqualTo(200);
        assertThat(client.post("/api/v1/login", null, Map.of("username", "pat", "password", "pat-password-1")).status()).isEqualTo(401);
        String pat2 = client.login("pat", "pat-password-2");
        assertThat(client.post("/api/v1/users/pat/disable", admin, Map.of()).status()).isEqualTo(200);
        assertThat(client.get("/api/v1/me", pat2).status()).isEqualTo(401);
        assertThat(client.post("/api/v1/login", null, Map.of("username", "pat", "password", "pat-password-2")).status()).isEqualTo(401);
        assertThat(client.post("/api/v1/users/pat/enable", admin, Map.of()).status()).isEqualTo(200);
        assertThat(client.get("/api/v1/me", pat2).status()).isEqualTo(200);
        var last = client.post("/api/v1/users/admin/disable", admin, Map.of());
        assertThat(last.status()).isEqualTo(409);
        assertThat(last.body()).contains("last enabled admin");
    }

    @Test
    void repeatedWrongPasswordsLockTheNameBrieflyEvenForTheRightOne() throws Exception {
        assertThat(client.post("/api/v1/users", admin, Map.of("username", "locky", "password", "locky-password-1")).status()).isEqualTo(201);
        for (int i = 0; i < 5; i++) {
            assertThat(client.post("/api/v1/login", null, Map.of("username", "locky", "password", "guess-" + i)).status()).isEqualTo(401);
        }
        var locked = client.post("/api/v1/login", null, Map.of("username", "locky", "password", "locky-password-1"));
        assertThat(locked.status()).isEqualTo(503);
        assertThat(locked.json().get("error").get("message").asText()).contains("too many failed logins").contains("try again in");
        assertThat(client.get("/api/v1/audit?limit=5", admin).body()).contains("\"actor\":\"locky\"");
    }
}
