package io.haven.agent;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.AgentApi;
import io.haven.protocol.Messages;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/**
 * {@code haven agent enroll}: makes a key pair, checks that the server is the one the token was
 * made for (the token's pin is the SHA-256 of the server's CA certificate: the server's chain must
 * hold that CA and the server certificate must be signed by it), sends the token and the public
 * key, and saves the client certificate it gets back. The private key never leaves the host.
 */
public final class Enroller {
    private Enroller() {}

    /**
     * Enrols this host.
     *
     * @throws HavenException USAGE for a malformed token or an agent directory already enrolled,
     *     UNAUTHENTICATED when the server refuses the token, IO when the server is unreachable or is
     *     not the one the token pins
     */
    public static Identity enroll(URI server, String token, String name, String site, Map<String, String> labels,
            Messages.HostFacts facts, Path dir, SecureRandom random) {
        if (Files.exists(dir.resolve("agent.json"))) {
            throw new HavenException(ErrorCode.USAGE, "the agent directory " + dir + " holds an enrolled agent already; "
                    + "use another --dir or remove it to enrol again");
        }
        int dot = token == null ? -1 : token.lastIndexOf('.');
        if (token == null || !token.startsWith("hve_") || dot < 0) {
            throw new HavenException(ErrorCode.USAGE, "an enrolment token looks like hve_SECRET.PIN (from 'haven agent token' or "
                    + "POST /api/v1/enrollment-tokens)");
        }
        byte[] pin;
        try {
            pin = Base64.getUrlDecoder().decode(token.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            pin = new byte[0];
        }
        if (pin.length != 32) {
            throw new HavenException(ErrorCode.USAGE, "the token's pin (after the last '.') is not a SHA-256 fingerprint");
        }
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            KeyPair kp = g.generateKeyPair();
            Pinned trust = new Pinned(pin);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new javax.net.ssl.TrustManager[] {trust}, random);
            ServerClient client = new ServerClient(server, ctx);
            Messages.EnrollRequest req = new Messages.EnrollRequest(token, name, site, labels, Base64.getEncoder()
                    .encodeToString(kp.getPublic().getEncoded()), facts);
            Messages.EnrollReply reply;
            try {
                reply = client.post(AgentApi.ENROLL, req, Messages.EnrollReply.class, Duration.ofSeconds(30));
            } catch (ServerClient.Unreachable e) {
                if (trust.mismatch != null) {
                    throw new HavenException(ErrorCode.IO, trust.mismatch, e);
                }
                throw new HavenException(ErrorCode.IO, e.getMessage(), e);
            }
            X509Certificate cert = Identity.certificate(reply.certificate());
            X509Certificate ca = Identity.certificate(reply.caCertificate());
            if (!MessageDigest.isEqual(sha256(ca), pin)) {
                throw new HavenException(ErrorCode.IO, "the server returned a CA that is not the one the token pins; not enrolled");
            }
            cert.verify(ca.getPublicKey());
            Identity id = new Identity(dir, server, reply.agentId(), reply.name(), reply.site(), kp.getPrivate(), cert, ca);
            id.save();
            return id;
        } catch (GeneralSecurityException e) {
            throw new HavenException(ErrorCode.IO, "enrolment failed: " + e.getMessage(), e);
        }
    }

    static byte[] sha256(X509Certificate c) throws GeneralSecurityException {
        return MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
    }

    /** Trusts a server chain only when it holds the pinned CA and the leaf is signed by it. */
    private static final class Pinned implements X509TrustManager {
        private final byte[] pin;
        volatile String mismatch;

        Pinned(byte[] pin) {
            this.pin = pin;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                for (X509Certificate c : chain) {
                    if (MessageDigest.isEqual(sha256(c), pin)) {
                        chain[0].verify(c.getPublicKey());
                        chain[0].checkValidity();
                        return;
                    }
                }
            } catch (GeneralSecurityException e) {
                mismatch = "the server's certificate is not signed by the CA the token pins: " + e.getMessage();
                throw new CertificateException(mismatch, e);
            }
            mismatch = "the server's certificate chain does not hold the CA the token pins (wrong server, or a machine in the "
                    + "middle); not enrolled";
            throw new CertificateException(mismatch);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
