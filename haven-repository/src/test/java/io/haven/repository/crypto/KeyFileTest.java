package io.haven.repository.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Json;
import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class KeyFileTest {
    private static final int MEMORY_KIB = 8192;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SALT = Base64.getEncoder().encodeToString(new byte[16]);

    private static KeyFile create(MasterKey master, String password) {
        return KeyFile.create(master, password.toCharArray(), MEMORY_KIB, "2026-01-02T03:04:05Z", "host1", "ada",
                RANDOM);
    }

    @Test
    void theRightPasswordUnwrapsTheMasterKey() {
        MasterKey master = MasterKey.generate(RANDOM);
        KeyFile kf = create(master, "correct horse");

        assertThat(kf.unwrap("correct horse".toCharArray())).isEqualTo(master.material());
    }

    @Test
    void aWrongPasswordUnwrapsNothing() {
        MasterKey master = MasterKey.generate(RANDOM);
        KeyFile kf = create(master, "correct horse");

        assertThat(kf.unwrap("correct horse ".toCharArray())).isNull();
        assertThat(kf.unwrap("".toCharArray())).isNull();
    }

    @Test
    void nonAsciiPasswordsWork() {
        MasterKey master = MasterKey.generate(RANDOM);
        KeyFile kf = create(master, "pässwörd 🔑");

        assertThat(kf.unwrap("pässwörd 🔑".toCharArray())).isEqualTo(master.material());
        assertThat(kf.unwrap("passwort 🔑".toCharArray())).isNull();
    }

    @Test
    void survivesAJsonRoundTripInTheSpecifiedShape() {
        MasterKey master = MasterKey.generate(RANDOM);
        KeyFile kf = create(master, "pw");

        byte[] json = Json.write(kf);
        JsonNode tree = Json.read(json, JsonNode.class, "key");
        assertThat(tree.path("version").asInt()).isEqualTo(1);
        assertThat(tree.path("host").asText()).isEqualTo("host1");
        assertThat(tree.path("username").asText()).isEqualTo("ada");
        JsonNode kdf = tree.path("kdf");
        assertThat(kdf.path("algorithm").asText()).isEqualTo("argon2id");
        assertThat(kdf.path("version").asInt()).isEqualTo(19);
        assertThat(kdf.path("memory_kib").asInt()).isEqualTo(MEMORY_KIB);
        assertThat(kdf.path("iterations").asInt()).isPositive();
        assertThat(kdf.path("parallelism").asInt()).isPositive();
        assertThat(Base64.getDecoder().decode(kdf.path("salt").asText())).hasSize(16);
        // nonce + 64 bytes of key + tag
        assertThat(Base64.getDecoder().decode(tree.path("master_key").asText()))
                .hasSize(MasterKey.NONCE + MasterKey.LENGTH + MasterKey.TAG);

        KeyFile back = Json.read(json, KeyFile.class, "key");
        assertThat(back).isEqualTo(kf);
        assertThat(back.unwrap("pw".toCharArray())).isEqualTo(master.material());
    }

    @Test
    void eachKeyFileHasItsOwnSalt() {
        MasterKey master = MasterKey.generate(RANDOM);
        KeyFile a = create(master, "pw");
        KeyFile b = create(master, "pw");
        assertThat(a.kdf().salt()).isNotEqualTo(b.kdf().salt());
        assertThat(a.masterKey()).isNotEqualTo(b.masterKey());
    }

    @Test
    void aModifiedWrappedKeyDoesNotUnwrap() {
        MasterKey master = MasterKey.generate(RANDOM);
        KeyFile kf = create(master, "pw");
        byte[] box = Base64.getDecoder().decode(kf.masterKey());
        box[box.length / 2] ^= 1;
        KeyFile tampered = new KeyFile(kf.version(), kf.created(), kf.host(), kf.username(), kf.kdf(),
                Base64.getEncoder().encodeToString(box));
        assertThat(tampered.unwrap("pw".toCharArray())).isNull();
    }

    @Test
    void kdfParamsRefuseLessThanEightMebibytes() {
        assertThat(new KdfParams(KdfParams.ARGON2ID, 19, 8192, 1, 1, SALT).memoryKib()).isEqualTo(8192);
        assertThatThrownBy(() -> new KdfParams(KdfParams.ARGON2ID, 19, 8191, 3, 2, SALT))
                .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT));
        assertThatThrownBy(() -> KeyFile.create(MasterKey.generate(RANDOM), "pw".toCharArray(), 4096, "t", "h", "u",
                RANDOM)).isInstanceOf(HavenException.class);
    }

    @Test
    void kdfParamsRefuseOtherAlgorithmsAndNoPasses() {
        assertThatThrownBy(() -> new KdfParams("scrypt", 19, 65536, 3, 2, SALT)).isInstanceOf(HavenException.class);
        assertThatThrownBy(() -> new KdfParams(KdfParams.ARGON2ID, 19, 65536, 0, 2, SALT))
                .isInstanceOf(HavenException.class);
        assertThatThrownBy(() -> new KdfParams(KdfParams.ARGON2ID, 19, 65536, 3, 0, SALT))
                .isInstanceOf(HavenException.class);
    }

    @Test
    void anUnknownKeyFileVersionIsRefused() {
        MasterKey master = MasterKey.generate(RANDOM);
        KeyFile kf = create(master, "pw");
        KeyFile v2 = new KeyFile(2, kf.created(), kf.host(), kf.username(), kf.kdf(), kf.masterKey());
        assertThatThrownBy(() -> v2.unwrap("pw".toCharArray()))
                .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT));
    }

    @Test
    void aKeyFileWithInvalidBase64IsCorrupt() {
        KeyFile kf = create(MasterKey.generate(RANDOM), "pw");
        KeyFile bad = new KeyFile(1, kf.created(), kf.host(), kf.username(), kf.kdf(), "not base64!");
        assertThatThrownBy(() -> bad.unwrap("pw".toCharArray()))
                .isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT));
    }

    @Test
    void aKeyFileWithATruncatedWrappedKeyIsCorruptOrDoesNotOpen() {
        KeyFile kf = create(MasterKey.generate(RANDOM), "pw");
        byte[] box = Base64.getDecoder().decode(kf.masterKey());
        for (int len : new int[] {0, 8, 20, box.length - 1}) {
            KeyFile bad = new KeyFile(1, kf.created(), kf.host(), kf.username(), kf.kdf(),
                    Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(box, len)));
            try {
                assertThat(bad.unwrap("pw".toCharArray())).as("wrapped key of %d bytes", len).isNull();
            } catch (HavenException e) {
                assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT);
            }
        }
    }
}
