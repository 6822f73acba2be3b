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
