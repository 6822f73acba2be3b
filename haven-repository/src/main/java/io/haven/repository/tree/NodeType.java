package io.haven.repository.tree;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/** The kinds of tree entry, with their stored codes. */
public enum NodeType {
    FILE(1, "file"),
    DIR(2, "dir"),
    SYMLINK(3, "symlink"),
    FIFO(4, "fifo"),
    CHAR_DEVICE(5, "chardev"),
    BLOCK_DEVICE(6, "blockdev"),
    SOCKET(7, "socket");

    private final int code;
    private final String label;

    NodeType(int code, String label) {
        this.code = code;
        this.label = label;
    }

    public int code() {
        return code;
    }

    public String label() {
        return label;
    }

    public static NodeType ofCode(int code) {
        for (NodeType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new HavenException(ErrorCode.CORRUPT, "unknown tree entry type " + code);
    }
}
