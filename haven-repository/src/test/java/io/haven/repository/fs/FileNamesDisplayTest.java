package io.haven.repository.fs;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.tree.Node;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The display form of names ({@link FileNames#display}) and its inverse, and the byte-keeping strings of arguments. */
class FileNamesDisplayTest {
    private static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (byte) v[i];
        }
        return out;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void showsValidPrintableUtf8AsItIs() {
        assertThat(FileNames.display(utf8("plain name.txt"))).isEqualTo("plain name.txt");
        assertThat(FileNames.display(utf8("ünïcödé ✓ 日本 😀"))).isEqualTo("ünïcödé ✓ 日本 😀");
        assertThat(FileNames.display(utf8("/home/ada/x"))).isEqualTo("/home/ada/x");
        assertThat(FileNames.display(new byte[0])).isEmpty();
    }

    @Test
    void escapesBackslashesInvalidBytesAndControlCharacters() {
        assertThat(FileNames.display(utf8("a\\b"))).isEqualTo("a\\\\b");
        // a name made of the characters of an escape differs from the byte it stands for
        assertThat(FileNames.display(utf8("a\\xe9"))).isEqualTo("a\\\\xe9");
        assertThat(FileNames.display(b('a', 0xe9))).isEqualTo("a\\xe9");
        assertThat(FileNames.display(b(0xff, 0xfe, 'a'))).isEqualTo("\\xff\\xfea");
        assertThat(FileNames.display(b('t', '\t', 'n', '\n', 'e', 0x1b, 'd', 0x7f))).isEqualTo("t\\x09n\\x0ae\\x1bd\\x7f");
        // C1 control characters (valid UTF-8, U+0080 to U+009F) byte by byte; U+00A0 is printable
        assertThat(FileNames.display(utf8("x\u009by\u0085\u00a0"))).isEqualTo("x\\xc2\\x9by\\xc2\\x85\u00a0");
        // valid sequences stay as they are next to invalid bytes
        assertThat(FileNames.display(b(0xc3, 0xa9, 0xe9, 'z'))).isEqualTo("é\\xe9z");
        // truncated, overlong, surrogate and out-of-range sequences are invalid bytes
        assertThat(FileNames.display(b(0xe2, 0x9c))).isEqualTo("\\xe2\\x9c");
        assertThat(FileNames.display(b(0xc0, 0xaf))).isEqualTo("\\xc0\\xaf");
        assertThat(FileNames.display(b(0xed, 0xa0, 0x80))).isEqualTo("\\xed\\xa0\\x80");
        assertThat(FileNames.display(b(0xf4, 0x90, 0x80, 0x80))).isEqualTo("\\xf4\\x90\\x80\\x80");
        assertThat(Node.display(b('a', 0xe9))).isEqualTo("a\\xe9");
    }

    @Test
    void undisplayReadsTheEscapesBack() {
        assertThat(FileNames.undisplay(utf8("a\\xe9"))).isEqualTo(b('a', 0xe9));
        assertThat(FileNames.undisplay(utf8("a\\xE9"))).isEqualTo(b('a', 0xe9));
        assertThat(FileNames.undisplay(utf8("a\\\\xe9"))).isEqualTo(utf8("a\\xe9"));
        assertThat(FileNames.undisplay(utf8("\\\\\\xff\\\\"))).isEqualTo(b('\\', 0xff, '\\'));
        // no escape: the text stands for itself
        assertThat(FileNames.undisplay(utf8("plain"))).isNull();
        assertThat(FileNames.undisplay(utf8("a\\b\\x1"))).isNull();
        assertThat(FileNames.undisplay(b('a', 0xe9))).isNull();
        // a backslash that starts no escape is itself
        assertThat(FileNames.undisplay(utf8("\\q\\xe9\\"))).isEqualTo(b('\\', 'q', 0xe9, '\\'));
    }

    @Test
    void displayIsInjectiveAndReversibleOnRandomNames() {
        Random rnd = new Random(42);
        int[] alphabet = {'a', '\\', 'x', 'e', '9', 'f', 0xe9, 0xc3, 0xa9, 0xc2, 0x9b, 0x80, 0xff, 0x0a, 0x7f, 0xf0, 0x9f, 0x98,
                0x80, ' ', '/'};
        Map<String, String> seen = new HashMap<>();
        for (int round = 0; round < 20_000; round++) {
            byte[] name = new byte[1 + rnd.nextInt(8)];
            for (int i = 0; i < name.length; i++) {
                name[i] = (byte) (rnd.nextInt(4) == 0 ? rnd.nextInt(256) : alphabet[rnd.nextInt(alphabet.length)]);
            }
            String shown = FileNames.display(name);
            byte[] back = FileNames.undisplay(shown.getBytes(StandardCharsets.UTF_8));
            assertThat(back == null ? shown.getBytes(StandardCharsets.UTF_8) : back).as("undisplay(display(%s))", shown)
                    .isEqualTo(name);
            String hex = java.util.HexFormat.of().formatHex(name);
            String before = seen.putIfAbsent(shown, hex);
            assertThat(before == null || before.equals(hex)).as("%s and %s both show as %s", before, hex, shown).isTrue();
            // the shown form is printable: no control characters and no lone surrogates
            assertThat(shown.codePoints().noneMatch(c -> c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)))
                    .as(shown).isTrue();
        }
    }

    @Test
    void argumentStringsKeepEveryByte() {
        assertThat(FileNames.string(utf8("plain"))).isEqualTo("plain");
        assertThat(FileNames.string(utf8("é✓😀"))).isEqualTo("é✓😀");
        assertThat(FileNames.string(b('a', 0xe9))).isEqualTo("a\udce9");
        assertThat(FileNames.string(b('a', 0xe9))).isNotEqualTo(FileNames.string(b('a', 0xe8)));
        assertThat(FileNames.bytes("a\udce9")).isEqualTo(b('a', 0xe9));
        assertThat(FileNames.bytes("é")).isEqualTo(utf8("é"));
        // a supplementary character followed by an escaped byte
        assertThat(FileNames.bytes(FileNames.string(b(0xf0, 0x9f, 0x98, 0x80, 0x80)))).isEqualTo(b(0xf0, 0x9f, 0x98, 0x80, 0x80));
        Random rnd = new Random(7);
        for (int round = 0; round < 20_000; round++) {
            byte[] raw = new byte[rnd.nextInt(10)];
            rnd.nextBytes(raw);
            String s = FileNames.string(raw);
            assertThat(FileNames.bytes(s)).isEqualTo(raw);
            assertThat(FileNames.string(FileNames.bytes(s))).isEqualTo(s);
        }
    }

    @Test
    void utf8LengthFollowsTheStandard() {
        assertThat(FileNames.utf8Length(b('a'), 0)).isEqualTo(1);
        assertThat(FileNames.utf8Length(utf8("é"), 0)).isEqualTo(2);
        assertThat(FileNames.utf8Length(utf8("✓"), 0)).isEqualTo(3);
        assertThat(FileNames.utf8Length(utf8("😀"), 0)).isEqualTo(4);
        assertThat(FileNames.utf8Length(b(0x80), 0)).isZero();
        assertThat(FileNames.utf8Length(b(0xc1, 0xbf), 0)).isZero();
        assertThat(FileNames.utf8Length(b(0xe0, 0x9f, 0xbf), 0)).isZero();
        assertThat(FileNames.utf8Length(b(0xf5, 0x80, 0x80, 0x80), 0)).isZero();
        // the JDK's decoder agrees on every two- and three-byte sequence
        var decoder = StandardCharsets.UTF_8.newDecoder();
        for (int x = 0xc0; x <= 0xff; x++) {
            for (int y = 0x70; y <= 0xc0; y++) {
                for (int z : new int[] {0x41, 0x80, 0xbf}) {
                    byte[] seq = b(x, y, z);
                    int n = FileNames.utf8Length(seq, 0);
                    boolean jdk2 = decodes(decoder, b(x, y));
                    boolean jdk3 = decodes(decoder, seq);
                    assertThat(n == 2).as("%02x %02x", x, y).isEqualTo(jdk2);
                    if (n != 2) {
                        assertThat(n == 3).as("%02x %02x %02x", x, y, z).isEqualTo(jdk3);
                    }
                }
            }
        }
    }

    private static boolean decodes(java.nio.charset.CharsetDecoder d, byte[] b) {
        try {
            d.reset().decode(java.nio.ByteBuffer.wrap(b));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }
}
