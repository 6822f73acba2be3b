package io.haven.cli;

import io.haven.core.DataSize;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress line on a terminal, redrawn twice a second on stderr: elapsed time, files, bytes
 * (of the total when known), rate and ETA. Does nothing when disabled.
 */
final class Progress implements AutoCloseable {
    private final PrintStream err;
    private final String verb;
    private final String unit;
    private final LongSupplier files;
    private final LongSupplier bytes;
    private final LongSupplier totalFiles;
    private final LongSupplier totalBytes;
    private final long started = System.nanoTime();
    /** When bytes were first seen moving, and how many: the rate counts from there (check reads the index first). */
    private long firstBytesAt = -1;
    private long firstBytes;
    private final Thread thread;
    private volatile boolean done;

    Progress(boolean enabled, PrintStream err, String verb, LongSupplier files, LongSupplier bytes,
            LongSupplier totalFiles, LongSupplier totalBytes) {
        this(enabled, err, verb, "files", files, bytes, totalFiles, totalBytes);
    }

    /** {@code unit}: what {@code files} counts ("files", "packs"). */
    Progress(boolean enabled, PrintStream err, String verb, String unit, LongSupplier files, LongSupplier bytes,
            LongSupplier totalFiles, LongSupplier totalBytes) {
        this.err = err;
        this.verb = verb;
        this.unit = unit;
        this.files = files;
        this.bytes = bytes;
        this.totalFiles = totalFiles;
        this.totalBytes = totalBytes;
        this.thread = enabled ? Thread.ofPlatform().daemon().name("haven-progress").start(this::loop) : null;
    }

    private void loop() {
        while (!done) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
            if (!done) {
                err.print("\r" + line() + "\u001b[K");
                err.flush();
            }
        }
    }

    String line() {
        double secs = (System.nanoTime() - started) / 1e9;
        long f = files.getAsLong();
        long b = bytes.getAsLong();
        long tf = totalFiles.getAsLong();
        long tb = totalBytes.getAsLong();
        long now = System.nanoTime();
        if (firstBytesAt < 0 && b > 0) {
            firstBytesAt = now;
            firstBytes = b;
        }
        double moving = firstBytesAt < 0 ? 0 : (now - firstBytesAt) / 1e9;
        // from the first second of moving bytes on, the rate is theirs; before, the overall one
        double rate = moving >= 1 ? (b - firstBytes) / moving : secs > 0 ? b / secs : 0;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "[%s] %s %,d", clock(secs), verb, f));
        if (tf >= 0) {
            sb.append(String.format(Locale.ROOT, "/%,d", tf));
        }
        sb.append(' ').append(unit).append(", ").append(DataSize.format(b));
        if (tb > 0) {
            sb.append(" / ").append(DataSize.format(tb))
                    .append(String.format(Locale.ROOT, " (%.0f%%)", Math.min(100.0, 100.0 * b / tb)));
        }
        sb.append(", ").append(DataSize.format((long) rate)).append("/s");
        if (tb > 0 && rate > 0 && b < tb) {
            sb.append(", ETA ").append(clock((tb - b) / rate));
        }
        return sb.toString();
    }

    private static String clock(double seconds) {
        long s = (long) seconds;
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%d:%02d", s / 60, s % 60);
    }

    @Override
    public void close() {
        done = true;
        if (thread != null) {
            thread.interrupt();
            err.print("\r\u001b[K");
            err.flush();
        }
    }
}
