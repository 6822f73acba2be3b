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

    /**
     * A path made of exactly these bytes, normalised as the JDK normalises a path made from a
     * string: repeated slashes are one, and a trailing slash is dropped ({@code dir\xe9/}, as
     * shell completion types it, is the directory, not a name ending in '/').
     */
    public static Path path(byte[] bytes) {
        if (FROM_BYTES != null) {
            try {
                return (Path) FROM_BYTES.invoke(FS, slashesNormalised(bytes));
            } catch (Throwable e) {
                throw new IllegalStateException("cannot build path from bytes", e);
            }
        }
        return Path.of(new String(bytes, StandardCharsets.UTF_8));
    }

    /** {@code b} without repeated slashes and without a trailing slash (unless it is "/"); always a copy. */
    static byte[] slashesNormalised(byte[] b) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(b.length);
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '/' && (i + 1 == b.length || b[i + 1] == '/') && (out.size() > 0 || i + 1 < b.length)) {
                continue; // a repeated slash (the last of a run is kept), or a trailing one
            }
            out.write(b[i]);
        }
        return out.toByteArray();
    }

    /** {@code dir/name} where name is raw bytes. */
    public static Path resolve(Path dir, byte[] name) {
        return dir.resolve(path(name));
    }

    /**
     * The bytes as a string that keeps every one of them: valid UTF-8 decoded, each other byte
     * {@code b} (always 0x80 or more) as the lone surrogate {@code U+DC00 + b}, as Python's
     * "surrogateescape" does. It carries command-line arguments that are not valid UTF-8 through
     * string-typed options; {@link #bytes(String)} is its inverse.
     */
    public static String string(byte[] bytes) {
        int i = 0;
        while (i < bytes.length && bytes[i] >= 0) {
            i++;
        }
        if (i == bytes.length) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        StringBuilder sb = new StringBuilder(bytes.length);
        sb.append(new String(bytes, 0, i, StandardCharsets.ISO_8859_1));
        while (i < bytes.length) {
            int n = utf8Length(bytes, i);
            if (n == 0) {
                sb.append((char) (0xdc00 | (bytes[i] & 0xff)));
                i++;
            } else {
                sb.appendCodePoint(codePoint(bytes, i, n));
                i += n;
            }
        }
        return sb.toString();
    }

    /**
     * The bytes a string stands for: UTF-8, except that each lone surrogate U+DC80 to U+DCFF is
     * the one byte it escapes (see {@link #string(byte[])}). Other lone surrogates, which no
     * such string holds, become U+FFFD.
     */
    public static byte[] bytes(String s) {
        java.io.ByteArrayOutputStream out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                out = new java.io.ByteArrayOutputStream(s.length() + 16);
                break;
            }
        }
        if (out == null) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp >= 0xdc80 && cp <= 0xdcff) {
                out.write(cp & 0xff);
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                out.writeBytes("\uFFFD".getBytes(StandardCharsets.UTF_8));
            } else {
                out.writeBytes(Character.toString(cp).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    /**
     * The length of the valid UTF-8 sequence at {@code b[i]} (1 to 4), or 0 when the byte there
     * does not start one: a stray continuation byte, a truncated sequence, an overlong form, a
     * surrogate (U+D800 to U+DFFF) or a code point above U+10FFFF.
     */
    public static int utf8Length(byte[] b, int i) {
        int c = b[i] & 0xff;
        if (c < 0x80) {
            return 1;
        }
        int n;
        int min;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + n > b.length) {
            return 0;
        }
        for (int k = 1; k < n; k++) {
            if ((b[i + k] & 0xc0) != 0x80) {
                return 0;
            }
        }
        int cp = codePoint(b, i, n);
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        return n;
    }

    /** The code point of the valid UTF-8 sequence of {@code n} bytes at {@code b[i]}. */
    public static int codePoint(byte[] b, int i, int n) {
        int c = b[i] & 0xff;
        if (n == 1) {
            return c;
        }
        int cp = c & (0xff >> (n + 1));
        for (int k = 1; k < n; k++) {
            cp = (cp << 6) | (b[i + k] & 0x3f);
        }
        return cp;
    }

    /**
     * Bytes (a name, a path, a link target) for people, one form for every name, that tells any
     * two names apart and that {@link #undisplay} reads back: valid UTF-8 is shown as it is,
     * except that a backslash is shown as {@code \\}, and every byte that is not part of valid
     * UTF-8, and every byte of a control character (U+0000 to U+001F, U+007F, and U+0080 to
     * U+009F, which some terminals act on), as {@code \xHH} (two lower-case hex digits).
     */
    public static String display(byte[] bytes) {
        int i = 0;
        while (i < bytes.length && plain(bytes[i])) {
            i++;
        }
        if (i == bytes.length) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        StringBuilder sb = new StringBuilder(bytes.length + 8);
        sb.append(new String(bytes, 0, i, StandardCharsets.ISO_8859_1));
        while (i < bytes.length) {
            int v = bytes[i] & 0xff;
            int n = utf8Length(bytes, i);
            if (n == 1 && plain(bytes[i])) {
                sb.append((char) v);
            } else if (n == 1 && v == '\\') {
                sb.append("\\\\");
            } else if (n > 1 && !(n == 2 && codePoint(bytes, i, 2) <= 0x9f)) {
                sb.appendCodePoint(codePoint(bytes, i, n));
            } else {
                // invalid, a control character, or a C1 control character (both its bytes)
                for (int k = 0; k < Math.max(n, 1); k++) {
                    hex(sb, bytes[i + k] & 0xff);
                }
            }
            i += Math.max(n, 1);
        }
        return sb.toString();
    }

    /** Printable ASCII other than the backslash: shown as itself. */
    private static boolean plain(byte b) {
        return b >= 0x20 && b < 0x7f && b != '\\';
    }

    private static void hex(StringBuilder sb, int v) {
        sb.append('\\').append('x').append(Character.forDigit(v >> 4, 16)).append(Character.forDigit(v & 0xf, 16));
    }

    /**
     * The bytes a {@link #display} form stands for, or null when {@code text} holds no escape
     * (then it stands for itself): {@code \\} is one backslash, {@code \xHH} the byte HH (hex
     * digits in either case), every other byte itself, also a backslash before anything else.
     * {@code undisplay(display(b))} is {@code b} for every {@code b}.
     */
    public static byte[] undisplay(byte[] text) {
        java.io.ByteArrayOutputStream out = null;
        for (int i = 0; i < text.length; i++) {
            int n = escapeLength(text, i);
            if (n > 0 && out == null) {
                out = new java.io.ByteArrayOutputStream(text.length);
                out.write(text, 0, i);
            }
            if (n == 2) {
                out.write('\\');
                i++;
            } else if (n == 4) {
                out.write(Character.digit(text[i + 2], 16) << 4 | Character.digit(text[i + 3], 16));
                i += 3;
            } else if (out != null) {
                out.write(text[i]);
            }
        }
        return out == null ? null : out.toByteArray();
    }

    /**
     * The name that typed text stands for when the text is exactly how {@link #display} shows
     * that name (so it holds an escape, in lower case, and only where display writes one), else
     * null: then the text stands for its own bytes. {@code a\x41} is not how display shows
     * {@code aA}, so it names a file called {@code a\x41}.
     */
    public static byte[] shown(byte[] typed) {
        byte[] b = undisplay(typed);
        return b != null && java.util.Arrays.equals(display(b).getBytes(StandardCharsets.UTF_8), typed) ? b : null;
    }

    /** Typed text for a message: as typed when it is a display form ({@link #shown}), else in display form. */
    public static String typedForMessage(byte[] typed) {
        return shown(typed) != null ? new String(typed, StandardCharsets.UTF_8) : display(typed);
    }

    /** The length of the escape of {@link #display} at {@code text[i]}: 2 for {@code \\}, 4 for {@code \xHH}; otherwise 0. */
    public static int escapeLength(byte[] text, int i) {
        if (text[i] != '\\' || i + 1 >= text.length) {
            return 0;
        }
        if (text[i + 1] == '\\') {
            return 2;
        }
        if (text[i + 1] == 'x' && i + 3 < text.length && Character.digit(text[i + 2], 16) >= 0
                && Character.digit(text[i + 3], 16) >= 0) {
            return 4;
        }
        return 0;
    }
}
