package io.haven.repository.fs;

import io.haven.repository.tree.Xattr;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;

/**
 * Extended attributes through the JDK, which reaches the {@code user.} namespace only (see
 * docs/fidelity.md). Names are stored with their namespace.
 */
public final class Xattrs {
    private static final String NS = "user.";

    private Xattrs() {}

    /** The attributes of a file or directory (never of a symlink); empty when unsupported. */
    public static List<Xattr> read(Path p) throws IOException {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        if (v == null) {
            return List.of();
        }
        List<String> names;
        try {
            names = v.list();
        } catch (UnsupportedOperationException e) {
            return List.of();
        } catch (java.nio.file.FileSystemException e) {
            if (e.getReason() != null && e.getReason().contains("not supported")) {
                return List.of();
            }
            throw e;
        }
        if (names.isEmpty()) {
            return List.of();
        }
        List<Xattr> out = new ArrayList<>(names.size());
        for (String n : names) {
            ByteBuffer buf = ByteBuffer.allocate(v.size(n));
            v.read(n, buf);
            buf.flip();
            byte[] value = new byte[buf.remaining()];
            buf.get(value);
            out.add(new Xattr(NS + n, value));
        }
        out.sort(java.util.Comparator.comparing(Xattr::name));
        return out;
    }

    /**
     * The attributes of a regular file open in {@code ch}: the names are listed on its
     * descriptor ({@code flistxattr}), and only a file that has some is read again by path.
     * Listing by path costs an {@code open} and a {@code close} more per file, a third of a
     * first backup's system calls on a tree of small files. Needs {@code --add-opens} of
     * {@code java.base/sun.nio.ch} and {@code sun.nio.fs} (the launcher gives both); without
     * them, on another JDK, or when listing on the descriptor fails, it reads by path.
     */
    public static List<Xattr> read(Path p, java.nio.channels.FileChannel ch) throws IOException {
        if (OnDescriptor.AVAILABLE) {
            List<?> names = OnDescriptor.list(ch);
            if (names != null && names.isEmpty()) {
                return List.of();
            }
        }
        return read(p);
    }

    /** Whether {@link #read(Path, java.nio.channels.FileChannel)} can list on the descriptor. */
    public static boolean onDescriptorAvailable() {
        return OnDescriptor.AVAILABLE;
    }

    /** Lists {@code user.} attribute names on a channel's descriptor through the JDK's own code. */
    private static final class OnDescriptor {
        static final boolean AVAILABLE;
        private static final java.lang.invoke.MethodHandle LIST;

        static {
            java.lang.invoke.MethodHandle list = null;
            try {
                var lookup = java.lang.invoke.MethodHandles.lookup();
                Class<?> view = Class.forName("sun.nio.fs.UnixUserDefinedFileAttributeView");
                list = java.lang.invoke.MethodHandles.privateLookupIn(view, lookup)
                        .findStatic(view, "list", java.lang.invoke.MethodType.methodType(List.class, int.class, int.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                list = null;
            }
            AVAILABLE = list != null && Descriptors.available();
            LIST = list;
        }

        /** The names without their namespace, or null when listing on the descriptor failed. */
        static List<?> list(java.nio.channels.FileChannel ch) {
            int fd = Descriptors.number(ch);
            if (fd < 0) {
                return null;
            }
            try {
                return (List<?>) LIST.invokeExact(fd, 1024);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                // the JDK's UnixException (checked): the caller lists by path, which reports it properly
                return null;
            }
        }
    }

    /** Removes the named attributes (full names, {@code user.} namespace only; others are left). */
    public static void remove(Path p, List<String> names) throws IOException {
        if (names.isEmpty()) {
            return;
        }
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        if (v == null) {
            return;
        }
        for (String n : names) {
            if (n.startsWith(NS)) {
                v.delete(n.substring(NS.length()));
            }
        }
    }

    /** Writes the attributes this platform can write; returns the names it could not. */
    public static List<String> write(Path p, List<Xattr> xattrs) throws IOException {
        List<String> skipped = new ArrayList<>();
        if (xattrs.isEmpty()) {
            return skipped;
        }
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        for (Xattr x : xattrs) {
            if (v == null || !x.name().startsWith(NS)) {
                skipped.add(x.name());
                continue;
            }
            v.write(x.name().substring(NS.length()), ByteBuffer.wrap(x.value()));
        }
        return skipped;
    }
}
