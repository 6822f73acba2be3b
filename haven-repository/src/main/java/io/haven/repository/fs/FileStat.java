package io.haven.repository.fs;

import io.haven.repository.tree.NodeType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;

/** What {@code lstat} says about a path, read in one call. */
public record FileStat(int mode, long ino, long dev, long rdev, long nlink, long uid, long gid, long size,
        long mtimeSeconds, int mtimeNanos, long ctimeSeconds, int ctimeNanos) {
    private static final String ATTRS = "unix:mode,ino,dev,rdev,nlink,uid,gid,size,lastModifiedTime,ctime";

    public static final int S_IFMT = 0170000;

    /** Reads the attributes without following a final symlink. */
    public static FileStat of(Path p) throws IOException {
        return from(Files.readAttributes(p, ATTRS, LinkOption.NOFOLLOW_LINKS));
    }

    /** Reads the attributes of what a symlink leads to. */
    public static FileStat ofFollowing(Path p) throws IOException {
        return from(Files.readAttributes(p, ATTRS));
    }

    /** The same attributes with another size (a file that changed while it was read). */
    public FileStat withSize(long newSize) {
        return new FileStat(mode, ino, dev, rdev, nlink, uid, gid, newSize, mtimeSeconds, mtimeNanos, ctimeSeconds, ctimeNanos);
    }

    private static FileStat from(Map<String, Object> a) {
        Instant m = ((FileTime) a.get("lastModifiedTime")).toInstant();
        Instant c = ((FileTime) a.get("ctime")).toInstant();
        return new FileStat((Integer) a.get("mode"), (Long) a.get("ino"), (Long) a.get("dev"), (Long) a.get("rdev"),
                ((Number) a.get("nlink")).longValue(), ((Number) a.get("uid")).longValue(),
                ((Number) a.get("gid")).longValue(), (Long) a.get("size"), m.getEpochSecond(), m.getNano(),
                c.getEpochSecond(), c.getNano());
    }

    /** The entry type, or null for an unknown kind. */
    public NodeType type() {
        return switch (mode & S_IFMT) {
            case 0100000 -> NodeType.FILE;
            case 0040000 -> NodeType.DIR;
            case 0120000 -> NodeType.SYMLINK;
            case 0010000 -> NodeType.FIFO;
            case 0020000 -> NodeType.CHAR_DEVICE;
            case 0060000 -> NodeType.BLOCK_DEVICE;
            case 0140000 -> NodeType.SOCKET;
            default -> null;
        };
    }

    /** Permission bits including setuid, setgid and sticky. */
    public int permissions() {
        return mode & 07777;
    }
}
