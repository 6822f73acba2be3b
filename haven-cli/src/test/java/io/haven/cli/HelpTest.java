package io.haven.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command and subcommand answers {@code --help} with its usage (and exit code 0). */
class HelpTest {
    private final org.assertj.core.api.SoftAssertions softly = new org.assertj.core.api.SoftAssertions();

    @Test
    void everyCommandAndSubcommandHasHelp() {
        for (Class<?> c : Main.COMMANDS) {
            if (c == CommandLine.HelpCommand.class) {
                continue;
            }
            CommandLine.Command cmd = c.getAnnotation(CommandLine.Command.class);
            check(cmd.name());
            for (Class<?> sub : cmd.subcommands()) {
                CommandLine.Command s = sub.getAnnotation(CommandLine.Command.class);
                if (s != null && sub != CommandLine.HelpCommand.class) {
                    check(cmd.name(), s.name());
                }
            }
        }
        softly.assertAll();
    }

    @Test
    void serverCommandsDoNotOfferTheRepositoryOptionsAndSummariesAreWholeSentences() {
        for (String[] words : new String[][] {{"plan", "status"}, {"plan"}, {"job", "wait"}, {"run", "show"}, {"failover"}}) {
            softly.assertThat(check(words)).as("haven %s --help", String.join(" ", words)).doesNotContain("--repo", "--password-file", "--no-cache");
        }
        for (String[] words : new String[][] {{"backup"}, {"key", "add"}, {"cache", "sync"}}) {
            softly.assertThat(check(words)).as("haven %s --help", String.join(" ", words)).contains("--repo", "--password-file");
        }
        // a server command that sends a repository's password keeps the option it reads it with
        softly.assertThat(check("repository", "create")).contains("--password-file").doesNotContain("--repo=", "--no-cache");
        softly.assertThat(check("plan", "status")).containsPattern("PLAN +The DR plan's name");
        // the command list shows each command's first description line: it must say something whole
        for (Class<?> c : Main.COMMANDS) {
            CommandLine.Command cmd = c.getAnnotation(CommandLine.Command.class);
            if (c != CommandLine.HelpCommand.class) {
                softly.assertThat(cmd.description()[0]).as("the summary of haven %s", cmd.name()).matches("(?s).*[.)]$");
            }
        }
        softly.assertAll();
    }

    private String check(String... words) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] args = java.util.Arrays.copyOf(words, words.length + 1);
        args[words.length] = "--help";
        Env env = new Env(Map.of(), Path.of("").toAbsolutePath(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]), false);
        int code = Main.run(env, args);
        String usage = out.toString(StandardCharsets.UTF_8);
        softly.assertThat(code).as("haven %s --help: %s", String.join(" ", words), err.toString(StandardCharsets.UTF_8)).isZero();
        softly.assertThat(usage).as("haven %s --help", String.join(" ", words)).contains("Usage: haven " + String.join(" ", words));
        return usage;
    }
}
