package io.haven.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.HavenException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerTlsTest {
    @TempDir
    Path dir;

    final SecureRandom random = new SecureRandom();

    @Test
    void theServerCertificateIsSignedByTheCaAndCoversEveryHost() throws Exception {
        ServerTls tls = ServerTls.loadOrCreate(dir, List.of("backup.example.org", "10.0.0.5", "localhost", "::1"),
                InstantSource.system(), random);
        var cert = tls.serverCertificate();
        cert.verify(tls.caCertificate().getPublicKey());
        assertThat(cert.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1");
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(tls.caCertificate().getBasicConstraints()).isEqualTo(0);
        assertThat(cert.getSubjectAlternativeNames()).extracting(l -> l.get(1).toString())
                .contains("backup.example.org", "10.0.0.5", "localhost");
    }

    @Test
    void aNewHostGetsANewServerCertificateFromTheSameCa() {
        ServerTls first = ServerTls.loadOrCreate(dir, List.of("localhost"), InstantSource.system(), random);
        ServerTls same = ServerTls.loadOrCreate(dir, List.of("localhost"), InstantSource.system(), random);
        assertThat(same.issuedServerCertificate()).isFalse();
        assertThat(same.serverCertificate()).isEqualTo(first.serverCertificate());
        ServerTls other = ServerTls.loadOrCreate(dir, List.of("haven.lan", "localhost"), InstantSource.system(), random);
        assertThat(other.createdCa()).isFalse();
        assertThat(other.issuedServerCertificate()).isTrue();
        assertThat(other.caFingerprint()).isEqualTo(first.caFingerprint());
    }

    @Test
    void aServerCertificateCloseToExpiryIsRenewed() {
        Instant now = Instant.parse("2027-01-01T00:00:00Z");
        ServerTls first = ServerTls.loadOrCreate(dir, List.of("localhost"), InstantSource.fixed(now), random);
        ServerTls later = ServerTls.loadOrCreate(dir, List.of("localhost"),
                InstantSource.fixed(now.plus(Duration.ofDays(800))), random);
        assertThat(later.issuedServerCertificate()).isTrue();
        assertThat(later.caFingerprint()).isEqualTo(first.caFingerprint());
    }

    @Test
    void aPrivateKeyReadableByOthersIsRefused() throws Exception {
        ServerTls.loadOrCreate(dir, List.of("localhost"), InstantSource.system(), random);
        Files.setPosixFilePermissions(dir.resolve("ca.key"), PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> ServerTls.loadOrCreate(dir, List.of("localhost"), InstantSource.system(), random))
                .isInstanceOf(HavenException.class)
                .hasMessageContaining("chmod 600");
    }
}
