package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The guided run on embedded defaults: a repository in a local folder, a backup, a change, a
 * second backup, a diff, a restore and a full check, each step through the real commands, with
 * what happened printed plainly.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "A guided run: init, backup, change, backup, diff, restore, check — in a local folder.")
final class DemoCommand extends RepoCommand {
    private static final String MARKER = ".haven-demo";

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "haven-demo",
            description = "Folder for the demo (default: ./${DEFAULT-VALUE}); recreated on each run.")
    String dir;

    @Override
    public Integer call() throws IOException {
        Path base = env().resolve(dir);
        prepare(base);
        Path source = base.resolve("source");
        Path repo = base.resolve("repository");
        Path restored = base.resolve("restored");
        Files.writeString(base.resolve("password"), "demo-password\n");
        Env demoEnv = env().with(Map.of("HAVEN_REPO", repo.toString(), "HAVEN_PASSWORD_FILE", base.resolve("password").toString()));
        PrintStream out = env().out();

        out.println("Haven demo in " + base);
        out.println("The repository is " + repo + "; its password is in " + base.resolve("password") + ".");
        makeSource(source);
        step(out, "1. Create a repository", "haven init");
        run(demoEnv, "init");
        step(out, "2. First backup of " + source + ": every file is new, so all are read", "haven backup " + source);
        run(demoEnv, "backup", "--tag", "demo", source.toString());

        step(out, "3. Change the source: edit a file, change 4 KiB inside the 24 MiB file, add one, delete one", null);
        Files.writeString(source.resolve("docs/notes-001.txt"), "an edited line\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        try (var ch = java.nio.channels.FileChannel.open(source.resolve("data/big.bin"), java.nio.file.StandardOpenOption.WRITE)) {
            byte[] patch = new byte[4096];
            new Random(7).nextBytes(patch);
            ch.write(java.nio.ByteBuffer.wrap(patch), 10L << 20);
        }
        Files.writeString(source.resolve("docs/new-file.txt"), "added after the first backup\n");
        Files.delete(source.resolve("docs/notes-002.txt"));
        out.println("  edited docs/notes-001.txt and data/big.bin, added docs/new-file.txt, deleted docs/notes-002.txt");

        step(out, "4. Second backup: only changed files are read, and only new chunks are stored", "haven backup " + source);
        run(demoEnv, "backup", "--tag", "demo", source.toString());
        step(out, "5. The snapshots", "haven snapshots");
        run(demoEnv, "snapshots");
        step(out, "6. What changed between them", "haven diff <first> latest");
        String first = firstSnapshot(repo);
        run(demoEnv, "diff", first, "latest");
        step(out, "7. Restore the latest snapshot's copy of the source", "haven restore latest:" + source + " --target " + restored);
        run(demoEnv, "restore", "latest:" + source, "--target", restored.toString());
        int compared = compare(source, restored);
        out.println("  compared " + compared + " entries: the restored tree is identical to the source (content, modes, times)");
        step(out, "8. Verify every byte of the repository", "haven check --read-data");
        run(demoEnv, "check", "--read-data");

        out.println();
        out.println("Done. Try it yourself:");
        out.println("  export HAVEN_REPO=" + repo + " HAVEN_PASSWORD_FILE=" + base.resolve("password"));
        out.println("  ./haven snapshots;  ./haven ls latest;  ./haven backup ~/some/dir;  ./haven restore latest --target /tmp/r");
        return Main.EXIT_OK;
    }

    private static void step(PrintStream out, String title, String command) {
        out.println();
        out.println("== " + title);
        if (command != null) {
            out.println("$ " + command);
        }
    }

    private static void run(Env env, String... args) {
        int code = Main.run(env, args);
        if (code != Main.EXIT_OK) {
            throw new HavenException(ErrorCode.INTERNAL, "demo step 'haven " + String.join(" ", args) + "' failed with exit code " + code);
        }
    }

    private String firstSnapshot(Path repo) {
        var buf = new java.io.ByteArrayOutputStream();
        Env quiet = env().with(Map.of("HAVEN_REPO", repo.toString(), "HAVEN_PASSWORD_FILE", repo.resolveSibling("password").toString()));
        Env capture = new Env(quiet.vars(), quiet.workingDir(), new PrintStream(buf, true, StandardCharsets.UTF_8), env().err(), env().in(), false);
        run(capture, "snapshots", "--json");
        String text = buf.toString(StandardCharsets.UTF_8);
        int at = text.indexOf("\"short_id\":\"");
        return text.substring(at + 12, at + 20);
    }

    private static void prepare(Path base) throws IOException {
        if (Files.exists(base)) {
            if (!Files.exists(base.resolve(MARKER))) {
                throw new HavenException(ErrorCode.USAGE, base + " exists and was not made by 'haven demo'; choose another --dir");
            }
            try (Stream<Path> s = Files.walk(base)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(base);
        Files.writeString(base.resolve(MARKER), "made by haven demo; deleted and recreated on each run\n");
    }

    private static void makeSource(Path source) throws IOException {
        Random rnd = new Random(42);
        Path docs = Files.createDirectories(source.resolve("docs"));
        String[] words = "backup restore failover site replica snapshot chunk pack index tree key".split(" ");
        for (int i = 1; i <= 200; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < 50 + rnd.nextInt(400); k++) {
                sb.append(words[rnd.nextInt(words.length)]).append(k % 12 == 11 ? '\n' : ' ');
            }
            Files.writeString(docs.resolve(String.format("notes-%03d.txt", i)), sb.toString());
        }
        Path data = Files.createDirectories(source.resolve("data"));
        byte[] big = new byte[24 << 20];
        rnd.nextBytes(big);
        Files.write(data.resolve("big.bin"), big);
        Files.write(data.resolve("copy-of-big.bin"), big);
        Files.createDirectories(source.resolve("empty-dir"));
        Files.createSymbolicLink(source.resolve("latest-notes"), Path.of("docs/notes-200.txt"));
        Files.setAttribute(source.resolve("docs/notes-001.txt"), "unix:mode", 0600);
    }

    /** Compares two trees: same names, types, content, link targets, modes and mtimes. */
    private static int compare(Path a, Path b) throws IOException {
        List<Path> left;
        try (Stream<Path> s = Files.walk(a)) {
            left = s.map(a::relativize).sorted().toList();
        }
        List<Path> right;
        try (Stream<Path> s = Files.walk(b)) {
            right = s.map(b::relativize).sorted().toList();
        }
        if (!left.equals(right)) {
            List<Path> diff = new ArrayList<>(left);
            diff.removeAll(right);
            throw new HavenException(ErrorCode.INTERNAL, "restored tree differs from the source, e.g. " + (diff.isEmpty() ? right : diff));
        }
        for (Path rel : left) {
            Path x = a.resolve(rel);
            Path y = b.resolve(rel);
            var ax = Files.readAttributes(x, "unix:mode,lastModifiedTime,size", LinkOption.NOFOLLOW_LINKS);
            var ay = Files.readAttributes(y, "unix:mode,lastModifiedTime,size", LinkOption.NOFOLLOW_LINKS);
            boolean same = ax.equals(ay);
            if (same && Files.isRegularFile(x, LinkOption.NOFOLLOW_LINKS)) {
                same = Files.mismatch(x, y) == -1;
            }
            if (same && Files.isSymbolicLink(x)) {
                same = Files.readSymbolicLink(x).equals(Files.readSymbolicLink(y));
            }
            if (!same) {
                throw new HavenException(ErrorCode.INTERNAL, "restored " + rel + " differs from the source: " + ax + " vs " + ay);
            }
        }
        return left.size();
    }

}
