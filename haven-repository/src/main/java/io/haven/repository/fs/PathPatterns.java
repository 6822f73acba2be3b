package io.haven.repository.fs;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Include or exclude patterns (globs). A pattern without '/' matches an entry's name anywhere in
 * the tree ({@code *.tmp}, {@code node_modules}); a pattern that starts with '/' matches the whole
 * absolute path ({@code /home/* /.cache}); any other pattern with '/' matches a path's end
 * ({@code .cache/thumbnails} is {@code **}{@code /.cache/thumbnails}). A trailing '/' is ignored.
 *
 * <p>Patterns and names are compared as bytes (see {@link Glob}): a pattern is given as a string
 * in the form of {@link FileNames#string(byte[])}, so a command-line argument that is not valid
 * UTF-8 keeps its bytes. A pattern holding a {@code \xHH} escape of the display form of names
 * ({@code tree.Node.display}) may mean either its typed characters (where {@code \x} is a plain
 * 'x') or the bytes of the display form; {@link #observe} and {@link #settle} choose: the display
 * form when it matches an entry, otherwise the typed one. Until {@link #settle} the typed form is
 * used. Matching is thread safe; {@code observe} and {@code settle} are not, and come before
 * matching on other threads.
 */
public final class PathPatterns {
    /** One pattern: its typed form, and its display form when it has a different one. */
    private static final class OnePattern {
        final Pattern typed;
        final boolean typedByName;
        final Pattern shown;
        final boolean shownByName;
        boolean shownMatched;
        boolean useShown;

        OnePattern(Pattern typed, boolean typedByName, Pattern shown, boolean shownByName) {
            this.typed = typed;
            this.typedByName = typedByName;
            this.shown = shown;
            this.shownByName = shownByName;
        }

        boolean matches(String path, String name) {
            return useShown ? shown.matcher(shownByName ? name : path).matches()
                    : typed.matcher(typedByName ? name : path).matches();
        }
    }

    private final List<OnePattern> globs = new ArrayList<>();
    private final boolean byName;
    private final boolean byPath;

    public PathPatterns(List<String> patterns) {
        boolean names = false;
        boolean paths = false;
        for (String p : patterns) {
            if (p.isBlank()) {
                continue;
            }
            byte[] b = FileNames.bytes(p);
            try {
                boolean[] none = new boolean[b.length];
                Pattern typed = compile(b, none);
                boolean typedByName = byName(b);
                Pattern shown = null;
                boolean shownByName = false;
                Shown s = shown(b);
                if (s != null) {
                    shown = compile(s.bytes(), s.literal());
                    shownByName = byName(s.bytes());
                    names |= shownByName;
                    paths |= !shownByName;
                }
                names |= typedByName;
                paths |= !typedByName;
                globs.add(new OnePattern(typed, typedByName, shown, shownByName));
            } catch (IllegalArgumentException e) {
                throw new HavenException(ErrorCode.USAGE, "invalid pattern '" + p + "': " + e.getMessage());
            }
        }
        byName = names;
        byPath = paths;
    }

    public boolean isEmpty() {
        return globs.isEmpty();
    }

    /** Whether {@code path} (absolute, its last name {@code name}) matches a pattern. */
    public boolean matches(Path path, Path name) {
        return matches(byPath ? FileNames.bytes(path) : null, byName ? FileNames.bytes(name) : null);
    }

    /** Whether {@code path} (absolute, its last name {@code name}; as bytes) matches a pattern. */
    public boolean matches(byte[] path, byte[] name) {
        if (globs.isEmpty()) {
            return false;
        }
        String p = byPath ? FileNames.string(path) : null;
        String n = byName ? FileNames.string(name) : null;
        for (OnePattern g : globs) {
            if (g.matches(p, n)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a pattern holds a {@code \xHH} escape: then {@link #observe} every entry and {@link #settle}. */
    public boolean hasDisplayForms() {
        for (OnePattern g : globs) {
            if (g.shown != null) {
                return true;
            }
        }
        return false;
    }

    /** Notes which display forms match this entry (absolute path and name, as bytes). */
    public void observe(byte[] path, byte[] name) {
        String p = null;
        String n = null;
        for (OnePattern g : globs) {
            if (g.shown != null && !g.shownMatched) {
                if (g.shownByName) {
                    n = n == null ? FileNames.string(name) : n;
                } else {
                    p = p == null ? FileNames.string(path) : p;
                }
                g.shownMatched = g.shown.matcher(g.shownByName ? n : p).matches();
            }
        }
    }

    /** From now on, each pattern whose display form matched an observed entry is read in that form. */
    public void settle() {
        for (OnePattern g : globs) {
            g.useShown = g.shownMatched;
        }
    }

    /** The glob as a matcher: a trailing '/' dropped, {@code **}{@code /} put before a relative path. */
    private static Pattern compile(byte[] b, boolean[] literal) {
        int n = b.length > 1 && b[b.length - 1] == '/' ? b.length - 1 : b.length;
        boolean prefix = contains(b, n, (byte) '/') && b[0] != '/' && !(n >= 2 && b[0] == '*' && b[1] == '*');
        int off = prefix ? 3 : 0;
        byte[] g = new byte[off + n];
        boolean[] l = new boolean[off + n];
        if (prefix) {
            g[0] = '*';
            g[1] = '*';
            g[2] = '/';
        }
        System.arraycopy(b, 0, g, off, n);
        System.arraycopy(literal, 0, l, off, n);
        return Glob.compile(g, l);
    }

    private static boolean byName(byte[] b) {
        int n = b.length > 1 && b[b.length - 1] == '/' ? b.length - 1 : b.length;
        return !contains(b, n, (byte) '/');
    }

    private static boolean contains(byte[] b, int n, byte c) {
        for (int i = 0; i < n; i++) {
            if (b[i] == c) {
                return true;
            }
        }
        return false;
    }

    /**
     * The display form of {@code b}: its {@code \\} and {@code \xHH} read as
     * {@link FileNames#undisplay} does, each byte read from an escape marked literal; null when
     * {@code b} holds no {@code \xHH}: its display form then matches what its typed form does
     * ({@code \\} is a plain backslash in a glob, too).
     */
    private static Shown shown(byte[] b) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(b.length);
        boolean[] literal = new boolean[b.length];
        boolean hex = false;
        for (int i = 0; i < b.length; i++) {
            int n = FileNames.escapeLength(b, i);
            literal[out.size()] = n > 0;
            if (n == 2) {
                out.write('\\');
            } else if (n == 4) {
                out.write(Character.digit(b[i + 2], 16) << 4 | Character.digit(b[i + 3], 16));
                hex = true;
            } else {
                out.write(b[i]);
            }
            i += Math.max(n, 1) - 1;
        }
        // only a pattern exactly as display would show its bytes is read that way: 'a\x41' is
        // the glob a\x41 (a file of that name), not 'aA'
        return hex && FileNames.shown(b) != null ? new Shown(out.toByteArray(), java.util.Arrays.copyOf(literal, out.size())) : null;
    }

    private record Shown(byte[] bytes, boolean[] literal) {}
}
