package io.haven.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.core.tls.Pem;
import io.haven.protocol.Codec;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * What an enrolled agent keeps in its directory: {@code agent.json} (server URL, id, name),
 * {@code agent.key} (its private key, mode 0600), {@code agent.crt} (its client certificate) and
 * {@code ca.crt} (the server's CA, the only one it trusts). Immutable.
 */
public record Identity(Path dir, URI server, long agentId, String name, String site, PrivateKey key, X509Certificate certificate,
        X509Certificate ca) {

    /** Loads an enrolled agent's identity; USAGE with the enrol command when there is none. */
    public static Identity load(Path dir) {
        Path meta = dir.resolve("agent.json");
        if (!Files.exists(meta)) {
            throw new HavenException(ErrorCode.USAGE, "this agent is not enrolled (no " + meta + "); run "
                    + "'haven agent enroll --server URL --token TOKEN --dir " + dir + "' first");
        }
        try {
            JsonNode n = Codec.mapper().readTree(Files.readAllBytes(meta));
            PrivateKey key = Pem.readPrivateKey(dir.resolve("agent.key"));
            return new Identity(dir, URI.create(n.get("server").asText()), n.get("agentId").asLong(), n.get("name").asText(),
                    n.hasNonNull("site") ? n.get("site").asText() : null, key, Pem.readCertificate(dir.resolve("agent.crt")),
                    Pem.readCertificate(dir.resolve("ca.crt")));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            if (e instanceof HavenException he) {
                throw he;
            }
            throw new HavenException(ErrorCode.CORRUPT, "the agent's identity in " + dir + " is unreadable (" + e.getMessage()
                    + "); enrol again", e);
        }
    }

    /** Writes an identity (key first, metadata last, each atomically), so a crash leaves no half-enrolled agent. */
    public void save() {
        try {
            Files.createDirectories(dir);
            Pem.writePrivateKey(dir.resolve("agent.key"), key);
            Pem.writeCertificate(dir.resolve("agent.crt"), certificate);
            Pem.writeCertificate(dir.resolve("ca.crt"), ca);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("server", server.toString());
            m.put("agentId", agentId);
            m.put("name", name);
            m.put("site", site);
            Pem.write(dir.resolve("agent.json"), Codec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n", false);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot write the agent's identity to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Mutual TLS: presents the agent's certificate and trusts only the server's CA. */
    public SSLContext sslContext() {
        return Pem.context(key, new X509Certificate[] {certificate, ca}, ca);
    }

    static X509Certificate certificate(String pem) throws GeneralSecurityException {
        return Pem.parseCertificate(pem);
    }
}
