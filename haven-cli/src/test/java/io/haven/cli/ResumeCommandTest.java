package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command a cold restore prints to resume it repeats what was asked, quoted for a shell. */
class ResumeCommandTest {
    private static String resume(String... args) {
        PrintStream nul = new PrintStream(java.io.OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
        Env env = new Env(Map.of(), Path.of("/work"), nul, nul, new ByteArrayInputStream(new byte[0]), false);
        CommandLine cl = new CommandLine(new Main(env));
        cl.addSubcommand(RestoreCommand.class);
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        RestoreCommand restore = (RestoreCommand) parsed.subcommand().commandSpec().userObject();
        return restore.resumeCommand();
    }

    @Test
    void theSelectionTheRepositoryAndTheOptionsAreRepeated() {
        assertThat(resume("--repo", "/srv/my repo", "--password-file", "/etc/haven/pw", "restore", "abc123:/home/it's",
                "--target", "/restore", "--include", "*.conf", "--exclude", "cache/**", "--threads", "3", "--owner-by-name"))
                .isEqualTo("haven --repo '/srv/my repo' --password-file /etc/haven/pw restore 'abc123:/home/it'\\''s'"
                        + " --target /restore --include '*.conf' --exclude 'cache/**' --owner-by-name --threads 3 --wait");
    }

    @Test
    void aPlainRestoreNeedsNoQuotes() {
        assertThat(resume("restore", "latest", "--target", "/restore", "--sync", "--verify"))
                .isEqualTo("haven restore latest --target /restore --sync --verify --wait");
        assertThat(Output.shellQuote("")).isEqualTo("''");
    }
}
