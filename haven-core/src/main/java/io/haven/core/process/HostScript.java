package io.haven.core.process;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A shell script run on this host: {@code /bin/sh -c SCRIPT} in a session of its own
 * ({@code setsid}), stdin empty, stdout and stderr together into a temporary file of which the
 * last {@link #OUTPUT_TAIL} bytes are kept. At its timeout or a cancel, the session and every
 * descendant get SIGTERM, and SIGKILL two seconds later, so what the script started in the
 * background goes too. Stateless; each call runs one script on the calling thread. The agent
 * runs DR scripts on hosts with it, the server runs runbook scripts {@code where: server}.
 */
public final class HostScript {
    public static final int OUTPUT_TAIL = 4096;
    private static final Duration KILL_AFTER = Duration.ofSeconds(2);

    /** How a script ended. */
    public enum End {
        /** It exited by itself; {@link Result#exitCode()} is its code. */
        EXITED,
        /** It ran past its timeout and was killed. */
        TIMED_OUT,
        /** The cancel flag was raised and it was killed. */
        CANCELLED,
        /** The thread was interrupted without a cancel (the agent is stopping) and it was killed. */
        INTERRUPTED,
        /** It could not be started; {@link Result#detail()} says why. */
        NOT_STARTED
    }

    /** The outcome: exit code -1 unless it {@link End#EXITED}. */
    public record Result(End end, int exitCode, String output, Duration took, String detail) {}

    private HostScript() {}

    public static Result run(String script, Map<String, String> env, Path workDir, Duration timeout, BooleanSupplier cancelled) {
        List<String> cmd = new ArrayList<>();
        boolean session = Files.isExecutable(Path.of("/usr/bin/setsid"));
        if (session) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.addAll(List.of("/bin/sh", "-c", script));
        Path output;
        try {
            output = Files.createTempFile("haven-script-", ".log");
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot create the script's output file: " + e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().putAll(env);
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                return new Result(End.NOT_STARTED, -1, "", took(t0), e.getMessage());
            }
            long end = t0 + timeout.toNanos();
            while (true) {
                boolean exited;
                try {
                    exited = p.waitFor(Math.max(1, Math.min(200, (end - System.nanoTime()) / 1_000_000)), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    if (!cancelled.getAsBoolean()) {
                        killTree(p, session);
                        Thread.currentThread().interrupt();
                        return new Result(End.INTERRUPTED, -1, tail(output), took(t0), null);
                    }
                    exited = false; // a cancel: handled below
                }
                if (exited) {
                    return new Result(End.EXITED, p.exitValue(), tail(output), took(t0), null);
                }
                if (cancelled.getAsBoolean()) {
                    killTree(p, session);
                    return new Result(End.CANCELLED, -1, tail(output), took(t0), null);
                }
                if (System.nanoTime() >= end) {
                    killTree(p, session);
                    return new Result(End.TIMED_OUT, -1, tail(output), took(t0), null);
                }
            }
        } finally {
            try {
                Files.deleteIfExists(output);
            } catch (IOException e) {
                // a temporary file left behind; nothing depends on it
            }
        }
    }

    private static Duration took(long t0) {
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** SIGTERM to the script's session and every descendant, SIGKILL to what is left after {@link #KILL_AFTER}. */
    private static void killTree(Process p, boolean session) {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(0, p.toHandle());
        if (session) {
            signalGroup(p.pid(), "TERM");
        }
        all.forEach(ProcessHandle::destroy);
        waitGone(all, KILL_AFTER);
        if (session) {
            signalGroup(p.pid(), "KILL");
        }
        all.forEach(ProcessHandle::destroyForcibly);
        waitGone(all, Duration.ofSeconds(5));
    }

    private static void signalGroup(long pgid, String signal) {
        try {
            Process k = new ProcessBuilder("kill", "-" + signal, "--", "-" + pgid).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            k.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no kill(1): the descendants are signalled one by one anyway
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void waitGone(List<ProcessHandle> all, Duration within) {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end && all.stream().anyMatch(HostScript::running)) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Alive and not a zombie: an orphan that died waits to be reaped by init, which in some
     * containers never happens; it runs no more.
     */
    private static boolean running(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(h.pid()), "stat"), StandardCharsets.US_ASCII);
            int close = stat.lastIndexOf(')');
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (IOException | RuntimeException e) {
            return h.isAlive();
        }
    }

    /** The last {@link #OUTPUT_TAIL} bytes of the output, as text. */
    private static String tail(Path f) {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "r")) {
            long len = r.length();
            int n = (int) Math.min(len, OUTPUT_TAIL);
            byte[] b = new byte[n];
            r.seek(len - n);
            r.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
