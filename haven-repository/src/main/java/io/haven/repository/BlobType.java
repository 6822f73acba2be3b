package io.haven.repository;

/** The two kinds of blob; the code is stored in pack headers and index files. */
public enum BlobType {
    DATA(0, "data"),
    TREE(1, "tree");

    private final int code;
    private final String directory;

    BlobType(int code, String directory) {
        this.code = code;
        this.directory = directory;
    }

    public int code() {
        return code;
    }

    /** The top-level directory where packs of this type are stored. */
    public String directory() {
        return directory;
    }

    public static BlobType ofCode(int code) {
        return switch (code) {
            case 0 -> DATA;
            case 1 -> TREE;
            default -> throw new io.haven.core.HavenException(io.haven.core.ErrorCode.CORRUPT, "unknown blob type " + code);
        };
    }
}
