package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.LocalBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true, description = "Create a repository (refuses a location that is not empty).")
final class InitCommand extends RepoCommand {
    @Option(names = "--kdf-memory", paramLabel = "MIB", defaultValue = "46",
            description = "Memory for the Argon2id password hash, in MiB (default ${DEFAULT-VALUE}; at least 8).")
    int kdfMemoryMib;

    @Option(names = "--compression-level", paramLabel = "N",
            description = "zstd level that backups into this repository use (default: ${DEFAULT-VALUE}; 1 is faster, 19 smallest).")
    int compressionLevel = Repository.DEFAULT_COMPRESSION_LEVEL;

    @Option(names = "--format-version", paramLabel = "N",
            description = "Repository format (default: ${DEFAULT-VALUE}). 1 stays readable by Haven versions from before"
                    + " small files were compressed together (docs/repository-format.md).")
    int formatVersion = io.haven.repository.Config.VERSION;

    @Override
    public Integer call() {
        io.haven.repository.Config.requireWritable(formatVersion); // before a directory is created
        Backend b = backend();
        try (b) {
            if (b instanceof LocalBackend local) {
                refuseNonEmpty(local.root());
            } else {
                refuseNonEmpty(b);
            }
            char[] pw = password(true);
            try (Repository repo = Repository.init(b, pw, kdfMemoryMib * 1024, compressionLevel, formatVersion, actor(), InstantSource.system(), new SecureRandom())) {
                if (json()) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("id", repo.config().id());
                    out.put("location", b.location());
                    out.put("key", repo.keyName().substring(5));
                    println(Output.toJson(out));
                } else {
                    println("created repository " + repo.config().id().substring(0, 8) + " at " + b.location());
                    println("Keep the password safe: without it the data cannot be read by anyone, including you.");
                }
            }
        }
        return Main.EXIT_OK;
    }

    /**
     * A remote location (an S3 prefix) must hold no object: a repository inside another one's
     * prefix ({@code …/repo/data}) would have its objects deleted by the other's prune.
     */
    private static void refuseNonEmpty(Backend b) {
        java.util.List<String> there = b.list("");
        if (there.isEmpty()) {
            return;
        }
        java.util.Collections.sort(there);
        throw new HavenException(ErrorCode.REPOSITORY_EXISTS, there.contains("config")
                ? "a repository already exists at " + b.location()
                : there.stream().allMatch(n -> n.startsWith("keys/"))
                        ? b.location() + " holds keys but no config, as an interrupted 'haven init' leaves it;"
                                + " if it holds nothing else you need, delete them and run 'haven init' again"
                        : b.location() + " is not empty (" + there.size() + " object(s), such as " + there.get(0)
                                + "); choose an empty or new prefix");
    }

    private static void refuseNonEmpty(Path dir) {
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw new HavenException(ErrorCode.REPOSITORY_EXISTS, dir + " exists and is not a directory");
            }
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new HavenException(ErrorCode.REPOSITORY_EXISTS, Files.exists(dir.resolve("config"))
                            ? "a repository already exists at " + dir
                            : Files.isDirectory(dir.resolve("keys"))
                                    ? dir + " holds keys but no config, as an interrupted 'haven init' leaves it;"
                                            + " if it holds nothing else you need, remove it and run 'haven init' again"
                                    : dir + " is not empty; choose an empty or new directory");
                }
            } catch (IOException e) {
                throw new HavenException(ErrorCode.IO, "cannot read " + dir + ": " + io.haven.core.IoReasons.of(e), e);
            }
        } else {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new HavenException(ErrorCode.IO, "cannot create " + dir + ": " + io.haven.core.IoReasons.of(e), e);
            }
        }
    }
}
