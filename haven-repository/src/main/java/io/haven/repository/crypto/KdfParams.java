package io.haven.repository.crypto;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/** Argon2id parameters of one key file. */
public record KdfParams(String algorithm, int version, int memoryKib, int iterations, int parallelism, String salt) {
    public static final String ARGON2ID = "argon2id";
    /**
     * 46 MiB with one pass and one lane: the first of OWASP's equivalent Argon2id settings
     * (about 0.15 s here; see docs/decisions.md).
     */
    public static final int DEFAULT_MEMORY_KIB = 46 * 1024;

    /**
     * Passes for a memory size, following OWASP's table of equivalent settings (46 MiB: 1,
     * 19 MiB: 2, 12 MiB: 3, less: 4), so that less memory costs more time.
     */
    public static int iterationsFor(int memoryKib) {
        if (memoryKib >= 46 * 1024) {
            return 1;
        }
        if (memoryKib >= 19 * 1024) {
            return 2;
        }
        return memoryKib >= 12 * 1024 ? 3 : 4;
    }

    public KdfParams {
        if (!ARGON2ID.equals(algorithm)) {
            throw new HavenException(ErrorCode.CORRUPT, "unsupported key derivation '" + algorithm + "'");
        }
        if (memoryKib < 8 * 1024 || iterations < 1 || parallelism < 1 || parallelism > 16) {
            throw new HavenException(ErrorCode.CORRUPT,
                    "key derivation parameters are too weak or invalid (memory " + memoryKib + " KiB, "
                            + iterations + " passes, " + parallelism + " lanes); the minimum is 8 MiB and 1 pass");
        }
    }
}
