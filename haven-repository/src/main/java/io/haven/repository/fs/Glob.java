package io.haven.repository.fs;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A glob over the bytes of a name or path, with the syntax of the JDK's {@code glob:} path
 * matchers: {@code *} any run within a name, {@code **} any run across names, {@code ?} one
 * character, {@code [abc]}, {@code [a-z]}, {@code [!a]} one character of (or not of) a set,
 * {@code {a,b}} one of the alternatives, {@code \} makes the next character plain. The JDK's
 * matchers compare the path's text, in which every byte that is not valid UTF-8 became U+FFFD, so
 * any such byte matched any other; this one compares the bytes, through
 * {@link FileNames#string(byte[])}, in which every such byte is a character of its own.
 *
 * <p>Each byte of a glob is either syntax or literal: {@link PathPatterns} marks as literal the
 * bytes it read from a {@code \xHH} escape, so that they stand for themselves even where they
 * would be syntax.
 */
final class Glob {
    private Glob() {}

    /** The expression matching what the glob {@code b} matches; {@code literal[i]}: {@code b[i]} is never syntax. */
    static Pattern compile(byte[] b, boolean[] literal) {
        String text = FileNames.string(b);
        StringBuilder re = new StringBuilder(b.length * 2 + 8).append('^');
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        boolean inGroup = false;
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xff;
            boolean lit = literal[i];
            i++;
            if (lit || !syntax(c, inGroup)) {
                run.write(c);
                continue;
            }
            if (c == '\\') {
                if (i == b.length) {
                    throw new PatternSyntaxException("No character to escape", text, i - 1);
                }
                run.write(b[i++]);
                continue;
            }
            flush(run, re);
            switch (c) {
                case '*' -> {
                    if (i < b.length && !literal[i] && b[i] == '*') {
                        re.append(".*");
                        i++;
                    } else {
                        re.append("[^/]*");
                    }
                }
                case '?' -> re.append("[^/]");
                case '{' -> {
                    if (inGroup) {
                        throw new PatternSyntaxException("Cannot nest groups", text, i - 1);
                    }
                    re.append("(?:(?:");
                    inGroup = true;
                }
                case '}' -> {
                    re.append("))");
                    inGroup = false;
                }
                case ',' -> re.append(")|(?:");
                case '[' -> i = bracket(b, literal, i, re, text);
                default -> throw new IllegalStateException("not syntax: " + (char) c);
            }
        }
        if (inGroup) {
            throw new PatternSyntaxException("Missing '}'", text, b.length - 1);
        }
        flush(run, re);
        return Pattern.compile(re.append('$').toString(), Pattern.DOTALL);
    }

    private static boolean syntax(int c, boolean inGroup) {
        return c == '\\' || c == '*' || c == '?' || c == '[' || c == '{' || (inGroup && (c == '}' || c == ','));
    }

    /** Appends the bytes collected in {@code run} as literal characters. */
    private static void flush(ByteArrayOutputStream run, StringBuilder re) {
        if (run.size() == 0) {
            return;
        }
        String s = FileNames.string(run.toByteArray());
        run.reset();
        s.codePoints().forEach(cp -> quote(re, cp));
    }

    private static void quote(StringBuilder re, int cp) {
        if (cp < 0x80 && Character.isLetterOrDigit(cp)) {
            re.append((char) cp);
        } else {
            re.append("\\x{").append(Integer.toHexString(cp)).append('}');
        }
    }

    /** A set {@code [...]} whose first byte after '[' is {@code b[i]}; returns the index after its ']'. */
    private static int bracket(byte[] b, boolean[] literal, int i, StringBuilder re, String text) {
        re.append("[[^/]&&[");
        if (i < b.length && !literal[i] && b[i] == '^') {
            re.append("\\^");
            i++;
        } else {
            if (i < b.length && !literal[i] && b[i] == '!') {
                re.append('^');
                i++;
            }
            if (i < b.length && !literal[i] && b[i] == '-') {
                re.append("\\-");
                i++;
            }
        }
        int end = i;
        while (end < b.length && (literal[end] || b[end] != ']')) {
            end++;
        }
        if (end == b.length) {
            throw new PatternSyntaxException("Missing ']", text, b.length - 1);
        }
        // the members as characters, RANGE for an unescaped '-'
        final int range = -1;
        List<Integer> members = new ArrayList<>();
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (int k = i; k <= end; k++) {
            if (k == end || (!literal[k] && b[k] == '-')) {
                FileNames.string(run.toByteArray()).codePoints().forEach(members::add);
                run.reset();
                if (k < end) {
                    members.add(range);
                }
            } else {
                run.write(b[k]);
            }
        }
        boolean hasRangeStart = false;
        int last = 0;
        for (int m = 0; m < members.size(); m++) {
            int c = members.get(m);
            if (c == '/') {
                throw new PatternSyntaxException("Explicit 'name separator' in class", text, i);
            }
            if (c != range) {
                quote(re, c);
                hasRangeStart = true;
                last = c;
                continue;
            }
            if (!hasRangeStart) {
                throw new PatternSyntaxException("Invalid range", text, i);
            }
            if (m + 1 == members.size()) {
                re.append("\\-");
                break;
            }
            int to = members.get(++m);
            to = to == range ? '-' : to;
            if (to < last) {
                throw new PatternSyntaxException("Invalid range", text, i);
            }
            re.append('-');
            quote(re, to);
            hasRangeStart = false;
        }
        re.append("]]");
        return end + 1;
    }
}
