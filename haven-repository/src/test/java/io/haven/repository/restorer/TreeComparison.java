package io.haven.repository.restorer;

import io.haven.repository.fs.FileNames;
import io.haven.repository.fs.FileStat;
import io.haven.repository.fs.Xattrs;
import io.haven.repository.tree.NodeType;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Compares two trees on disk attribute by attribute, as {@code FidelityIT} does end to end:
 * type, permission bits, owner, group, modification time (to the nanosecond), size, content,
 * {@code user.*} extended attributes, link targets, device numbers and the names in every
 * directory; and, beyond it, which paths are hard links of one another.
 */
final class TreeComparison {
    private TreeComparison() {}

    /** The differences between {@code expected} and {@code actual} (their roots' own attributes included); empty when equal. */
    static List<String> differences(Path expected, Path actual) throws IOException {
        List<String> out = new ArrayList<>();
        Map<List<Long>, Set<String>> linksA = new HashMap<>();
        Map<List<Long>, Set<String>> linksB = new HashMap<>();
        compare(expected, actual, "", out, linksA, linksB);
        Set<Set<String>> groupsA = linksA.values().stream().filter(s -> s.size() > 1).collect(Collectors.toSet());
        Set<Set<String>> groupsB = linksB.values().stream().filter(s -> s.size() > 1).collect(Collectors.toSet());
        if (!groupsA.equals(groupsB)) {
            out.add("hard-link groups " + groupsA + " became " + groupsB);
        }
        return out;
    }

    private static void compare(Path a, Path b, String rel, List<String> out, Map<List<Long>, Set<String>> linksA,
            Map<List<Long>, Set<String>> linksB) throws IOException {
        FileStat sa = FileStat.of(a);
        FileStat sb;
        try {
            sb = FileStat.of(b);
        } catch (IOException e) {
            out.add(rel + ": missing");
            return;
        }
        String name = rel.isEmpty() ? "." : rel;
        check(out, name, "type", sa.type(), sb.type());
        if (sa.type() != sb.type()) {
            return;
        }
        if (sa.type() != NodeType.SYMLINK) {
            check(out, name, "mode", Integer.toOctalString(sa.permissions()), Integer.toOctalString(sb.permissions()));
        }
        check(out, name, "uid", sa.uid(), sb.uid());
        check(out, name, "gid", sa.gid(), sb.gid());
        check(out, name, "mtime", sa.mtimeSeconds() + "." + sa.mtimeNanos(), sb.mtimeSeconds() + "." + sb.mtimeNanos());
        switch (sa.type()) {
            case FILE -> {
                check(out, name, "size", sa.size(), sb.size());
                if (Files.mismatch(a, b) != -1) {
                    out.add(name + ": content differs");
                }
                check(out, name, "xattrs", Xattrs.read(a), Xattrs.read(b));
                linksA.computeIfAbsent(List.of(sa.dev(), sa.ino()), k -> new TreeSet<>()).add(name);
                linksB.computeIfAbsent(List.of(sb.dev(), sb.ino()), k -> new TreeSet<>()).add(name);
            }
            case SYMLINK -> check(out, name, "link target", Arrays.toString(FileNames.bytes(Files.readSymbolicLink(a))),
                    Arrays.toString(FileNames.bytes(Files.readSymbolicLink(b))));
            case CHAR_DEVICE, BLOCK_DEVICE -> check(out, name, "rdev", sa.rdev(), sb.rdev());
            case DIR -> {
                check(out, name, "xattrs", Xattrs.read(a), Xattrs.read(b));
                List<String> na = names(a);
                List<String> nb = names(b);
                check(out, name, "entries", na, nb);
                for (Path child : children(a)) {
                    byte[] n = FileNames.bytes(child.getFileName());
                    String childRel = (rel.isEmpty() ? "" : rel + "/") + io.haven.repository.tree.Node.display(n);
                    if (nb.contains(io.haven.repository.tree.Node.display(n))) {
                        compare(child, FileNames.resolve(b, n), childRel, out, linksA, linksB);
                    }
                }
            }
            default -> {
            }
        }
    }

    private static List<Path> children(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(out::add);
        }
        return out;
    }

    private static List<String> names(Path dir) throws IOException {
        return children(dir).stream().map(p -> io.haven.repository.tree.Node.display(FileNames.bytes(p.getFileName())))
                .sorted().toList();
    }

    private static void check(List<String> out, String path, String what, Object expected, Object actual) {
        if (!Objects.equals(expected, actual)) {
            out.add(path + ": " + what + " " + expected + " became " + actual);
        }
    }
}
