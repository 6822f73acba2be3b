package io.haven.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Codec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

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
            checkPrivate(dir.resolve("agent.key"));
            String pem = Files.readString(dir.resolve("agent.key"), StandardCharsets.US_ASCII);
            byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", ""));
            PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
            return new Identity(dir, URI.create(n.get("server").asText()), n.get("agentId").asLong(), n.get("name").asText(),
                    n.hasNonNull("site") ? n.get("site").asText() : null, key, certificate(Files.readString(dir.resolve("agent.crt"))),
                    certificate(Files.readString(dir.resolve("ca.crt"))));
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
            write(dir.resolve("agent.key"), pem("PRIVATE KEY", key.getEncoded()), true);
            write(dir.resolve("agent.crt"), pem("CERTIFICATE", certificate.getEncoded()), false);
            write(dir.resolve("ca.crt"), pem("CERTIFICATE", ca.getEncoded()), false);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("server", server.toString());
            m.put("agentId", agentId);
            m.put("name", name);
            m.put("site", site);
            write(dir.resolve("agent.json"), Codec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n", false);
        } catch (IOException | GeneralSecurityException e) {
            throw new HavenException(ErrorCode.IO, "cannot write the agent's identity to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Mutual TLS: presents the agent's certificate and trusts only the server's CA. */
    public SSLContext sslContext() {
        try {
            char[] pw = "haven".toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("agent", key, pw, new java.security.cert.Certificate[] {certificate, ca});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("haven-ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot set up mutual TLS: " + e.getMessage(), e);
        }
    }

    static X509Certificate certificate(String pem) throws GeneralSecurityException {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void checkPrivate(Path file) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            for (PosixFilePermission p : perms) {
                if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
                    throw new HavenException(ErrorCode.USAGE, "the agent's key " + file + " is accessible to other users ("
                            + PosixFilePermissions.toString(perms) + "); run 'chmod 600 " + file + "'");
                }
            }
        }
    }

    private static void write(Path file, String text, boolean secret) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
        } else {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
