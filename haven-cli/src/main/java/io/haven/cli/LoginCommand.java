package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code haven login}: trusts the server (its CA from a file, or from the SHA-256 fingerprint the
 * server prints at start), logs in with a user name and password (or checks an API token), and
 * saves the login for the other API commands.
 */
@Command(name = "login", mixinStandardHelpOptions = true, description = "Log in to a Haven server; later API commands use this login.")
final class LoginCommand extends ApiCommand {
    @Option(names = "--server", required = true, paramLabel = "URL", description = "The server, e.g. https://127.0.0.1:8443.")
    String server;

    @Option(names = "--user", paramLabel = "NAME", defaultValue = "admin", description = "User name (default: ${DEFAULT-VALUE}).")
    String user;

    @Option(names = "--ca", paramLabel = "FILE", description = "The server's CA certificate (DATA_DIR/tls/ca.crt).")
    String ca;

    @Option(names = "--fingerprint", paramLabel = "SHA256", description = "The server CA's SHA-256 fingerprint, as 'haven server' prints it; "
            + "the CA is then fetched from the server and checked against it.")
    String fingerprint;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Use this API token (hvt_…) instead of a password.")
    String token;

    @Override
    public Integer call() throws Exception {
        URI uri = URI.create(server.endsWith("/") ? server.substring(0, server.length() - 1) : server);
        if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new HavenException(ErrorCode.USAGE, "--server is an https:// URL, not '" + server + "'");
        }
        String caPem;
        if (ca != null) {
            caPem = Files.readString(env().resolve(ca), StandardCharsets.US_ASCII);
        } else if (fingerprint != null) {
            caPem = fetchPinned(uri, fingerprint);
        } else {
            throw new HavenException(ErrorCode.USAGE, "say how to trust the server: --ca DATA_DIR/tls/ca.crt, or --fingerprint "
                    + "with the CA fingerprint 'haven server' printed");
        }
        String t = token;
        String who = user;
        if (t == null) {
            String pw = env().get("HAVEN_SERVER_PASSWORD");
            char[] p = pw != null ? pw.toCharArray() : prompt("password of " + user + " on " + uri, false);
            JsonNode r = new ApiClient(uri, caPem, null).post("/api/v1/login", Map.of("username", user, "password", new String(p)));
            t = r.get("token").asText();
        }
        JsonNode me = new ApiClient(uri, caPem, t).get("/api/v1/me");
        who = me.get("username").asText();
        LoginStore store = LoginStore.of(env());
        store.save(new LoginStore.Login(uri, t, caPem, who));
        print(me, () -> println("logged in to " + uri + " as " + me.get("username").asText() + " (" + me.get("role").asText()
                + "); saved in " + store.dir()));
        return Main.EXIT_OK;
    }

    /** Connects once, finds the certificate in the server's chain with this fingerprint, returns it as PEM. */
    static String fetchPinned(URI uri, String fingerprint) throws IOException, GeneralSecurityException {
        String want = fingerprint.replace(":", "").replace("SHA-256", "").replace("SHA256", "").trim().toLowerCase();
        X509Certificate[][] seen = new X509Certificate[1][];
        X509TrustManager capture = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen[0] = chain;
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {capture}, null);
        int port = uri.getPort() < 0 ? 443 : uri.getPort();
        try (Socket raw = new Socket(uri.getHost(), port);
                SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, uri.getHost(), port, true)) {
            s.startHandshake();
        }
        if (seen[0] != null) {
            for (X509Certificate c : seen[0]) {
                String fp = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
                if (fp.equals(want)) {
                    seen[0][0].verify(c.getPublicKey());
                    return "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(c.getEncoded()) + "\n-----END CERTIFICATE-----\n";
                }
            }
        }
        throw new HavenException(ErrorCode.IO, "the server at " + uri + " presents no CA with fingerprint " + fingerprint
                + " (wrong server or fingerprint); not logged in");
    }
}
