package io.haven.repository.crypto;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * One password's key file: the master key wrapped with a key derived from the password by
 * Argon2id (docs/repository-format.md §3).
 */
public record KeyFile(int version, String created, String host, String username, KdfParams kdf, String masterKey) {

    /** Wraps {@code master} under {@code password} with fresh salt and nonce. */
    public static KeyFile create(MasterKey master, char[] password, int memoryKib, String created, String host,
            String username, SecureRandom random) {
        byte[] salt = new byte[16];
        random.nextBytes(salt);
        KdfParams kdf = new KdfParams(KdfParams.ARGON2ID, Argon2Parameters.ARGON2_VERSION_13, memoryKib, KdfParams.iterationsFor(memoryKib), 1,
                Base64.getEncoder().encodeToString(salt));
        byte[] kek = derive(password, kdf);
        byte[] nonce = new byte[MasterKey.NONCE];
        random.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
            byte[] ct = c.doFinal(master.material());
            byte[] box = new byte[nonce.length + ct.length];
            System.arraycopy(nonce, 0, box, 0, nonce.length);
            System.arraycopy(ct, 0, box, nonce.length, ct.length);
            return new KeyFile(1, created, host, username, kdf, Base64.getEncoder().encodeToString(box));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    /**
     * Unwraps the master key.
     *
     * @return the master bytes, or {@code null} when the password does not open this key
     */
    public byte[] unwrap(char[] password) {
        if (version != 1) {
            throw new HavenException(ErrorCode.CORRUPT, "key file version " + version + " is not supported");
        }
        byte[] kek = derive(password, kdf);
        byte[] box;
        try {
            box = Base64.getDecoder().decode(masterKey);
        } catch (IllegalArgumentException e) {
            throw new HavenException(ErrorCode.CORRUPT, "key file holds invalid base64");
        }
        if (box.length < MasterKey.NONCE + 16) {
            throw new HavenException(ErrorCode.CORRUPT, "key file holds a truncated master key");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, box, 0, MasterKey.NONCE));
            return c.doFinal(box, MasterKey.NONCE, box.length - MasterKey.NONCE);
        } catch (AEADBadTagException e) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new HavenException(ErrorCode.CORRUPT, "key file cannot be decrypted: " + e.getMessage(), e);
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    static byte[] derive(char[] password, KdfParams kdf) {
        byte[] salt;
        try {
            salt = Base64.getDecoder().decode(kdf.salt());
        } catch (IllegalArgumentException e) {
            throw new HavenException(ErrorCode.CORRUPT, "key file salt is invalid base64");
        }
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(kdf.version())
                .withSalt(salt)
                .withMemoryAsKB(kdf.memoryKib())
                .withIterations(kdf.iterations())
                .withParallelism(kdf.parallelism())
                .build();
        Argon2BytesGenerator gen = new Argon2BytesGenerator();
        gen.init(params);
        byte[] pw = new String(password).getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[32];
        gen.generateBytes(pw, out);
        Arrays.fill(pw, (byte) 0);
        return out;
    }
}
