package io.haven.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stopping and starting a server on the same data directory keeps its CA, its database and its users. */
class RestartTest {
    @TempDir
    Path data;

    @Test
    void aRestartReusesTheCaAndTheDatabase() throws Exception {
        String fingerprint;
        byte[] caKey;
        try (HavenServer first = HavenServer.start(HavenServerTest.config(data))) {
            assertThat(first.tls().createdCa()).isTrue();
            assertThat(first.createdFirstAdmin()).isTrue();
            fingerprint = first.tls().caFingerprint();
            caKey = Files.readAllBytes(data.resolve("tls/ca.key"));
            TestClient c = new TestClient(first.uri(), first.tls().caCertificateFile());
            String admin = c.login("admin", HavenServerTest.ADMIN_PW);
            assertThat(c.post("/api/v1/users", admin, Map.of("username", "keeper", "password", "keeper-password", "role", "operator"))
                    .status()).isEqualTo(201);
        }
        // a new port, and the admin password variable no longer matters, not even its length
        try (HavenServer second = HavenServer.start(HavenServerTest.config(data).withAdminPassword("short"))) {
            assertThat(second.createdFirstAdmin()).isFalse();
        }
        try (HavenServer second = HavenServer.start(HavenServerTest.config(data).withAdminPassword("some-other-password"))) {
            assertThat(second.tls().createdCa()).isFalse();
            assertThat(second.tls().issuedServerCertificate()).isFalse();
            assertThat(second.createdFirstAdmin()).isFalse();
            assertThat(second.tls().caFingerprint()).isEqualTo(fingerprint);
            assertThat(Files.readAllBytes(data.resolve("tls/ca.key"))).isEqualTo(caKey);
            TestClient c = new TestClient(second.uri(), data.resolve("tls/ca.crt"));
            String keeper = c.login("keeper", "keeper-password");
            assertThat(c.get("/api/v1/me", keeper).json().get("role").asText()).isEqualTo("operator");
            String admin = c.login("admin", HavenServerTest.ADMIN_PW);
            assertThat(c.get("/api/v1/audit", admin).body()).contains("user:keeper");
        }
    }

    @Test
    void aFirstStartWithAShortAdminPasswordIsRefusedAndLeavesNoAdmin() throws Exception {
        assertThatThrownBy(() -> HavenServer.start(HavenServerTest.config(data).withAdminPassword("short")))
                .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE))
                .hasMessage("the first admin's password (HAVEN_ADMIN_PASSWORD) must have at least 8 characters");
        try (HavenServer s = HavenServer.start(HavenServerTest.config(data))) {
            assertThat(s.createdFirstAdmin()).isTrue();
        }
    }

    @Test
    void aFirstStartWithoutAGivenPasswordGeneratesOne() throws Exception {
        try (HavenServer s = HavenServer.start(HavenServerTest.config(data).withAdminPassword(null))) {
            String pw = s.generatedAdminPassword().orElseThrow();
            assertThat(pw).hasSizeGreaterThanOrEqualTo(20);
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            assertThat(c.login("admin", pw)).startsWith("hvs_");
        }
    }

    /**
     * A first start on a port in use fails and changes nothing: the next start, on a free port, makes the first
     * admin and shows its generated password (it used to be made, unseen, by the failed start). The failed start
     * says only that it cannot listen: nothing it set up goes on running and complaining afterwards.
     */
    @Test
    void aFirstStartOnABusyPortLeavesTheFirstAdminToTheNextStart() throws Exception {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream was = System.err;
        try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            System.setErr(new java.io.PrintStream(err, true));
            try {
                ServerConfig onBusy = ServerConfig.defaults(data, "127.0.0.1", busy.getLocalPort()).withPasswords(HavenServerTest.FAST);
                assertThatThrownBy(() -> HavenServer.start(onBusy)).isInstanceOf(HavenException.class)
                        .hasMessageContaining("cannot listen on 127.0.0.1:" + busy.getLocalPort());
                Thread.sleep(1500); // what a failed start left running would speak up by now
            } finally {
                System.setErr(was);
            }
        }
        assertThat(err.toString()).as("stderr of the failed start").isEmpty();
        try (HavenServer s = HavenServer.start(HavenServerTest.config(data).withAdminPassword(null))) {
            assertThat(s.createdFirstAdmin()).isTrue();
            String pw = s.generatedAdminPassword().orElseThrow();
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            assertThat(c.login("admin", pw)).startsWith("hvs_");
        }
    }

    @Test
    void aSecondServerOnTheSameEmbeddedDatabaseIsRefused() {
        try (HavenServer s = HavenServer.start(HavenServerTest.config(data))) {
            assertThatThrownBy(() -> HavenServer.start(HavenServerTest.config(data)))
                    .isInstanceOf(HavenException.class)
                    .satisfies(e -> assertThat(((HavenException) e).code()).isEqualTo(ErrorCode.BUSY))
                    .hasMessageContaining("in use");
        }
    }
}
