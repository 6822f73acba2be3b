package io.haven.server.auth;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id password hashes in the PHC string format
 * ({@code $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH}, unpadded base64): the parameters travel
 * with each hash, so raising them later leaves old hashes verifiable. Thread-safe.
 */
public final class PasswordHasher {
    /** Shortest password accepted for a user. */
    public static final int MIN_LENGTH = 8;
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    /** Argon2id cost: memory in KiB, passes, lanes. */
    public record Params(int memoryKib, int iterations, int parallelism) {
        /** OWASP's first recommended Argon2id setting: 19 MiB, 2 passes, 1 lane. */
        public static final Params DEFAULT = new Params(19 * 1024, 2, 1);

        public Params {
            if (parallelism < 1 || iterations < 1 || memoryKib < 8 * parallelism) {
                throw new HavenException(ErrorCode.USAGE, "invalid Argon2id parameters m=" + memoryKib + " t="
                        + iterations + " p=" + parallelism);
            }
        }
    }

    private final Params params;
    private final SecureRandom random;
    private final String dummy;

    public PasswordHasher(Params params, SecureRandom random) {
        this.params = params;
        this.random = random;
        this.dummy = hash("not a password".toCharArray());
    }

    /** A new hash of {@code password} with a random 16-byte salt. */
    public String hash(char[] password) {
        byte[] salt = new byte[16];
        random.nextBytes(salt);
        byte[] out = derive(password, salt, params, 32);
        return "$argon2id$v=19$m=" + params.memoryKib() + ",t=" + params.iterations() + ",p=" + params.parallelism()
                + "$" + B64.encodeToString(salt) + "$" + B64.encodeToString(out);
    }

    /**
     * Whether {@code password} matches {@code phc}. A null {@code phc} (an unknown user) is
     * checked against a dummy hash so the answer takes as long as for a known user.
     *
     * @throws HavenException CORRUPT when {@code phc} is not an Argon2id PHC string
     */
    public boolean verify(char[] password, String phc) {
        boolean known = phc != null;
        String[] parts = (known ? phc : dummy).split("\\$");
        if (parts.length != 6 || !parts[1].equals("argon2id") || !parts[2].equals("v=19")) {
            throw new HavenException(ErrorCode.CORRUPT, "a stored password hash is not an Argon2id PHC string");
        }
        int m = 0;
        int t = 0;
        int p = 0;
        for (String kv : parts[3].split(",")) {
            String[] e = kv.split("=", 2);
            int v = Integer.parseInt(e[1]);
            switch (e[0]) {
                case "m" -> m = v;
                case "t" -> t = v;
                case "p" -> p = v;
                default -> throw new HavenException(ErrorCode.CORRUPT, "unknown Argon2id parameter " + e[0]);
            }
        }
        byte[] salt = B64D.decode(parts[4]);
        byte[] expected = B64D.decode(parts[5]);
        byte[] actual = derive(password, salt, new Params(m, t, p), expected.length);
        return MessageDigest.isEqual(expected, actual) && known;
    }

    private static byte[] derive(char[] password, byte[] salt, Params p, int length) {
        var gen = new Argon2BytesGenerator();
        gen.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt).withMemoryAsKB(p.memoryKib()).withIterations(p.iterations())
                .withParallelism(p.parallelism()).build());
        byte[] out = new byte[length];
        gen.generateBytes(password, out);
        return out;
    }
}
