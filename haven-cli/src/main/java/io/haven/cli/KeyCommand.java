package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "key", mixinStandardHelpOptions = true, description = "Manage the repository's passwords (each is a key wrapping the same master key).",
        subcommands = {KeyCommand.ListKeys.class, KeyCommand.Add.class, KeyCommand.Remove.class, KeyCommand.Passwd.class})
final class KeyCommand implements Runnable {
    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "give a subcommand: list, add, remove or passwd");
    }

    /** Options for commands that take a new password. */
    abstract static class NewPassword extends RepoCommand {
        @Option(names = "--new-password-file", paramLabel = "FILE",
                description = "Read the new password from FILE; default: $HAVEN_NEW_PASSWORD or a prompt.")
        String newPasswordFile;

        @Option(names = "--kdf-memory", paramLabel = "MIB", defaultValue = "46",
                description = "Memory for the Argon2id password hash, in MiB (default ${DEFAULT-VALUE}).")
        int kdfMemoryMib;

        char[] newPassword() {
            if (newPasswordFile != null) {
                return readPasswordFile(newPasswordFile);
            }
            String pw = env().get("HAVEN_NEW_PASSWORD");
            if (pw != null) {
                return pw.toCharArray();
            }
            return prompt("new password", true, "set HAVEN_NEW_PASSWORD or use --new-password-file");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys.")
    static final class ListKeys extends RepoCommand {
        @Override
        public Integer call() {
            try (Repository repo = openRepository()) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (Repository.KeyEntry k : repo.keys()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("id", k.id());
                    m.put("current", k.name().equals(repo.keyName()));
                    m.put("created", k.file().created());
                    m.put("host", k.file().host());
                    m.put("username", k.file().username());
                    m.put("kdf", k.file().kdf().algorithm() + " m=" + k.file().kdf().memoryKib() + "KiB t="
                            + k.file().kdf().iterations() + " p=" + k.file().kdf().parallelism());
                    rows.add(m);
                }
                if (json()) {
                    println(Output.toJson(rows));
                } else {
                    println(String.format("  %-8s  %-30s  %-16s  %s", "ID", "CREATED", "HOST", "USER"));
                    for (Map<String, Object> m : rows) {
                        println(String.format("%s %-8s  %-30s  %-16s  %s", Boolean.TRUE.equals(m.get("current")) ? "*" : " ",
                                ((String) m.get("id")).substring(0, 8), m.get("created"), m.get("host"), m.get("username")));
                    }
                    println("* the key this password opened");
                }
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a password.")
    static final class Add extends NewPassword {
        @Override
        public Integer call() {
            try (Repository repo = openRepositoryNotCache("key add")) {
                String name = repo.addKey(newPassword(), kdfMemoryMib * 1024, actor());
                String id = name.substring(name.lastIndexOf('/') + 1);
                println(json() ? Output.toJson(Map.of("added", id)) : "added key " + id.substring(0, 8));
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a password by key id (not the one in use, not the last).")
    static final class Remove extends RepoCommand {
        @Parameters(paramLabel = "ID", description = "Key id or a unique prefix (see 'haven key list').")
        String id;

        @Override
        public Integer call() {
            try (Repository repo = openRepositoryNotCache("key remove")) {
                String name = repo.removeKey(id);
                String removed = name.substring(name.lastIndexOf('/') + 1);
                println(json() ? Output.toJson(Map.of("removed", removed)) : "removed key " + removed.substring(0, 8));
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "passwd", mixinStandardHelpOptions = true, description = "Change the password in use (adds the new key, then removes the old one).")
    static final class Passwd extends NewPassword {
        @Override
        public Integer call() {
            try (Repository repo = openRepositoryNotCache("key passwd")) {
                char[] pw = newPassword();
                String name = repo.addKey(pw, kdfMemoryMib * 1024, actor());
                try {
                    repo.removeCurrentKey(name);
                } catch (HavenException e) {
                    throw new HavenException(ErrorCode.IO, "the new password was added but the old one could not be removed: "
                            + e.getMessage(), e);
                }
                String id = name.substring(name.lastIndexOf('/') + 1);
                println(json() ? Output.toJson(Map.of("changed", true, "key", id)) : "password changed (new key " + id.substring(0, 8) + ")");
            }
            return Main.EXIT_OK;
        }
    }
}
