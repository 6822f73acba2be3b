package io.haven.repository.fs;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;

/**
 * File names as the raw bytes the kernel stores. Java decodes names with the platform charset,
 * which loses bytes that are not valid in it; on Linux the JDK's {@code UnixPath} keeps the
 * original bytes, and this class reaches them (the launcher opens {@code sun.nio.fs}). Without
 * that access it falls back to UTF-8 text, which is exact for valid UTF-8 names only.
 */
public final class FileNames {
    private static final MethodHandle AS_BYTES;
    private static final MethodHandle FROM_BYTES;
    private static final FileSystem FS = FileSystems.getDefault();

    static {
        MethodHandle asBytes = null;
        MethodHandle fromBytes = null;
        try {
            Class<?> unixPath = Class.forName("sun.nio.fs.UnixPath");
            Class<?> unixFs = Class.forName("sun.nio.fs.UnixFileSystem");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(unixPath, MethodHandles.lookup());
            asBytes = lookup.findVirtual(unixPath, "asByteArray", MethodType.methodType(byte[].class));
            fromBytes = lookup.findConstructor(unixPath, MethodType.methodType(void.class, unixFs, byte[].class));
            if (!unixPath.isInstance(Path.of("/"))) {
                asBytes = null;
                fromBytes = null;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            asBytes = null;
            fromBytes = null;
        }
        AS_BYTES = asBytes;
        FROM_BYTES = fromBytes;
    }

    private FileNames() {}

    /** Whether names that are not valid UTF-8 are kept exactly. */
    public static boolean exact() {
        return AS_BYTES != null;
    }

    /** The bytes of a path (a single name or a whole path). */
    public static byte[] bytes(Path p) {
        if (AS_BYTES != null) {
            try {
                return ((byte[]) AS_BYTES.invoke(p)).clone();
            } catch (Throwable e) {
                throw new IllegalStateException("cannot read path bytes", e);
            }
        }
        return p.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A path made of exactly these bytes. */
    public static Path path(byte[] bytes) {
        if (FROM_BYTES != null) {
            try {
                return (Path) FROM_BYTES.invoke(FS, bytes.clone());
            } catch (Throwable e) {
                throw new IllegalStateException("cannot build path from bytes", e);
            }
        }
        return Path.of(new String(bytes, StandardCharsets.UTF_8));
    }

    /** {@code dir/name} where name is raw bytes. */
    public static Path resolve(Path dir, byte[] name) {
        return dir.resolve(path(name));
    }
}
