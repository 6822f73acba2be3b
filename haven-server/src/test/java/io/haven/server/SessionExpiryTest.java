package io.haven.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens expire on the server's (injected) clock. */
class SessionExpiryTest {
    @TempDir
    java.nio.file.Path data;

    /** A clock the test moves. */
    static final class ManualClock implements InstantSource {
        final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());

        @Override
        public Instant instant() {
            return now.get();
        }

        void advance(Duration d) {
            now.updateAndGet(t -> t.plus(d));
        }
    }

    @Test
    void sessionAndApiTokensStopWorkingWhenTheyExpire() throws Exception {
        ManualClock clock = new ManualClock();
        ServerConfig base = HavenServerTest.config(data).withSessionTtl(Duration.ofHours(1));
        ServerConfig config = new ServerConfig(base.dataDir(), base.host(), base.port(), base.certificateHosts(), base.database(),
                base.adminPassword(), base.passwords(), base.sessionTtl(), clock, new SecureRandom(), base.control());
        try (HavenServer s = HavenServer.start(config)) {
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            String session = c.login("admin", HavenServerTest.ADMIN_PW);
            String api = c.post("/api/v1/tokens", session, Map.of("name", "short", "expiresInDays", 1)).json().get("token").asText();
            String forever = c.post("/api/v1/tokens", session, Map.of("name", "forever")).json().get("token").asText();
            clock.advance(Duration.ofMinutes(59));
            assertThat(c.get("/api/v1/me", session).status()).isEqualTo(200);
            clock.advance(Duration.ofMinutes(2));
            assertThat(c.get("/api/v1/me", session).status()).isEqualTo(401);
            assertThat(c.get("/api/v1/me", api).status()).isEqualTo(200);
            clock.advance(Duration.ofDays(1));
            assertThat(c.get("/api/v1/me", api).status()).isEqualTo(401);
            assertThat(c.get("/api/v1/me", forever).status()).isEqualTo(200);
        }
    }
}
