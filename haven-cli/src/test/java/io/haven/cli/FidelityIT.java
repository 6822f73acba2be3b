package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.fs.FileNames;
import io.haven.repository.fs.FileStat;
import io.haven.repository.fs.Xattrs;
import io.haven.repository.tree.NodeType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backs up a tree holding every kind of entry and attribute the issue names, restores it
 * elsewhere through the real command, and compares every attribute of every entry.
 */
class FidelityIT {
    private static final Instant T = Instant.parse("2001-02-03T04:05:06.123456789Z");

    @TempDir
    Path tmp;

    @Test
    void restoreReproducesEveryKindOfEntryAndAttribute() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        List<String> expectations = build(src);
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "fidelity");
        haven.run("init", "--kdf-memory", "8").expect(0);
        haven.run("backup", src.toString()).expect(0);
        Path target = tmp.resolve("restored");
        HavenCli.Result r = haven.run("restore", "latest:" + src, "--target", target.toString()).expect(0);
        List<String> differences = new ArrayList<>();
        int compared = compare(src, target, differences);
        assertThat(differences).as("differences between source and restore").isEmpty();
        assertThat(compared).isGreaterThanOrEqualTo(expectations.size());

        // hard links stay linked
        assertThat(FileStat.of(target.resolve("hard-a")).ino()).isEqualTo(FileStat.of(target.resolve("hard-b")).ino());
        // holes stay holes: 128 MiB file with 8 KiB of data
        long blocks = Long.parseLong(HavenCli.sh("stat", "-c", "%b", target.resolve("sparse.img").toString()).trim());
        assertThat(blocks * 512).as("allocated bytes of the restored sparse file").isLessThan(1 << 20);
        assertThat(r.out()).contains("restored");
    }

    /**
     * The disaster-recovery copy kept up to date: restore, change the source, back up again, and
     * sync the restored copy: it then equals the source again, unchanged files untouched.
     */
    @Test
    void syncRestoreBringsARestoredCopyUpToDate() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        build(src);
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "fidelity");
        haven.run("init", "--kdf-memory", "8").expect(0);
        haven.run("backup", src.toString()).expect(0);
        Path target = tmp.resolve("restored");
        haven.run("restore", "latest:" + src, "--target", target.toString()).expect(0);

        // same size, other content and time; a mode change only; deleted; a directory replaced
        // by a file; a symlink retargeted; a hard-link pair split; added, also in a read-only directory
        Files.writeString(src.resolve("text.txt"), "HELLO\n".repeat(1000));
        Files.setLastModifiedTime(src.resolve("text.txt"), FileTime.from(T.plusSeconds(3600)));
        Files.setAttribute(src.resolve("setuid"), "unix:mode", 0755);
        Files.delete(src.resolve("empty-file"));
        Files.delete(src.resolve("empty-dir"));
        Files.writeString(src.resolve("empty-dir"), "a file now");
        Files.delete(src.resolve("link-absolute"));
        Files.createSymbolicLink(src.resolve("link-absolute"), Path.of("/etc/passwd"));
        Files.delete(src.resolve("hard-b"));
        Files.writeString(src.resolve("hard-b"), "other content");
        Files.writeString(src.resolve("added.txt"), "added");
        Path ro = src.resolve("read-only-dir");
        Files.setAttribute(ro, "unix:mode", 0755);
        Files.writeString(ro.resolve("added-inside.txt"), "added inside");
        Files.setAttribute(ro, "unix:mode", 0555);
        haven.run("backup", src.toString()).expect(0);

        HavenCli.Result dry = haven.run("restore", "latest:" + src, "--target", target.toString(), "--sync", "--dry-run").expect(0);
        assertThat(dry.out()).contains("- " + target.resolve("empty-file"), "- " + target.resolve("empty-dir") + "/",
                "+ " + target.resolve("empty-dir"), "+ " + target.resolve("added.txt"), "+ " + target.resolve("text.txt"),
                "+ " + target.resolve("link-absolute"), "M " + target.resolve("setuid"), "would sync");
        assertThat(dry.out()).doesNotContain(target.resolve("random.bin").toString());
        assertThat(target.resolve("added.txt")).doesNotExist();
        assertThat(target.resolve("empty-file")).exists();

        haven.run("restore", "latest:" + src, "--target", target.toString(), "--sync", "--include", "*.txt").expect(1);

        HavenCli.Result r;
        // held open, a replaced file keeps its inode number: an equal number means the same file
        try (FileChannel random = FileChannel.open(target.resolve("random.bin"));
                FileChannel sparse = FileChannel.open(target.resolve("sparse.img"))) {
            long randomIno = FileStat.of(target.resolve("random.bin")).ino();
            long sparseIno = FileStat.of(target.resolve("sparse.img")).ino();
            r = haven.run("restore", "--json", "latest:" + src, "--target", target.toString(), "--sync").expect(0);
            assertThat(FileStat.of(target.resolve("random.bin")).ino()).isEqualTo(randomIno);
            assertThat(FileStat.of(target.resolve("sparse.img")).ino()).isEqualTo(sparseIno);
        }
        List<String> differences = new ArrayList<>();
        compare(src, target, differences);
        assertThat(differences).as("differences between source and synced copy").isEmpty();
        assertThat(FileStat.of(target.resolve("hard-a")).ino()).isNotEqualTo(FileStat.of(target.resolve("hard-b")).ino());
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        // text.txt, empty-dir, hard-b, added.txt, read-only-dir/added-inside.txt
        assertThat(json.get("files_written").asLong()).isEqualTo(5);
        assertThat(json.get("files_kept").asLong()).isEqualTo(json.get("files").asLong() - 5);
        // empty-file, the directory empty-dir
        assertThat(json.get("deleted").asLong()).isEqualTo(2);
        assertThat(json.get("bytes_written").asLong()).isEqualTo(6000 + 10 + 13 + 5 + 12);
        assertThat(json.get("metadata_updated").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(json.get("sync").asBoolean()).isTrue();
    }

    /**
     * Names that are not valid UTF-8 on the command line: a path given as its bytes (as a shell
     * passes {@code $'\xe9'}) or as {@code haven ls} shows it ({@code \xe9}, a backslash as
     * {@code \\}) reaches its entry in backup, ls, restore and the restore's patterns; a name
     * made of the characters of an escape is shown, and found, apart from the byte.
     */
    @Test
    void namesThatAreNotUtf8AreTypedAsBytesOrAsListed() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dir = Files.createDirectories(FileNames.resolve(src, HavenCli.bytes("dir", 0xe9)));
        Files.writeString(dir.resolve("f.txt"), "inside");
        Files.writeString(FileNames.resolve(src, HavenCli.bytes("a", 0xe9)), "the byte e9");
        Files.writeString(src.resolve("a\\xe9"), "a backslash, x, e, 9");
        Files.writeString(FileNames.resolve(src, HavenCli.bytes("c", 0xe9)), "c and the byte e9");
        Files.writeString(src.resolve("b\\c"), "a backslash");
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "names");
        haven.run("init", "--kdf-memory", "8").expect(0);
        String s = src.toString();
        byte[] dirBytes = HavenCli.bytes(s + "/dir", 0xe9);
        byte[] latest = HavenCli.bytes("latest");

        // backup, ls and restore of a path given as its bytes (with a trailing slash, as shell
        // completion types a directory: it must not become part of the name)
        haven.runRaw(HavenCli.bytes("backup"), HavenCli.bytes(s + "/dir", 0xe9, '/')).expect(0);
        assertThat(haven.run("ls", "latest", "/").expect(0).out()).contains(s + "/dir\\xe9/f.txt\n");
        assertThat(haven.run("check").expect(0).out()).contains("no errors found");
        haven.runRaw(HavenCli.bytes("backup"), dirBytes).expect(0);
        assertThat(haven.runRaw(HavenCli.bytes("ls"), latest, dirBytes).expect(0).out()).contains(s + "/dir\\xe9/f.txt\n");
        Path t = tmp.resolve("t-raw");
        haven.runRaw(HavenCli.bytes("restore"), HavenCli.bytes("latest:" + s + "/dir", 0xe9), HavenCli.bytes("--target"),
                HavenCli.bytes(t.toString())).expect(0);
        assertThat(t.resolve("f.txt")).hasContent("inside");
        // the same path as ls shows it
        assertThat(haven.run("ls", "latest", s + "/dir\\xe9").expect(0).out()).contains(s + "/dir\\xe9/f.txt\n");
        t = tmp.resolve("t-shown");
        haven.run("restore", "latest:" + s + "/dir\\xe9", "--target", t.toString()).expect(0);
        assertThat(t.resolve("f.txt")).hasContent("inside");
        // a path that is not there, named in the message as ls would show it
        HavenCli.Result missing = haven.runRaw(HavenCli.bytes("ls"), latest, HavenCli.bytes(s + "/dir", 0xe8)).expect(1);
        assertThat(missing.err()).contains(s + "/dir\\xe8 is not in snapshot");
        assertThat(haven.runRaw(HavenCli.bytes("backup"), HavenCli.bytes(s + "/dir", 0xe8)).expect(1).err())
                .contains("cannot back up " + s + "/dir\\xe8: it does not exist");

        // a file named a + the byte e9 and one named a\xe9 are listed apart
        haven.run("backup", s).expect(0);
        List<String> lines = haven.run("ls", "latest", s).expect(0).out().lines().toList();
        assertThat(lines).anyMatch(l -> l.endsWith(" " + s + "/a\\xe9"));
        assertThat(lines).anyMatch(l -> l.endsWith(" " + s + "/a\\\\xe9"));
        assertThat(lines).anyMatch(l -> l.endsWith(" " + s + "/b\\\\c"));
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(haven.run("ls", "--json", "latest", s).expect(0).out());
        List<String> paths = new ArrayList<>();
        json.forEach(n -> paths.add(n.get("path").asText()));
        assertThat(paths).contains(s + "/a\\xe9", s + "/a\\\\xe9", s + "/dir\\xe9/f.txt").doesNotHaveDuplicates();
        // and each is restored by the form ls shows
        t = tmp.resolve("t-byte");
        haven.run("restore", "latest:" + s + "/a\\xe9", "--target", t.toString()).expect(0);
        assertThat(FileNames.resolve(t, HavenCli.bytes("a", 0xe9))).hasContent("the byte e9");
        assertThat(t.resolve("a\\xe9")).doesNotExist();
        t = tmp.resolve("t-literal");
        haven.run("restore", "latest:" + s + "/a\\\\xe9", "--target", t.toString()).expect(0);
        assertThat(t.resolve("a\\xe9")).hasContent("a backslash, x, e, 9");
        assertThat(FileNames.resolve(t, HavenCli.bytes("a", 0xe9))).doesNotExist();
        // and by its bytes
        t = tmp.resolve("t-bytes");
        haven.runRaw(HavenCli.bytes("restore"), HavenCli.bytes("latest:" + s + "/a", 0xe9), HavenCli.bytes("--target"),
                HavenCli.bytes(t.toString())).expect(0);
        assertThat(FileNames.resolve(t, HavenCli.bytes("a", 0xe9))).hasContent("the byte e9");

        // --include with the byte e8 does not match the byte e9; with e9 it does
        t = tmp.resolve("t-include-e8");
        haven.runRaw(HavenCli.bytes("restore"), HavenCli.bytes("latest:" + s), HavenCli.bytes("--target"), HavenCli.bytes(t.toString()),
                HavenCli.bytes("--include"), HavenCli.bytes("c", 0xe8)).expect(0);
        assertThat(FileNames.resolve(t, HavenCli.bytes("c", 0xe9))).doesNotExist();
        t = tmp.resolve("t-include-e9");
        haven.runRaw(HavenCli.bytes("restore"), HavenCli.bytes("latest:" + s), HavenCli.bytes("--target"), HavenCli.bytes(t.toString()),
                HavenCli.bytes("--include"), HavenCli.bytes("c", 0xe9)).expect(0);
        assertThat(names(t)).containsExactly(FileNames.display(HavenCli.bytes("c", 0xe9)));
        // patterns as ls shows names
        t = tmp.resolve("t-include-shown");
        haven.run("restore", "latest:" + s, "--target", t.toString(), "--include", "c\\xe9").expect(0);
        assertThat(names(t)).containsExactly("c\\xe9");
        t = tmp.resolve("t-exclude-shown");
        haven.run("restore", "latest:" + s, "--target", t.toString(), "--exclude", "a\\xe9", "--exclude", "dir*").expect(0);
        assertThat(names(t)).containsExactlyInAnyOrder("a\\\\xe9", "b\\\\c", "c\\xe9");
    }

    /** The display forms of the files' names below {@code dir}. */
    private static List<String> names(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(p -> FileNames.display(FileNames.bytes(p.getFileName()))).sorted().toList();
        }
    }

    /** Makes the tree; returns a list of what it holds, for the record. */
    private static List<String> build(Path src) throws Exception {
        List<String> made = new ArrayList<>();
        Random rnd = new Random(1);
        byte[] big = new byte[3 << 20];
        rnd.nextBytes(big);
        Files.write(src.resolve("random.bin"), big);
        Files.writeString(src.resolve("text.txt"), "hello\n".repeat(1000));
        Files.createFile(src.resolve("empty-file"));
        Files.createDirectories(src.resolve("empty-dir"));
        Files.createDirectories(src.resolve("a/b/c"));
        Files.writeString(src.resolve("a/b/c/deep.txt"), "deep");
        Files.createSymbolicLink(src.resolve("link-relative"), Path.of("a/b/c/deep.txt"));
        Files.createSymbolicLink(src.resolve("link-absolute"), Path.of("/etc/hostname"));
        Files.createSymbolicLink(src.resolve("link-dangling"), Path.of("does/not/exist"));
        Files.writeString(src.resolve("hard-a"), "linked content");
        Files.createLink(src.resolve("hard-b"), src.resolve("hard-a"));
        try (FileChannel ch = FileChannel.open(src.resolve("sparse.img"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] data = new byte[4096];
            Arrays.fill(data, (byte) 7);
            ch.write(ByteBuffer.wrap(data), 64L << 20);
            ch.write(ByteBuffer.wrap(data), (128L << 20) - 4096);
        }
        HavenCli.sh("mkfifo", src.resolve("fifo").toString());
        Files.writeString(src.resolve("setuid"), "#!/bin/sh\n");
        Files.setAttribute(src.resolve("setuid"), "unix:mode", 04755);
        Files.writeString(src.resolve("setgid"), "x");
        Files.setAttribute(src.resolve("setgid"), "unix:mode", 02750);
        Files.createDirectories(src.resolve("sticky"));
        Files.setAttribute(src.resolve("sticky"), "unix:mode", 01777);
        Path ro = Files.createDirectories(src.resolve("read-only-dir"));
        Files.writeString(ro.resolve("inside.txt"), "inside a read-only directory");
        Files.setAttribute(ro.resolve("inside.txt"), "unix:mode", 0444);
        // non-UTF-8 names, byte for byte
        Path latin1 = FileNames.resolve(src, new byte[] {'c', 'a', 'f', (byte) 0xe9});
        Files.writeString(latin1, "latin-1 name");
        Path odd = Files.createDirectories(FileNames.resolve(src, new byte[] {(byte) 0xff, (byte) 0xfe, '-', 'd'}));
        Files.writeString(FileNames.resolve(odd, new byte[] {'x', (byte) 0x80}), "inside an odd directory");
        Files.writeString(src.resolve("ünïcödé ✓.txt"), "valid UTF-8 name");
        // extended attributes
        Path x = src.resolve("xattr.txt");
        Files.writeString(x, "with attributes");
        var view = Files.getFileAttributeView(x, java.nio.file.attribute.UserDefinedFileAttributeView.class);
        view.write("comment", ByteBuffer.wrap("hello".getBytes()));
        byte[] bin = new byte[256];
        for (int i = 0; i < bin.length; i++) {
            bin[i] = (byte) i;
        }
        view.write("binary", ByteBuffer.wrap(bin));
        // read-only with attributes: the restore must write the attributes before the mode
        Files.setAttribute(x, "unix:mode", 0444);
        // a FIFO inside the directory whose name is not UTF-8 (coreutils take text paths)
        HavenCli.sh("mkfifo", src.resolve("fifo-staging").toString());
        Files.move(src.resolve("fifo-staging"), FileNames.resolve(odd, new byte[] {'f', (byte) 0xfe}));
        if (HavenCli.isRoot()) {
            HavenCli.sh("mknod", src.resolve("null-device").toString(), "c", "1", "3");
            HavenCli.sh("mknod", src.resolve("block-device").toString(), "b", "7", "200");
            Files.writeString(src.resolve("owned"), "owned by 1234:5678");
            Files.setAttribute(src.resolve("owned"), "unix:uid", 1234);
            Files.setAttribute(src.resolve("owned"), "unix:gid", 5678);
            Files.setAttribute(src.resolve("owned"), "unix:mode", 0640);
            made.add("devices and foreign owners");
        }
        // nanosecond times on everything, read-only directory mode last
        try (var walk = Files.walk(src)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Instant t = T.plusSeconds(p.getNameCount());
                if (FileStat.of(p).type() == NodeType.FIFO || FileStat.of(p).type() == NodeType.CHAR_DEVICE
                        || FileStat.of(p).type() == NodeType.BLOCK_DEVICE) {
                    // the JDK opens the file to set times (a FIFO would block), and touch takes a
                    // text path: move it to an ASCII name, touch it, move it back
                    Path ascii = src.getParent().resolve("touch-staging");
                    Files.move(p, ascii);
                    HavenCli.sh("touch", "-h", "-m", "-d", String.format("@%d.%09d", t.getEpochSecond(), t.getNano()), ascii.toString());
                    Files.move(ascii, p);
                    continue;
                }
                Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setTimes(FileTime.from(t), null, null);
                made.add(p.toString());
            }
        }
        Files.setAttribute(ro, "unix:mode", 0555);
        Files.getFileAttributeView(ro, BasicFileAttributeView.class).setTimes(FileTime.from(T), null, null);
        return made;
    }

    private static int compare(Path a, Path b, List<String> differences) throws IOException {
        FileStat sa = FileStat.of(a);
        FileStat sb;
        try {
            sb = FileStat.of(b);
        } catch (IOException e) {
            differences.add(a + ": missing in the restore");
            return 0;
        }
        String name = a.toString();
        check(differences, name, "type", sa.type(), sb.type());
        check(differences, name, "mode", Integer.toOctalString(sa.permissions()), Integer.toOctalString(sb.permissions()));
        check(differences, name, "uid", sa.uid(), sb.uid());
        check(differences, name, "gid", sa.gid(), sb.gid());
        check(differences, name, "mtime", sa.mtimeSeconds() + "." + sa.mtimeNanos(), sb.mtimeSeconds() + "." + sb.mtimeNanos());
        int n = 1;
        switch (sa.type()) {
            case FILE -> {
                check(differences, name, "size", sa.size(), sb.size());
                if (Files.mismatch(a, b) != -1) {
                    differences.add(name + ": content differs");
                }
                check(differences, name, "xattrs", Xattrs.read(a), Xattrs.read(b));
            }
            case SYMLINK -> check(differences, name, "link target",
                    Arrays.toString(FileNames.bytes(Files.readSymbolicLink(a))), Arrays.toString(FileNames.bytes(Files.readSymbolicLink(b))));
            case CHAR_DEVICE, BLOCK_DEVICE -> check(differences, name, "rdev", sa.rdev(), sb.rdev());
            case DIR -> {
                check(differences, name, "xattrs", Xattrs.read(a), Xattrs.read(b));
                List<byte[]> names = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(a)) {
                    for (Path p : ds) {
                        names.add(FileNames.bytes(p.getFileName()));
                    }
                }
                List<byte[]> restored = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(b)) {
                    for (Path p : ds) {
                        restored.add(FileNames.bytes(p.getFileName()));
                    }
                }
                check(differences, name, "entry count", names.size(), restored.size());
                for (byte[] child : names) {
                    n += compare(FileNames.resolve(a, child), FileNames.resolve(b, child), differences);
                }
            }
            case FIFO, SOCKET -> {
            }
        }
        if (sa.type() == NodeType.SOCKET) {
            differences.add(name + ": unexpected socket");
        }
        return n;
    }

    private static void check(List<String> differences, String path, String what, Object expected, Object actual) {
        if (!java.util.Objects.equals(expected, actual)) {
            differences.add(path + ": " + what + " " + expected + " became " + actual);
        }
    }
}
