package io.haven.server.tls;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.core.tls.Pem;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * The server's own certificate authority and its server certificate, kept as PEM files in one
 * directory: {@code ca.crt}, {@code ca.key}, {@code server.crt}, {@code server.key}. Private keys
 * are written with mode 0600 (temporary file, then atomic rename) and refused on load when
 * others can read them.
 *
 * <p>{@link #loadOrCreate} creates the CA on first use and reuses it afterwards; the server
 * certificate is re-issued from the same CA when it does not cover the hosts asked for or
 * expires within 30 days, so a client that trusts the CA (or pinned its fingerprint) keeps
 * working. Keys are ECDSA P-256; signatures SHA-256. Instances are immutable.
 */
public final class ServerTls {
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration SERVER_LIFETIME = Duration.ofDays(825);
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);

    private final Path dir;
    private final X509Certificate ca;
    private final X509Certificate server;
    private final PrivateKey serverKey;
    private final PrivateKey caKey;
    private final SecureRandom random;
    private final boolean createdCa;
    private final boolean issuedServer;

    private ServerTls(Path dir, X509Certificate ca, PrivateKey caKey, X509Certificate server, PrivateKey serverKey,
            SecureRandom random, boolean createdCa, boolean issuedServer) {
        this.caKey = caKey;
        this.random = random;
        this.dir = dir;
        this.ca = ca;
        this.server = server;
        this.serverKey = serverKey;
        this.createdCa = createdCa;
        this.issuedServer = issuedServer;
    }

    /**
     * Loads the CA and server certificate from {@code dir}, creating what is missing.
     *
     * @param hosts names and IP addresses the server certificate must cover (first one is its CN)
     * @throws HavenException IO when the files cannot be read or written, CORRUPT when they do not
     *     parse or do not belong together, USAGE when a private key is readable by others
     */
    public static ServerTls loadOrCreate(Path dir, List<String> hosts, InstantSource clock, SecureRandom random) {
        if (hosts.isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "the server certificate needs at least one host name");
        }
        try {
            Files.createDirectories(dir);
            Path caCrt = dir.resolve("ca.crt");
            Path caKey = dir.resolve("ca.key");
            boolean createdCa = false;
            X509Certificate ca;
            PrivateKey caPrivate;
            if (Files.exists(caCrt) || Files.exists(caKey)) {
                ca = readCertificate(caCrt);
                caPrivate = readKey(caKey);
            } else {
                KeyPair kp = newKeyPair(random);
                ca = selfSigned(kp, clock, random);
                caPrivate = kp.getPrivate();
                writePrivate(caKey, kp.getPrivate());
                writePublic(caCrt, ca);
                createdCa = true;
            }
            Path srvCrt = dir.resolve("server.crt");
            Path srvKey = dir.resolve("server.key");
            if (Files.exists(srvCrt) && Files.exists(srvKey)) {
                X509Certificate server = readCertificate(srvCrt);
                PrivateKey key = readKey(srvKey);
                boolean fresh = server.getNotAfter().toInstant().isAfter(clock.instant().plus(RENEW_BEFORE));
                boolean fromCa = server.getIssuerX500Principal().equals(ca.getSubjectX500Principal()) && signedBy(server, ca);
                if (fresh && fromCa && covers(server, hosts)) {
                    return new ServerTls(dir, ca, caPrivate, server, key, random, createdCa, false);
                }
            }
            KeyPair kp = newKeyPair(random);
            X509Certificate server = issue(ca, caPrivate, kp, hosts, clock, random);
            writePrivate(srvKey, kp.getPrivate());
            writePublic(srvCrt, server);
            return new ServerTls(dir, ca, caPrivate, server, kp.getPrivate(), random, createdCa, true);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot read or write the server's certificates in " + dir + ": " + e, e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new HavenException(ErrorCode.CORRUPT, "the server's certificates in " + dir + " are unusable: " + e, e);
        }
    }

    public X509Certificate caCertificate() {
        return ca;
    }

    public X509Certificate serverCertificate() {
        return server;
    }

    public Path caCertificateFile() {
        return dir.resolve("ca.crt");
    }

    /** Whether this call created the CA (first start). */
    public boolean createdCa() {
        return createdCa;
    }

    /** Whether this call issued a new server certificate. */
    public boolean issuedServerCertificate() {
        return issuedServer;
    }

    /** SHA-256 of the CA certificate's DER encoding, upper-case hex pairs joined by colons. */
    public String caFingerprint() {
        return fingerprint(ca);
    }

    public static String fingerprint(X509Certificate cert) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (GeneralSecurityException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot fingerprint a certificate: " + e, e);
        }
    }

    /**
     * Issues a client certificate (for an agent) for {@code publicKey}: subject {@code CN=cn,O=Haven},
     * extended key usage clientAuth, signed by the CA, valid from an hour ago for {@code lifetime}
     * (capped at the CA's own end).
     */
    public X509Certificate issueClient(java.security.PublicKey publicKey, String cn, Duration lifetime, InstantSource clock) {
        try {
            Instant now = clock.instant();
            Instant notAfter = now.plus(lifetime);
            if (notAfter.isAfter(ca.getNotAfter().toInstant())) {
                notAfter = ca.getNotAfter().toInstant();
            }
            X500Name subject = new X500Name("CN=" + cn.replaceAll("[,+=\"\\\\<>;]", "_") + ",O=Haven");
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(random),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(notAfter), subject, publicKey);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
            return sign(b, caKey);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot issue a client certificate: " + e, e);
        }
    }

    /** A certificate as PEM text. */
    public static String pem(X509Certificate cert) {
        return Pem.certificate(cert);
    }

    /**
     * A TLS context presenting the server certificate (with the CA in its chain) and trusting only
     * this CA for client certificates (agents).
     */
    public SSLContext sslContext() {
        return Pem.context(serverKey, new X509Certificate[] {server, ca}, ca);
    }

    // --- certificates

    private static KeyPair newKeyPair(SecureRandom random) throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), random);
        return g.generateKeyPair();
    }

    private static X509Certificate selfSigned(KeyPair kp, InstantSource clock, SecureRandom random)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        Instant now = clock.instant();
        byte[] id = new byte[4];
        random.nextBytes(id);
        X500Name name = new X500Name("CN=Haven server CA " + HexFormat.of().formatHex(id) + ",O=Haven");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(random),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(CA_LIFETIME)), name, kp.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
        return sign(b, kp.getPrivate());
    }

    private static X509Certificate issue(X509Certificate ca, PrivateKey caKey, KeyPair kp, List<String> hosts,
            InstantSource clock, SecureRandom random) throws GeneralSecurityException, OperatorCreationException, IOException {
        Instant now = clock.instant();
        Instant notAfter = now.plus(SERVER_LIFETIME);
        if (notAfter.isAfter(ca.getNotAfter().toInstant())) {
            notAfter = ca.getNotAfter().toInstant();
        }
        X500Name subject = new X500Name("CN=" + hosts.get(0).replaceAll("[,+=\"\\\\<>;]", "_") + ",O=Haven");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(random),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(notAfter), subject, kp.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        List<GeneralName> names = new ArrayList<>();
        for (String h : hosts) {
            String host = unbracket(h);
            names.add(IPAddress.isValid(host) ? new GeneralName(GeneralName.iPAddress, host)
                    : new GeneralName(GeneralName.dNSName, host));
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
        return sign(b, caKey);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }

    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).setBit(126);
    }

    private static boolean signedBy(X509Certificate cert, X509Certificate ca) {
        try {
            cert.verify(ca.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean covers(X509Certificate cert, List<String> hosts) throws GeneralSecurityException {
        Set<String> have = new HashSet<>();
        var sans = cert.getSubjectAlternativeNames();
        if (sans != null) {
            for (List<?> san : sans) {
                have.add(normalize(String.valueOf(san.get(1))));
            }
        }
        for (String h : hosts) {
            if (!have.contains(normalize(unbracket(h)))) {
                return false;
            }
        }
        return true;
    }

    private static String unbracket(String h) {
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    private static String normalize(String host) {
        if (IPAddress.isValid(host)) {
            try {
                return InetAddress.getByName(host).getHostAddress(); // a literal: no lookup
            } catch (IOException e) {
                return host;
            }
        }
        return host.toLowerCase(Locale.ROOT);
    }

    // --- files

    private static X509Certificate readCertificate(Path file) throws IOException, GeneralSecurityException {
        return Pem.readCertificate(file);
    }

    private static PrivateKey readKey(Path file) throws IOException, GeneralSecurityException {
        return Pem.readPrivateKey(file);
    }

    private static void writePublic(Path file, X509Certificate cert) throws IOException {
        Pem.writeCertificate(file, cert);
    }

    private static void writePrivate(Path file, PrivateKey key) throws IOException {
        Pem.writePrivateKey(file, key);
    }
}
