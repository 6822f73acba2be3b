package io.haven.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** An HTTPS client that trusts only the server's own CA (read from its ca.crt). */
public final class TestClient {
    static final ObjectMapper JSON = new ObjectMapper();

    public record Res(int status, String body, HttpResponse<String> raw) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    private final HttpClient http;
    private final URI base;
    private final SSLContext tls;

    public TestClient(URI base, Path caCertificate) throws Exception {
        this.base = base;
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(caCertificate)) {
            trust.setCertificateEntry("haven-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        this.tls = ctx;
        this.http = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A TLS socket to the server, for requests the HTTP client cannot make (half-sent bodies). */
    public javax.net.ssl.SSLSocket socket() throws IOException {
        var s = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket(base.getHost(), base.getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    public Res get(String path, String token) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET(), token);
    }

    public Res post(String path, String token, Object body) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body))), token);
    }

    public Res send(HttpRequest.Builder b, String token) throws Exception {
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        return new Res(r.statusCode(), r.body(), r);
    }

    public String login(String user, String password) throws Exception {
        Res r = post("/api/v1/login", null, java.util.Map.of("username", user, "password", password));
        if (r.status() != 200) {
            throw new AssertionError("login of " + user + " failed: " + r.status() + " " + r.body());
        }
        return r.json().get("token").asText();
    }
}
