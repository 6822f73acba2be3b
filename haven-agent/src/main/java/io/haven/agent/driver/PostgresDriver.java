package io.haven.agent.driver;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The {@code postgres} driver: a PostgreSQL cluster whose data directory is the workload's
 * {@code data} volume, run with the machine's own binaries ({@code pg_ctl}, {@code initdb},
 * {@code pg_basebackup}, {@code pg_rewind}, {@code psql}) as the cluster's OS user.
 *
 * <p>Beyond the {@link Driver} contract it does what a DR copy of a database needs:
 * {@link #seedStandby} makes a streaming-replication standby from a base backup of the primary,
 * {@link #promote} turns a standby into a primary (failover), and {@link #rejoinAsStandby}
 * rewinds an old primary with {@code pg_rewind} — or, when that cannot work, re-seeds it — and
 * makes it a standby of the new primary (failback).
 *
 * <p>Settings: {@code port} (required), {@code osUser} (default {@code postgres} when the agent
 * runs as root), {@code superuser} (the database role Haven connects as, default {@code haven}),
 * {@code bin} (default: the newest {@code /usr/lib/postgresql/N/bin}), {@code initdb} ({@code true}
 * to create an empty cluster when the volume is empty), {@code hba} (extra {@code pg_hba.conf}
 * lines for clusters it creates; the default trusts loopback only) and {@code config} (extra
 * {@code postgresql.conf} settings). The server listens on the instance's bind address; unix
 * sockets are off, so nothing depends on directory permissions.
 */
public final class PostgresDriver implements Driver {
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(10);

    @Override
    public String kind() {
        return "postgres";
    }

    @Override
    public void validate(WorkloadInstance w) {
        for (String s : w.settings().keySet()) {
            if (!List.of("port", "osUser", "superuser", "bin", "initdb", "hba", "config").contains(s)) {
                throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + ": the postgres driver has no setting '" + s
                        + "' (it takes port, osUser, superuser, bin, initdb, hba, config)");
            }
        }
        port(w);
        if (!w.volumes().containsKey("data")) {
            throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + ": the postgres driver needs a volume named 'data' "
                    + "(the cluster's data directory)");
        }
        if (w.bindAddress() == null || w.bindAddress().isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + ": the postgres driver needs the address to listen on");
        }
        bin(w);
    }

    static int port(WorkloadInstance w) {
        Object p = w.settings().get("port");
        int port = p instanceof Number n ? n.intValue() : p instanceof String s && s.matches("\\d{1,5}") ? Integer.parseInt(s) : -1;
        if (port < 1 || port > 65535) {
            throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + ": 'port' must be 1..65535, not " + p);
        }
        return port;
    }

    static Path bin(WorkloadInstance w) {
        Object b = w.settings().get("bin");
        if (b != null) {
            Path p = Path.of(b.toString());
            if (!Files.isExecutable(p.resolve("pg_ctl"))) {
                throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + ": no pg_ctl in 'bin' " + p);
            }
            return p;
        }
        try (Stream<Path> s = Files.list(Path.of("/usr/lib/postgresql"))) {
            return s.map(p -> p.resolve("bin")).filter(p -> Files.isExecutable(p.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getParent().getFileName().toString().replaceAll("\\D", "0"))))
                    .orElseThrow(() -> new HavenException(ErrorCode.USAGE, "no PostgreSQL binaries in /usr/lib/postgresql; set 'bin'"));
        } catch (IOException e) {
            throw new HavenException(ErrorCode.USAGE, "no PostgreSQL binaries in /usr/lib/postgresql (" + e.getMessage() + "); set 'bin'");
        }
    }

    static String osUser(WorkloadInstance w) {
        Object u = w.settings().get("osUser");
        if (u != null) {
            return u.toString();
        }
        return "root".equals(System.getProperty("user.name")) ? "postgres" : System.getProperty("user.name");
    }

    static String superuser(WorkloadInstance w) {
        Object u = w.settings().get("superuser");
        return u == null ? "haven" : u.toString();
    }

    private static Path data(WorkloadInstance w) {
        return w.volumes().get("data");
    }

    @Override
    public void prepare(WorkloadInstance w) {
        validate(w);
        Path data = data(w);
        try {
            Files.createDirectories(data);
            Files.createDirectories(w.runDir());
            own(w, data);
            own(w, w.runDir());
            run(w, List.of("chmod", "700", data.toString()), false);
            if (!run(w, List.of("test", "-w", data.toString()), true).ok()) {
                throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": the OS user " + osUser(w) + " cannot write " + data
                        + " (is every parent directory traversable by it?)");
            }
            if (Boolean.TRUE.equals(w.settings().get("initdb")) && isEmpty(data)) {
                initdb(w);
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": cannot prepare " + data + ": " + e.getMessage(), e);
        }
    }

    private void initdb(WorkloadInstance w) throws IOException {
        Path data = data(w);
        run(w, List.of(bin(w).resolve("initdb").toString(), "-D", data.toString(), "-U", superuser(w), "--auth=trust", "-E", "UTF8",
                "--no-instructions"), false);
        StringBuilder conf = new StringBuilder("\n# written by Haven's postgres driver\n")
                .append("wal_level = replica\nmax_wal_senders = 10\nhot_standby = on\nwal_log_hints = on\n")
                .append("wal_keep_size = '256MB'\n");
        Object extra = w.settings().get("config");
        if (extra instanceof Map<?, ?> m) {
            m.forEach((k, v) -> conf.append(k).append(" = '").append(String.valueOf(v).replace("'", "''")).append("'\n"));
        }
        Files.writeString(data.resolve("postgresql.conf"), conf.toString(), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        StringBuilder hba = new StringBuilder("\n# written by Haven's postgres driver\n")
                .append("host all all 127.0.0.0/8 trust\nhost replication all 127.0.0.0/8 trust\n");
        Object lines = w.settings().get("hba");
        if (lines instanceof List<?> l) {
            l.forEach(x -> hba.append(x).append('\n'));
        }
        Files.writeString(data.resolve("pg_hba.conf"), hba.toString(), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
    }

    @Override
    public void start(WorkloadInstance w) {
        validate(w);
        if (running(w)) {
            return;
        }
        prepare(w);
        if (!Files.exists(data(w).resolve("PG_VERSION"))) {
            throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": " + data(w) + " holds no PostgreSQL cluster (set initdb, "
                    + "or seed it as a standby)");
        }
        run(w, List.of(bin(w).resolve("pg_ctl").toString(), "-D", data(w).toString(), "-l", w.runDir().resolve("postgres.log").toString(),
                "-o", "-c port=" + port(w) + " -c listen_addresses=" + w.bindAddress() + " -c unix_socket_directories=''",
                "-w", "-t", "120", "start"), false);
    }

    @Override
    public void stop(WorkloadInstance w, Duration grace) {
        if (data(w) == null || !running(w)) {
            return;
        }
        Outcome o = run(w, List.of(bin(w).resolve("pg_ctl").toString(), "-D", data(w).toString(), "-m", "fast", "-w", "-t",
                String.valueOf(Math.max(1, grace.toSeconds())), "stop"), true);
        if (!o.ok() && running(w)) {
            run(w, List.of(bin(w).resolve("pg_ctl").toString(), "-D", data(w).toString(), "-m", "immediate", "-w", "-t", "60", "stop"), false);
        }
    }

    @Override
    public boolean running(WorkloadInstance w) {
        if (data(w) == null || !Files.exists(data(w).resolve("postmaster.pid"))) {
            return false;
        }
        return run(w, List.of(bin(w).resolve("pg_ctl").toString(), "-D", data(w).toString(), "status"), true).ok();
    }

    /** A checkpoint, so the data files on the volume are as recent as can be for a snapshot. */
    @Override
    public void quiesce(WorkloadInstance w) {
        if (running(w) && !isStandby(w)) {
            sql(w, "CHECKPOINT");
        }
    }

    @Override
    public void unquiesce(WorkloadInstance w) {
        // nothing to undo: a checkpoint does not pause writes
    }

    /** Runs one SQL statement as the superuser and returns its output (unaligned, tuples only). */
    public String sql(WorkloadInstance w, String statement) {
        return run(w, List.of(bin(w).resolve("psql").toString(), "-h", w.bindAddress(), "-p", String.valueOf(port(w)), "-U", superuser(w),
                "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-Atc", statement), false).output().trim();
    }

    public boolean isStandby(WorkloadInstance w) {
        return "t".equals(sql(w, "SELECT pg_is_in_recovery()"));
    }

    /**
     * Makes this instance a streaming-replication standby of {@code primaryHost:primaryPort}: a base
     * backup into the (empty, or emptied when {@code replace}) data volume, with the standby
     * configuration written ({@code -R}), then starts it.
     */
    public void seedStandby(WorkloadInstance w, String primaryHost, int primaryPort, boolean replace) {
        validate(w);
        if (running(w)) {
            if (!replace) {
                throw new HavenException(ErrorCode.CONFLICT, "workload " + w.name() + ": a cluster runs in " + data(w) + "; stop it or replace it");
            }
            stop(w, Duration.ofSeconds(30));
        }
        prepare(w);
        try {
            if (!isEmpty(data(w))) {
                if (!replace) {
                    throw new HavenException(ErrorCode.CONFLICT, "workload " + w.name() + ": " + data(w) + " is not empty; a standby is "
                            + "seeded into an empty volume (or replace it)");
                }
                run(w, List.of("find", data(w).toString(), "-mindepth", "1", "-delete"), false);
            }
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot read " + data(w) + ": " + e.getMessage(), e);
        }
        run(w, List.of(bin(w).resolve("pg_basebackup").toString(), "-h", primaryHost, "-p", String.valueOf(primaryPort), "-U", superuser(w),
                "-D", data(w).toString(), "-R", "-X", "stream", "-c", "fast"), false);
        start(w);
    }

    /** Promotes a standby to primary (failover) and waits until it accepts writes. */
    public void promote(WorkloadInstance w) {
        run(w, List.of(bin(w).resolve("pg_ctl").toString(), "-D", data(w).toString(), "-w", "-t", "120", "promote"), false);
    }

    /**
     * Makes an old primary a standby of the new one (failback): stops it, rewinds it with
     * {@code pg_rewind} to where the timelines forked, writes the standby configuration and starts
     * it. When rewinding fails (the WAL it needs is gone, or the cluster cannot be rewound) it is
     * re-seeded from a base backup instead. Returns how it was done: {@code rewound} or {@code reseeded}.
     */
    public String rejoinAsStandby(WorkloadInstance w, String newPrimaryHost, int newPrimaryPort) {
        stop(w, Duration.ofSeconds(60));
        String source = "host=" + newPrimaryHost + " port=" + newPrimaryPort + " user=" + superuser(w) + " dbname=postgres";
        Outcome o = run(w, List.of(bin(w).resolve("pg_rewind").toString(), "--target-pgdata=" + data(w), "--source-server=" + source,
                "--write-recovery-conf"), true);
        if (o.ok()) {
            start(w);
            return "rewound";
        }
        seedStandby(w, newPrimaryHost, newPrimaryPort, true);
        return "reseeded";
    }

    /**
     * Whether this stopped old primary can follow {@code newPrimaryHost:newPrimaryPort} as it is:
     * {@code pg_rewind --dry-run} says no rewind is required, so the new primary has every
     * transaction it holds (as after a graceful stop whose shutdown checkpoint the new primary
     * replayed). False while it runs, or when following would throw away anything.
     */
    public boolean canFollowWithoutRewind(WorkloadInstance w, String newPrimaryHost, int newPrimaryPort) {
        if (running(w)) {
            return false;
        }
        String source = "host=" + newPrimaryHost + " port=" + newPrimaryPort + " user=" + superuser(w) + " dbname=postgres";
        Outcome o = run(w, List.of(bin(w).resolve("pg_rewind").toString(), "--dry-run", "--target-pgdata=" + data(w),
                "--source-server=" + source), true);
        return o.ok() && o.output().contains("no rewind required");
    }

    /** Whether the data volume holds a cluster (its {@code PG_VERSION}), running or not. */
    public boolean holdsCluster(WorkloadInstance w) {
        return data(w) != null && run(w, List.of("test", "-e", data(w).resolve("PG_VERSION").toString()), true).ok();
    }

    /** Whether the cluster on the volume is configured as a standby ({@code standby.signal}), running or not. */
    public boolean configuredAsStandby(WorkloadInstance w) {
        return data(w) != null && run(w, List.of("test", "-e", data(w).resolve("standby.signal").toString()), true).ok();
    }

    /**
     * {@code pg_controldata}'s fields for the cluster on the volume (running or not), by name:
     * {@code Database cluster state}, {@code Latest checkpoint location}, …
     */
    public Map<String, String> controlData(WorkloadInstance w) {
        String out = run(w, List.of(bin(w).resolve("pg_controldata").toString(), "-D", data(w).toString()), false).output();
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int c = line.indexOf(':');
            if (c > 0) {
                m.put(line.substring(0, c).trim(), line.substring(c + 1).trim());
            }
        }
        return m;
    }

    /**
     * A stand-alone copy of the cluster at {@code sourceHost:sourcePort} (a primary or a standby),
     * for a drill's sandbox: a base backup into the volume (replacing what it holds), WAL archiving
     * switched off (so the copy never writes into the production archive), promoted onto a timeline
     * of its own, so it follows nothing, and left stopped.
     */
    public void seedIsolatedCopy(WorkloadInstance w, String sourceHost, int sourcePort) {
        seedStandby(w, sourceHost, sourcePort, true);
        stop(w, Duration.ofSeconds(30));
        run(w, List.of("sh", "-c", "printf '%s\\n' \"# a drill's sandbox copy (Haven)\" \"archive_mode = 'off'\" >> \"$1\"", "sh",
                data(w).resolve("postgresql.auto.conf").toString()), false);
        start(w);
        promote(w);
        stop(w, Duration.ofSeconds(30));
    }

    /** Seconds since the last transaction a standby replayed was committed (-1 when none yet). */
    public double replayLagSeconds(WorkloadInstance w) {
        String s = sql(w, "SELECT COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), -1)");
        return Double.parseDouble(s);
    }

    // --- running commands as the cluster's OS user

    record Outcome(boolean ok, String output) {}

    private static void own(WorkloadInstance w, Path dir) {
        String user = osUser(w);
        if ("root".equals(System.getProperty("user.name")) && !"root".equals(user)) {
            List<String> chown = new ArrayList<>(List.of("chown", user, dir.toString()));
            Outcome o = exec(chown);
            if (!o.ok()) {
                throw new HavenException(ErrorCode.IO, "cannot give " + dir + " to " + user + ": " + o.output().trim());
            }
        }
    }

    private static Outcome run(WorkloadInstance w, List<String> cmd, boolean mayFail) {
        String user = osUser(w);
        List<String> full = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name")) && !"root".equals(user)) {
            full.addAll(List.of("runuser", "-u", user, "--"));
        }
        full.addAll(cmd);
        Outcome o = exec(full);
        if (!o.ok() && !mayFail) {
            throw new HavenException(ErrorCode.IO, "workload " + w.name() + ": " + Path.of(cmd.get(0)).getFileName() + " failed: "
                    + last(o.output()));
        }
        return o;
    }

    private static Outcome exec(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Outcome(false, String.join(" ", cmd) + " timed out");
            }
            return new Outcome(p.exitValue() == 0, new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Outcome(false, "cannot run " + cmd.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(false, "interrupted");
        }
    }

    private static String last(String output) {
        List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "(no output)" : String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
