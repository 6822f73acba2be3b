package io.haven.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

class PasswordHasherTest {
    final PasswordHasher hasher = new PasswordHasher(new PasswordHasher.Params(1024, 1, 1), new SecureRandom());

    @Test
    void aHashRecordsItsParametersAndVerifiesOnlyTheRightPassword() {
        String h = hasher.hash("correct horse".toCharArray());
        assertThat(h).startsWith("$argon2id$v=19$m=1024,t=1,p=1$");
        assertThat(hasher.verify("correct horse".toCharArray(), h)).isTrue();
        assertThat(hasher.verify("correct horsf".toCharArray(), h)).isFalse();
    }

    @Test
    void hashesMadeWithOtherParametersStillVerify() {
        var stronger = new PasswordHasher(new PasswordHasher.Params(2048, 2, 1), new SecureRandom());
        String h = stronger.hash("pw-of-old".toCharArray());
        assertThat(hasher.verify("pw-of-old".toCharArray(), h)).isTrue();
    }

    @Test
    void equalPasswordsGetDifferentSalts() {
        assertThat(hasher.hash("same-password".toCharArray())).isNotEqualTo(hasher.hash("same-password".toCharArray()));
    }

    @Test
    void anUnknownUserNeverVerifies() {
        assertThat(hasher.verify("not a password".toCharArray(), null)).isFalse();
    }
}
