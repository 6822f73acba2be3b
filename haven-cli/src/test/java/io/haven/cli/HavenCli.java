package io.haven.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the built distribution's {@code bin/haven} as a separate process, as a user would, with
 * a repository and password in its environment.
 */
final class HavenCli {
    /** What a run printed and returned. */
    record Result(int exit, String out, String err) {
        Result expect(int code) {
            if (exit != code) {
                throw new AssertionError("expected exit " + code + " but got " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err);
            }
            return this;
        }
    }

    private final Map<String, String> env = new HashMap<>();
    private List<String> prefix = List.of();

    HavenCli(Path repo, String password) {
        env.put("HAVEN_REPO", repo.toString());
        env.put("HAVEN_PASSWORD", password);
    }

    static Path dist() {
        String d = System.getProperty("haven.dist");
        if (d == null) {
            throw new IllegalStateException("system property haven.dist is not set: run through 'mvn verify'");
        }
        return Path.of(d);
    }

    HavenCli env(String key, String value) {
        if (value == null) {
            env.remove(key);
        } else {
            env.put(key, value);
        }
        return this;
    }

    /** Runs the command through a prefix such as {@code setpriv --reuid=65534 …}. */
    HavenCli via(String... command) {
        prefix = List.of(command);
        return this;
    }

    ProcessBuilder builder(String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(dist().resolve("bin/haven").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("HAVEN_PASSWORD_FILE");
        pb.environment().putAll(env);
        pb.environment().putIfAbsent("HAVEN_HEAP", "256m");
        if (!env.containsKey("HAVEN_CACHE_DIR") && !env.containsKey("XDG_CACHE_HOME")) {
            // the JVM start-up cache and the repositories' caches of the tests stay under
            // target/, away from the user's: a start-up cache recorded by a test's tiny backup
            // made later real backups slower, and every test repository left an index copy
            pb.environment().put("HAVEN_CACHE_DIR", dist().resolveSibling("it-cache").toString());
        }
        return pb;
    }

    Result run(String... args) {
        return run(builder(args), String.join(" ", args));
    }

    /**
     * Runs the command with arguments given as bytes, also bytes that are not valid UTF-8, as a
     * shell passes them: a Java process can only pass text, so bash writes each byte as
     * {@code $'\xHH'} and runs {@code bin/haven} (without a {@link #via} prefix).
     */
    Result runRaw(byte[]... args) {
        StringBuilder script = new StringBuilder("exec \"$0\"");
        StringBuilder label = new StringBuilder();
        for (byte[] a : args) {
            script.append(" $'");
            for (byte b : a) {
                script.append(String.format("\\x%02x", b & 0xff));
            }
            script.append('\'');
            label.append(' ').append(io.haven.repository.fs.FileNames.display(a));
        }
        ProcessBuilder pb = builder();
        pb.command(List.of("bash", "-c", script.toString(), dist().resolve("bin/haven").toString()));
        return run(pb, label.toString().trim());
    }

    /** The UTF-8 bytes of {@code text} followed by the bytes {@code more}: an argument for {@link #runRaw}. */
    static byte[] bytes(String text, int... more) {
        byte[] a = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        for (int i = 0; i < more.length; i++) {
            out[a.length + i] = (byte) more[i];
        }
        return out;
    }

    private Result run(ProcessBuilder builder, String label) {
        try {
            Path out = Files.createTempFile("haven-out", ".txt");
            Path err = Files.createTempFile("haven-err", ".txt");
            try {
                Process p = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(5, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new AssertionError("haven " + label + " did not finish in 5 minutes");
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run haven", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static boolean isRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    static String sh(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
