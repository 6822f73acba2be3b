package io.haven.core.tls;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
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
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * PEM certificates and EC private keys on disk, and TLS contexts made from them — what the server
 * (its CA and certificate) and the agent (its client certificate) both keep. Private keys are
 * written mode 0600 through a temporary file, fsync and an atomic rename, and refused on read
 * when group or others can read them. JDK only. Stateless and thread-safe.
 */
public final class Pem {
    private Pem() {}

    public static String encode(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    public static String certificate(X509Certificate cert) {
        try {
            return encode("CERTIFICATE", cert.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot encode a certificate: " + e, e);
        }
    }

    public static X509Certificate parseCertificate(String pem) throws GeneralSecurityException {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    public static X509Certificate readCertificate(Path file) throws IOException, GeneralSecurityException {
        return parseCertificate(Files.readString(file, StandardCharsets.US_ASCII));
    }

    /**
     * Reads a PKCS#8 EC private key.
     *
     * @throws HavenException USAGE when others can read the file (with the chmod to run)
     */
    public static PrivateKey readPrivateKey(Path file) throws IOException, GeneralSecurityException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            for (PosixFilePermission p : perms) {
                if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
                    throw new HavenException(ErrorCode.USAGE, "private key " + file + " is accessible to other users ("
                            + PosixFilePermissions.toString(perms) + "); run 'chmod 600 " + file + "'");
                }
            }
        }
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        String b64 = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
    }

    public static void writeCertificate(Path file, X509Certificate cert) throws IOException {
        write(file, certificate(cert), false);
    }

    public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
        write(file, encode("PRIVATE KEY", key.getEncoded()), true);
    }

    /** Writes text atomically (temporary file, fsync, rename); {@code secret} files get mode 0600, others 0644. */
    public static void write(Path file, String text, boolean secret) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
        } else {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * A TLS context that presents {@code key} with {@code chain} (null for none: a client without a
     * certificate) and trusts only {@code trusted} (null: the JDK's default trust).
     */
    public static SSLContext context(PrivateKey key, X509Certificate[] chain, X509Certificate trusted) {
        try {
            char[] pw = "haven".toCharArray();
            KeyManagerFactory kmf = null;
            if (key != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("key", key, pw, chain.clone());
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, pw);
            }
            TrustManagerFactory tmf = null;
            if (trusted != null) {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                trust.setCertificateEntry("haven-ca", trusted);
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** Certificates as the chain array {@link #context} takes. */
    public static X509Certificate[] chain(Certificate... certs) {
        X509Certificate[] out = new X509Certificate[certs.length];
        for (int i = 0; i < certs.length; i++) {
            out[i] = (X509Certificate) certs[i];
        }
        return out;
    }
}
