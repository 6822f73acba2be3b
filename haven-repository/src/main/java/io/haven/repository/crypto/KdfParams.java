package io.haven.repository.crypto;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/** Argon2id parameters of one key file. */
public record KdfParams(String algorithm, int version, int memoryKib, int iterations, int parallelism, String salt) {
    public static final String ARGON2ID = "argon2id";
    /** 64 MiB, 3 passes, 2 lanes: about half a second on one core of a 2020s server. */
    public static final int DEFAULT_MEMORY_KIB = 64 * 1024;

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
