package io.haven.agent;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.AgentApi;
import io.haven.protocol.Messages;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;

/**
 * Renews an agent's client certificate before it expires: a new key pair, a call over mutual TLS
 * with the current certificate, and the new key and certificate saved in the agent's directory
 * (key first, then certificate, each atomically). The server keeps the old certificate valid until
 * the agent first uses the new one, so a crash between the call and the save locks nothing out.
 */
public final class Renewal {
    /** Agents renew when their certificate has less than this left (certificates live a year). */
    public static final Duration RENEW_BEFORE = Duration.ofDays(30);

    private Renewal() {}

    /** Whether {@code id}'s certificate expires within {@code before} of {@code now}. */
    public static boolean due(Identity id, Instant now, Duration before) {
        return id.certificate().getNotAfter().toInstant().isBefore(now.plus(before));
    }

    /** Renews now and returns the new identity (already saved). */
    public static Identity renew(Identity id, SecureRandom random) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            KeyPair kp = g.generateKeyPair();
            Messages.EnrollReply reply = new ServerClient(id.server(), id.sslContext()).post(AgentApi.CERTIFICATE,
                    Map.of("publicKey", Base64.getEncoder().encodeToString(kp.getPublic().getEncoded())), Messages.EnrollReply.class,
                    Duration.ofSeconds(30));
            X509Certificate cert = Identity.certificate(reply.certificate());
            X509Certificate ca = Identity.certificate(reply.caCertificate());
            if (!MessageDigest.isEqual(ca.getEncoded(), id.ca().getEncoded())) {
                throw new HavenException(ErrorCode.IO, "the server answered the renewal with another CA; the certificate is not used");
            }
            cert.verify(ca.getPublicKey());
            if (!cert.getPublicKey().equals(kp.getPublic())) {
                throw new HavenException(ErrorCode.IO, "the renewed certificate is not for the key this agent sent");
            }
            Identity next = new Identity(id.dir(), id.server(), id.agentId(), id.name(), id.site(), kp.getPrivate(), cert, ca);
            next.save();
            return next;
        } catch (GeneralSecurityException e) {
            throw new HavenException(ErrorCode.IO, "certificate renewal failed: " + e.getMessage(), e);
        }
    }
}
