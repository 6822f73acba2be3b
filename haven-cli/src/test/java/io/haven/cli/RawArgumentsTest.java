package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.fs.FileNames;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Arguments that are not valid UTF-8 recovered from the process's command line. */
class RawArgumentsTest {
    private static final Charset UTF8 = StandardCharsets.UTF_8;

    /** A /proc/self/cmdline: the JVM's own arguments, then the program's, each ended by NUL. */
    private static byte[] cmdline(byte[]... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String jvm : new String[] {"/usr/bin/java", "-Xmx256m", "-cp", "lib/*", "io.haven.cli.Main"}) {
            out.writeBytes(jvm.getBytes(UTF8));
            out.write(0);
        }
        for (byte[] a : args) {
            out.writeBytes(a);
            out.write(0);
        }
        return out.toByteArray();
    }

    private static byte[] b(String ascii, int... more) {
        byte[] a = ascii.getBytes(UTF8);
        byte[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        for (int i = 0; i < more.length; i++) {
            out[a.length + i] = (byte) more[i];
        }
        return out;
    }

    /** What the JVM gives main(): the arguments decoded, invalid bytes as U+FFFD. */
    private static String[] decoded(byte[]... args) {
        String[] out = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            out[i] = new String(args[i], UTF8);
        }
        return out;
    }

    @Test
    void argumentsWithReplacementCharactersGetTheirBytes() {
        byte[][] args = {b("ls"), b("latest"), b("/tmp/src/dir", 0xe9), b(""), b("é".repeat(2)), b("x", 0xe8, 'y')};
        String[] got = RawArguments.recover(decoded(args), cmdline(args), UTF8);
        assertThat(got[0]).isEqualTo("ls");
        assertThat(got[2]).isNotEqualTo(decoded(args)[2]);
        for (int i = 0; i < args.length; i++) {
            assertThat(FileNames.bytes(got[i])).as("argument %d", i).isEqualTo(args[i]);
        }
        // two arguments that decode alike stay apart
        byte[][] two = {b("restore"), b("a", 0xe9), b("a", 0xe8)};
        String[] apart = RawArguments.recover(decoded(two), cmdline(two), UTF8);
        assertThat(apart[1]).isNotEqualTo(apart[2]);
        // and a path typed so is made of them
        Env env = new Env(java.util.Map.of(), Path.of("/w"), System.out, System.err, System.in, false);
        assertThat(FileNames.exact()).isTrue();
        assertThat(FileNames.bytes(env.resolve(apart[1]))).isEqualTo(b("/w/a", 0xe9));
        assertThat(FileNames.bytes(env.resolve(apart[2]))).isEqualTo(b("/w/a", 0xe8));
        // valid text is its UTF-8 bytes, also where the locale is not UTF-8
        assertThat(FileNames.bytes(env.resolve("plain/é"))).isEqualTo("/w/plain/é".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        // a trailing slash and repeated ones, as shell completion and hands type them, are not part of a name
        assertThat(FileNames.bytes(env.resolve(apart[1] + "/"))).isEqualTo(b("/w/a", 0xe9));
        assertThat(FileNames.bytes(env.resolve("x//" + apart[1] + "//y/"))).isEqualTo(b("/w/x/a", 0xe9, '/', 'y'));
    }

    @Test
    void validArgumentsAreLeftAlone() {
        String[] args = {"ls", "latest", "/tmp/é"};
        assertThat(RawArguments.recover(args, new byte[0], UTF8)).isSameAs(args);
    }

    @Test
    void aCommandLineThatDoesNotFitIsIgnored() {
        byte[][] args = {b("ls"), b("latest"), b("/tmp/dir", 0xe9)};
        String[] decoded = decoded(args);
        // other arguments
        assertThat(RawArguments.recover(decoded, cmdline(b("ls"), b("latest"), b("/tmp/other", 0xe9)), UTF8)).isSameAs(decoded);
        // fewer entries than arguments
        assertThat(RawArguments.recover(decoded, b("ls", 0, 'x', 0), UTF8)).isSameAs(decoded);
        // cut short (no final NUL)
        byte[] full = cmdline(args);
        assertThat(RawArguments.recover(decoded, java.util.Arrays.copyOf(full, full.length - 2), UTF8)).isSameAs(decoded);
        // empty: /proc unreadable
        assertThat(RawArguments.recover(decoded, new byte[0], UTF8)).isSameAs(decoded);
    }
}
