package io.haven.repository;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/** The plaintext {@code config} object (docs/repository-format.md §2). */
public record Config(String format, int version, String id, String created, ChunkerParams chunker, int packSize,
        Compression compression) {
    public static final String FORMAT = "haven-repository";
    /** The newest format version this Haven reads and writes; 2 added groups of small data blobs. */
    public static final int VERSION = 2;

    /**
     * Refuses a format version this Haven cannot create.
     *
     * @throws HavenException USAGE
     */
    public static void requireWritable(int version) {
        if (version < 1 || version > VERSION) {
            throw new HavenException(ErrorCode.USAGE, "format version " + version + " is not one this Haven writes (1.."
                    + VERSION + ")");
        }
    }

    /** Whether writers may store small data blobs in groups (docs/repository-format.md §5): version 2 on. */
    public boolean groupsSmallBlobs() {
        return version >= 2;
    }

    public record ChunkerParams(int minSize, int avgSize, int maxSize) {
        public ChunkerParams {
            if (minSize <= 0 || avgSize <= minSize || maxSize <= avgSize || Integer.bitCount(avgSize) != 1
                    || maxSize > 64 << 20) {
                throw new HavenException(ErrorCode.CORRUPT, "invalid chunker parameters " + minSize + "/" + avgSize + "/" + maxSize);
            }
        }

        public static ChunkerParams defaults() {
            return new ChunkerParams(256 << 10, 1 << 20, 4 << 20);
        }
    }

    public record Compression(String algorithm, int level) {}

    /** Refuses configs this version cannot read. */
    public Config validate() {
        if (!FORMAT.equals(format)) {
            throw new HavenException(ErrorCode.REPOSITORY_NOT_FOUND, "not a Haven repository (config format '" + format + "')");
        }
        if (version < 1 || version > VERSION) {
            throw new HavenException(ErrorCode.CORRUPT,
                    "repository format version " + version + " is not supported by this Haven (supports 1.." + VERSION + ")");
        }
        if (chunker == null || packSize < (1 << 20)) {
            throw new HavenException(ErrorCode.CORRUPT, "repository config is incomplete");
        }
        if (compression != null && !"zstd".equals(compression.algorithm())) {
            // readers follow each blob's own flag, but writers would silently store everything uncompressed
            throw new HavenException(ErrorCode.CORRUPT, "repository config names compression '" + compression.algorithm()
                    + "', which this Haven does not know (it writes zstd)");
        }
        return this;
    }
}
