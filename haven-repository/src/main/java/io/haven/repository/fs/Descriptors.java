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
    /** The JDK's ftruncate on a descriptor: {@code static int truncate0(FileDescriptor, long)}, or null. */
    private static final MethodHandle TRUNCATE;
    private static final Path PROC_FDS = Path.of("/proc/self/fd");

    static {
        MethodHandle fd = null;
        MethodHandle fdVal = null;
        MethodHandle truncate = null;
        for (String dispatcher : new String[] {"sun.nio.ch.UnixFileDispatcherImpl", "sun.nio.ch.FileDispatcherImpl"}) {
            try {
                Class<?> c = Class.forName(dispatcher);
                truncate = MethodHandles.privateLookupIn(c, MethodHandles.lookup())
                        .findStatic(c, "truncate0", MethodType.methodType(int.class, FileDescriptor.class, long.class));
                break;
            } catch (ReflectiveOperationException | RuntimeException e) {
                truncate = null;
            }
        }
        TRUNCATE = truncate;
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

    /** Whether {@link #number} can reach descriptors here. */
    public static boolean available() {
        return FD != null && FD_VAL != null;
    }

    /** The descriptor number of {@code ch}, or -1 when it cannot be reached. */
    public static int number(FileChannel ch) {
        FileDescriptor fd = descriptor(ch);
        if (fd == null || FD_VAL == null) {
            return -1;
        }
        try {
            return (int) FD_VAL.invokeExact(fd);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            return -1;
        }
    }

    private static FileDescriptor descriptor(FileChannel ch) {
        if (FD == null || !"sun.nio.ch.FileChannelImpl".equals(ch.getClass().getName())) {
            return null;
        }
        try {
            return (FileDescriptor) FD.invokeExact((Object) ch);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            return null;
        }
    }

    /**
     * Sets the length of the open file {@code ch} to {@code length}, growing it with a hole
     * (ftruncate), which {@link FileChannel#truncate} cannot do. Uses the JDK's ftruncate on the
     * channel's own descriptor; where that is out of reach, reopens the very file the channel
     * has open through {@code /proc/self/fd} (never a name that may have been replaced since).
     *
     * @return false when neither is possible (or the reopening is refused, as for a file its
     *     owner's umask made read-only): the caller writes the last byte instead
     */
    public static boolean setLength(FileChannel ch, long length) throws IOException {
        FileDescriptor fd = descriptor(ch);
        if (fd != null && TRUNCATE != null) {
            try {
                int r = (int) TRUNCATE.invokeExact(fd, length);
                return r == 0;
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException("cannot set the length of a file: " + t, t);
            }
        }
        int n = number(ch);
        if (n < 0 || !Files.isDirectory(PROC_FDS)) {
            return false;
        }
        try (RandomAccessFile raf = new RandomAccessFile(PROC_FDS.resolve(Integer.toString(n)).toFile(), "rw")) {
            raf.setLength(length);
        } catch (java.io.FileNotFoundException e) {
            return false; // refused: not writable by name
        }
        return true;
    }
}
