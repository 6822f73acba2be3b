package io.haven.server.repo;

import io.haven.repository.backend.RestBackend;
import io.haven.server.tls.ServerTls;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A real Jetty server over HTTPS on 127.0.0.1 and a free port, serving {@link RepositoryHandler}
 * with a {@link FakeAccess}, set up as {@code HavenServer} sets up its listener; and clients
 * that trust its CA (a {@link RestBackend}, or a raw {@link HttpClient} for protocol details).
 */
final class RepoTestServer implements AutoCloseable {
    final FakeAccess access = new FakeAccess();
    private final Server jetty;
    private final ServerConnector connector;
    private final SSLContext clientSsl;
    private final HttpClient http;

    RepoTestServer(Path tlsDir) throws Exception {
        ServerTls tls = ServerTls.loadOrCreate(tlsDir, List.of("127.0.0.1", "localhost"), InstantSource.system(), new SecureRandom());
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName("test-repo-http");
        jetty = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        config.addCustomizer(secure);
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(tls.sslContext());
        ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        connector = new ServerConnector(jetty, new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()),
                new HttpConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setIdleTimeout(30_000);
        jetty.addConnector(connector);
        jetty.setHandler(new RepositoryHandler(access));
        jetty.start();

        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("haven-ca", tls.caCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        clientSsl = SSLContext.getInstance("TLS");
        clientSsl.init(null, tmf.getTrustManagers(), null);
        http = HttpClient.newBuilder().sslContext(clientSsl).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    int port() {
        return connector.getLocalPort();
    }

    URI base(String repository) {
        return URI.create("https://127.0.0.1:" + port() + "/repo/v1/" + repository);
    }

    SSLContext clientSsl() {
        return clientSsl;
    }

    /** A client of {@code repository}; the caller closes it. */
    RestBackend client(String repository) {
        return new RestBackend(base(repository), clientSsl, Duration.ofSeconds(20));
    }

    /** Sends a request as written (path and query raw, after the host), for protocol details. */
    HttpResponse<byte[]> raw(String method, String pathAndQuery, HttpRequest.BodyPublisher body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port() + pathAndQuery))
                .method(method, body).timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<byte[]> raw(String method, String pathAndQuery, String... headers) throws Exception {
        return raw(method, pathAndQuery, HttpRequest.BodyPublishers.noBody(), headers);
    }

    @Override
    public void close() throws Exception {
        http.close();
        jetty.stop();
    }
}
