package io.haven.repository.fs;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file descriptor behind a JDK {@link FileChannel}, for what the JDK offers only by path.
 * It needs {@code --add-opens java.base/sun.nio.ch} (the launcher gives it); without it, or on
 * another JDK, {@link #number} answers -1 and callers take their portable way.
 */
public final class Descriptors {
    private static final MethodHandle FD;
    private static final MethodHandle FD_VAL;
    private static final Path PROC_FDS = Path.of("/proc/self/fd");

    static {
        MethodHandle fd = null;
        MethodHandle fdVal = null;
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            Class<?> channel = Class.forName("sun.nio.ch.FileChannelImpl");
            fd = MethodHandles.privateLookupIn(channel, lookup).findGetter(channel, "fd", FileDescriptor.class)
                    .asType(MethodType.methodType(FileDescriptor.class, Object.class));
            Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
            fdVal = MethodHandles.privateLookupIn(ioUtil, lookup)
                    .findStatic(ioUtil, "fdVal", MethodType.methodType(int.class, FileDescriptor.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            fd = null;
            fdVal = null;
        }
        FD = fd;
        FD_VAL = fdVal;
    }

    private Descriptors() {}

    /** The descriptor number of {@code ch}, or -1 when it cannot be reached. */
    public static int number(FileChannel ch) {
        if (FD == null || !"sun.nio.ch.FileChannelImpl".equals(ch.getClass().getName())) {
            return -1;
        }
        try {
            return (int) FD_VAL.invokeExact((FileDescriptor) FD.invokeExact((Object) ch));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            return -1;
        }
    }

    /**
     * Sets the length of the open file {@code ch} to {@code length}, growing it with a hole
     * (ftruncate), which {@link FileChannel#truncate} cannot do. Goes through
     * {@code /proc/self/fd}, which reopens the very file the channel has open, never a name that
     * may have been replaced since.
     *
     * @return false when this is not possible here (no /proc, no descriptor): the caller writes
     *     the last byte instead
     */
    public static boolean setLength(FileChannel ch, long length) throws IOException {
        int fd = number(ch);
        if (fd < 0 || !Files.isDirectory(PROC_FDS)) {
            return false;
        }
        try (RandomAccessFile raf = new RandomAccessFile(PROC_FDS.resolve(Integer.toString(fd)).toFile(), "rw")) {
            raf.setLength(length);
        }
        return true;
    }
}
