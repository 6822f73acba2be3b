package io.haven.repository.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.haven.core.HavenException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Include and exclude patterns, compared as bytes. */
class PathPatternsTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] cat(String a, int b) {
        byte[] x = utf8(a);
        byte[] out = java.util.Arrays.copyOf(x, x.length + 1);
        out[x.length] = (byte) b;
        return out;
    }

    private static boolean matches(String pattern, byte[] path) {
        int slash = -1;
        for (int i = 0; i < path.length; i++) {
            if (path[i] == '/') {
                slash = i;
            }
        }
        byte[] name = java.util.Arrays.copyOfRange(path, slash + 1, path.length);
        return new PathPatterns(List.of(pattern)).matches(path, name);
    }

    @Test
    void matchesLikeTheJdksGlobsOnUtf8Names() {
        // the JDK's matchers need paths the JDK can encode: not 'é' in a C locale
        assumeTrue("UTF-8".equals(System.getProperty("sun.jnu.encoding")), "file names are not UTF-8 in this locale");
        List<String> patterns = List.of("*.txt", "a*", "?b", "[ab]c", "[!ab]c", "[a-c]x", "{x,y}z", "**/d/*", "/r/**",
                "d/e", "/r/*/e", "\\*", "x\\?y", "é*", "[é-ë]", "*.{tmp,bak}", "[-a]", "[a-]", "d/", "**", "*", "a,b", "a}",
                "[^a]", "ü?");
        List<String> paths = List.of("/r/a.txt", "/r/d/a.txt", "/r/ab", "/r/bb", "/r/ac", "/r/cc", "/r/bx", "/r/xz", "/r/yz",
                "/r/d/e", "/r/d/e/f", "/x/d/e", "/r/*", "/r/x?y", "/r/xay", "/r/é.txt", "/r/ê", "/r/-", "/r/d", "/r/a,b",
                "/r/a}", "/r/^", "/r/üa", "/r/ü", "/r/a.bak", "/r/a.tmp", "/r/a b");
        for (String p : patterns) {
            String glob = p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
            if (glob.contains("/") && !glob.startsWith("/") && !glob.startsWith("**")) {
                glob = "**/" + glob;
            }
            PathMatcher jdk = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            for (String path : paths) {
                Path pp = Path.of(path);
                boolean want = jdk.matches(glob.contains("/") ? pp : pp.getFileName());
                assertThat(matches(p, utf8(path))).as("%s on %s", p, path).isEqualTo(want);
            }
        }
    }

    @Test
    void doubleStarCrossesNewlinesToo() {
        // the JDK's ** is a regex '.', which stops at a line break
        assertThat(matches("/r/**", utf8("/r/a\nb"))).isTrue();
        assertThat(matches("a*b", utf8("/r/a\nb"))).isTrue();
    }

    @Test
    void anInvalidByteMatchesOnlyItself() {
        byte[] e9 = cat("/r/a", 0xe9);
        assertThat(matches(FileNames.string(cat("a", 0xe9)), e9)).isTrue();
        assertThat(matches(FileNames.string(cat("a", 0xe8)), e9)).isFalse();
        assertThat(matches(FileNames.string(cat("/r/a", 0xe8)), e9)).isFalse();
        assertThat(matches("a?", e9)).isTrue();
        assertThat(matches("a*", e9)).isTrue();
        assertThat(matches("a\uFFFD", e9)).isFalse();
        assertThat(matches(FileNames.string(new byte[] {'[', (byte) 0xe0, '-', (byte) 0xef, ']'}), cat("/r/", 0xe9))).isTrue();
        assertThat(matches(FileNames.string(new byte[] {'[', (byte) 0xe0, '-', (byte) 0xef, ']'}), cat("/r/", 0xf0))).isFalse();
        // bytes from Path objects, as the backup passes them
        Path p = FileNames.path(e9);
        PathPatterns pp = new PathPatterns(List.of(FileNames.string(cat("a", 0xe8))));
        assertThat(pp.matches(p, p.getFileName())).isEqualTo(!FileNames.exact());
    }

    @Test
    void aPatternWithAnEscapeIsReadAsDisplayedWhenThatMatches() {
        byte[] raw = cat("/r/a", 0xe9);
        byte[] literal = utf8("/r/a\\xe9");
        byte[] axe9 = utf8("/r/axe9");
        // before settle: as typed, where \x is a plain x
        PathPatterns pp = new PathPatterns(List.of("a\\xe9"));
        assertThat(pp.hasDisplayForms()).isTrue();
        assertThat(pp.matches(axe9, utf8("axe9"))).isTrue();
        assertThat(pp.matches(raw, cat("a", 0xe9))).isFalse();
        pp.observe(axe9, utf8("axe9"));
        pp.observe(raw, cat("a", 0xe9));
        pp.settle();
        assertThat(pp.matches(raw, cat("a", 0xe9))).isTrue();
        assertThat(pp.matches(axe9, utf8("axe9"))).isFalse();
        assertThat(pp.matches(literal, utf8("a\\xe9"))).isFalse();

        // no entry has the displayed name: the typed form stays
        PathPatterns typed = new PathPatterns(List.of("a\\xe9"));
        typed.observe(axe9, utf8("axe9"));
        typed.settle();
        assertThat(typed.matches(axe9, utf8("axe9"))).isTrue();

        // a literal backslash is \\ in both forms: no display form needed
        PathPatterns backslash = new PathPatterns(List.of("a\\\\xe9"));
        assertThat(backslash.hasDisplayForms()).isFalse();
        assertThat(backslash.matches(literal, utf8("a\\xe9"))).isTrue();
        assertThat(backslash.matches(raw, cat("a", 0xe9))).isFalse();

        // only escapes as display writes them make a display form: '\x2a' (a '*'), '\xc3\xa9' (an
        // 'é') and 'a\x41' (an 'A') are never shown so, and stay the globs they are as typed
        for (String notShown : List.of("\\x2a*\\xc3\\xa9", "a\\x41", "a\\xE9")) {
            assertThat(new PathPatterns(List.of(notShown)).hasDisplayForms()).as(notShown).isFalse();
        }
        PathPatterns lookAlike = new PathPatterns(List.of("a\\x41"));
        assertThat(lookAlike.matches(utf8("/r/aA"), utf8("aA"))).isFalse();

        // a control character in a display form
        PathPatterns ctl = new PathPatterns(List.of("a\\x09*"));
        assertThat(ctl.hasDisplayForms()).isTrue();
        ctl.observe(utf8("/r/a\tb"), utf8("a\tb"));
        ctl.settle();
        assertThat(ctl.matches(utf8("/r/a\tb"), utf8("a\tb"))).isTrue();
        assertThat(ctl.matches(utf8("/r/ab"), utf8("ab"))).isFalse();

        // whole paths, with a display form in the middle
        PathPatterns path = new PathPatterns(List.of("/r/a\\xe9/**"));
        byte[] inside = cat("/r/a", 0xe9);
        inside = java.util.Arrays.copyOf(inside, inside.length + 2);
        inside[inside.length - 2] = '/';
        inside[inside.length - 1] = 'f';
        path.observe(inside, utf8("f"));
        path.settle();
        assertThat(path.matches(inside, utf8("f"))).isTrue();
    }

    @Test
    void refusesInvalidPatterns() {
        for (String bad : List.of("[a", "{a,{b}}", "{a", "[z-a]", "a\\", "[a/b]")) {
            assertThatThrownBy(() -> new PathPatterns(List.of(bad))).as(bad).isInstanceOf(HavenException.class)
                    .hasMessageContaining("invalid pattern");
        }
    }
}
