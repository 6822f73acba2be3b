package io.haven.agent;

import io.haven.protocol.Messages;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A running job's log: lines wait here until the next progress report takes them. Thread-safe. */
final class JobLog {
    private final long jobId;
    private final PrintStream echo;
    private final List<Messages.LogLine> pending = new ArrayList<>();

    JobLog(long jobId, PrintStream echo) {
        this.jobId = jobId;
        this.echo = echo;
    }

    void info(String line) {
        add("info", line);
    }

    void warn(String line) {
        add("warn", line);
    }

    void error(String line) {
        add("error", line);
    }

    synchronized void add(String level, String line) {
        pending.add(new Messages.LogLine(System.currentTimeMillis(), level, line));
        if (echo != null) {
            echo.println("haven agent: job " + jobId + ": " + line);
        }
    }

    /** The lines not yet sent, removed from here. */
    synchronized List<Messages.LogLine> take() {
        List<Messages.LogLine> out = List.copyOf(pending);
        pending.clear();
        return out;
    }

    /** Puts lines back after a report failed, ahead of newer ones. */
    synchronized void putBack(List<Messages.LogLine> lines) {
        pending.addAll(0, lines);
    }
}
