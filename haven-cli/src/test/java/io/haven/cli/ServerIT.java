package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code haven server} and {@code haven admin create} through the built {@code bin/haven}. */
class ServerIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void adminCreateThenServerStartsOnHttpsAndTheUserLogsIn() throws Exception {
        Path data = tmp.resolve("server");
        HavenCli haven = new HavenCli(tmp.resolve("unused-repo"), "unused");
        haven.env("HAVEN_ADMIN_PASSWORD", "first-admin-password");
        JsonNode created = JSON.readTree(haven.run("admin", "create", "--data", data.toString(), "--username", "root-admin", "--json")
                .expect(0).out());
        assertThat(created.get("role").asText()).isEqualTo("admin");
        assertThat(created.get("password").isNull()).isTrue();

        Process p = haven.builder("server", "--data", data.toString(), "--listen", "127.0.0.1:0", "--json")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            JsonNode info = JSON.readTree(out.readLine());
            assertThat(info.get("createdCa").asBoolean()).isTrue();
            // a user existed already: no first admin is made
            assertThat(info.get("createdAdmin").isNull()).isTrue();
            assertThat(info.get("caFingerprintSha256").asText()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
            HttpClient http = client(Path.of(info.get("caCertificate").asText()));
            URI base = URI.create(info.get("url").asText());
            var health = http.send(HttpRequest.newBuilder(base.resolve("/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            var login = http.send(HttpRequest.newBuilder(base.resolve("/api/v1/login"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"root-admin\",\"password\":\"first-admin-password\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(login.statusCode()).isEqualTo(200);

            // the embedded database is held by the running server
            var busy = haven.run("admin", "create", "--data", data.toString(), "--username", "second");
            assertThat(busy.exit()).isEqualTo(1);
            assertThat(busy.err()).contains("in use");
        } finally {
            p.destroy();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Files.exists(data.resolve("tls/ca.key"))).isTrue();
        assertThat(haven.run("admin", "create", "--data", data.toString(), "--username", "root-admin").exit()).isEqualTo(1);
    }

    private static HttpClient client(Path ca) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
    }
}
