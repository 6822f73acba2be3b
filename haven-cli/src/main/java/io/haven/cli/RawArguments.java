package io.haven.cli;

import io.haven.repository.fs.FileNames;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line's arguments as the bytes they were given. The JVM decodes the arguments with
 * the platform charset, and every byte that is not valid in it becomes U+FFFD, so a path that is
 * not valid UTF-8 could not be named. On Linux the bytes are in {@code /proc/self/cmdline}
 * (NUL-terminated entries; the program's arguments are the last ones). An argument holding U+FFFD
 * is replaced by its bytes in the form of {@link FileNames#string(byte[])}, which keeps every
 * byte; the commands that take paths turn such strings back into bytes with
 * {@link FileNames#bytes(String)}.
 */
final class RawArguments {
    private static final Path CMDLINE = Path.of("/proc/self/cmdline");

    private RawArguments() {}

    /** {@code args} with the bytes of those that hold U+FFFD; {@code args} itself when they cannot be read. */
    static String[] recover(String[] args) {
        if (!lossy(args)) {
            return args;
        }
        byte[] cmdline;
        try {
            cmdline = Files.readAllBytes(CMDLINE);
        } catch (IOException | RuntimeException e) {
            return args;
        }
        return recover(args, cmdline, platformCharset());
    }

    /**
     * {@code args} with the bytes of those that hold U+FFFD taken from {@code cmdline}, whose
     * last {@code args.length} entries must decode with {@code charset} to exactly {@code args}
     * (otherwise it is not this command line, or it was cut: {@code args} is returned).
     */
    static String[] recover(String[] args, byte[] cmdline, Charset charset) {
        if (!lossy(args)) {
            return args;
        }
        List<byte[]> entries = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                entries.add(java.util.Arrays.copyOfRange(cmdline, start, i));
                start = i + 1;
            }
        }
        if (start < cmdline.length || entries.size() < args.length) {
            return args;
        }
        List<byte[]> mine = entries.subList(entries.size() - args.length, entries.size());
        String[] out = args.clone();
        for (int i = 0; i < args.length; i++) {
            if (!new String(mine.get(i), charset).equals(args[i])) {
                return args;
            }
            if (args[i].indexOf('\uFFFD') >= 0) {
                out[i] = FileNames.string(mine.get(i));
            }
        }
        return out;
    }

    private static boolean lossy(String[] args) {
        for (String a : args) {
            if (a.indexOf('\uFFFD') >= 0) {
                return true;
            }
        }
        return false;
    }

    /** The charset the JVM decoded the arguments with. */
    private static Charset platformCharset() {
        for (String p : new String[] {"sun.jnu.encoding", "native.encoding"}) {
            String name = System.getProperty(p);
            if (name != null) {
                try {
                    return Charset.forName(name);
                } catch (RuntimeException e) {
                    // try the next
                }
            }
        }
        return Charset.defaultCharset();
    }
}
