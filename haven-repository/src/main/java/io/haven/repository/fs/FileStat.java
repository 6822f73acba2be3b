package io.haven.repository.fs;

import io.haven.repository.tree.NodeType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Instant;
import java.util.Map;

/** What {@code lstat} says about a path, read in one call. */
public record FileStat(int mode, long ino, long dev, long rdev, long nlink, long uid, long gid, long size,
        long mtimeSeconds, int mtimeNanos, long ctimeSeconds, int ctimeNanos) {
    private static final String ATTRS = "unix:mode,ino,dev,rdev,nlink,uid,gid,size,lastModifiedTime,ctime";

    public static final int S_IFMT = 0170000;

    /** Reads the attributes without following a final symlink. */
    public static FileStat of(Path p) throws IOException {
        if (Direct.AVAILABLE) {
            PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (Direct.TYPE.isInstance(a)) {
                return Direct.read(a);
            }
        }
        return from(Files.readAttributes(p, ATTRS, LinkOption.NOFOLLOW_LINKS));
    }

    /**
     * Reads the attributes of {@code entry}, an entry of the open directory {@code dir}, without
     * following a final symlink: {@code fstatat} on the directory's descriptor, so the kernel
     * looks up one name instead of walking the whole path again. Falls back to {@link #of(Path)}
     * where the JDK's result cannot be read directly.
     */
    public static FileStat of(java.nio.file.SecureDirectoryStream<Path> dir, Path entry) throws IOException {
        if (Direct.AVAILABLE) {
            PosixFileAttributes a = dir.getFileAttributeView(entry.getFileName(),
                    java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes();
            if (Direct.TYPE.isInstance(a)) {
                return Direct.read(a);
            }
        }
        return of(entry);
    }

    /** Whether {@link #of} reads the JDK's lstat result directly (else through the {@code unix:} view). */
    public static boolean directAvailable() {
        return Direct.AVAILABLE;
    }

    /** The portable way, through the {@code unix:} attribute view (a map of boxed values per call). */
    static FileStat ofPortable(Path p) throws IOException {
        return from(Files.readAttributes(p, ATTRS, LinkOption.NOFOLLOW_LINKS));
    }

    /**
     * The fields of the JDK's own {@code lstat} result, read directly. On Linux the POSIX view
     * returns {@code sun.nio.fs.UnixFileAttributes}, which holds everything {@code lstat} said;
     * the {@code unix:} view copies it into a map of boxed values, parsing the attribute list on
     * every call, which made the stat of each of the kernel tree's 84,000 entries several times
     * dearer than the system call itself. Needs {@code --add-opens java.base/sun.nio.fs} (the
     * launcher gives it); without it, or on another JDK, {@link #of} takes the portable way.
     */
    private static final class Direct {
        static final boolean AVAILABLE;
        static final Class<?> TYPE;
        private static final java.lang.invoke.MethodHandle MODE;
        private static final java.lang.invoke.MethodHandle INO;
        private static final java.lang.invoke.MethodHandle DEV;
        private static final java.lang.invoke.MethodHandle RDEV;
        private static final java.lang.invoke.MethodHandle NLINK;
        private static final java.lang.invoke.MethodHandle UID;
        private static final java.lang.invoke.MethodHandle GID;
        private static final java.lang.invoke.MethodHandle SIZE;
        private static final java.lang.invoke.MethodHandle MTIME_SEC;
        private static final java.lang.invoke.MethodHandle MTIME_NSEC;
        private static final java.lang.invoke.MethodHandle CTIME_SEC;
        private static final java.lang.invoke.MethodHandle CTIME_NSEC;

        static {
            Class<?> type = null;
            java.lang.invoke.MethodHandle[] h = new java.lang.invoke.MethodHandle[12];
            try {
                type = Class.forName("sun.nio.fs.UnixFileAttributes");
                var lookup = java.lang.invoke.MethodHandles.privateLookupIn(type, java.lang.invoke.MethodHandles.lookup());
                String[] names = {"st_mode", "st_ino", "st_dev", "st_rdev", "st_nlink", "st_uid", "st_gid", "st_size",
                    "st_mtime_sec", "st_mtime_nsec", "st_ctime_sec", "st_ctime_nsec"};
                for (int i = 0; i < names.length; i++) {
                    var f = type.getDeclaredField(names[i]);
                    h[i] = lookup.unreflectGetter(f).asType(java.lang.invoke.MethodType.methodType(long.class, Object.class));
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                type = null;
            }
            AVAILABLE = type != null;
            TYPE = type;
            MODE = h[0];
            INO = h[1];
            DEV = h[2];
            RDEV = h[3];
            NLINK = h[4];
            UID = h[5];
            GID = h[6];
            SIZE = h[7];
            MTIME_SEC = h[8];
            MTIME_NSEC = h[9];
            CTIME_SEC = h[10];
            CTIME_NSEC = h[11];
        }

        static FileStat read(Object a) {
            try {
                return new FileStat((int) (long) MODE.invokeExact(a), (long) INO.invokeExact(a), (long) DEV.invokeExact(a),
                        (long) RDEV.invokeExact(a), (long) NLINK.invokeExact(a), (long) UID.invokeExact(a),
                        (long) GID.invokeExact(a), (long) SIZE.invokeExact(a), (long) MTIME_SEC.invokeExact(a),
                        (int) (long) MTIME_NSEC.invokeExact(a), (long) CTIME_SEC.invokeExact(a),
                        (int) (long) CTIME_NSEC.invokeExact(a));
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("reading the JDK's file attributes failed", t);
            }
        }
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
