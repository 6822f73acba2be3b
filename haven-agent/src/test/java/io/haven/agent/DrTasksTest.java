package io.haven.agent;

import io.haven.core.process.HostScript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.haven.agent.driver.PostgresDriver;
import io.haven.agent.driver.WorkloadInstance;
import io.haven.protocol.Messages;
import io.haven.repository.Repository;
import io.haven.repository.backend.LocalBackend;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DR operations on this host, driven directly (no server): real process workloads, a real
 * repository on a local directory, real PostgreSQL clusters (when the machine has them and the
 * test runs as root), real scripts and probes.
 */
class DrTasksTest {
    private static final char[] PASSWORD = "dr-test".toCharArray();

    @TempDir
    Path dir;

    private Path repoDir;
    private final AtomicBoolean cancel = new AtomicBoolean();
    private final JobLog log = new JobLog(1, null);
    /** Run directories of process instances to stop after each test. */
    private final List<WorkloadInstance> started = new ArrayList<>();

    @BeforeEach
    void repository() {
        repoDir = dir.resolve("repo");
        Repository.init(new LocalBackend(repoDir), PASSWORD, 8192, new Repository.Actor("test", "test"), InstantSource.system(),
                new SecureRandom()).close();
    }

    @AfterEach
    void stopLeftovers() {
        for (WorkloadInstance w : started) {
            new io.haven.agent.driver.ProcessDriver().stop(w, Duration.ofSeconds(2));
        }
    }

    private DrTasks tasks(Path home) {
        return tasks(home, Fences.load(home));
    }

    private DrTasks tasks(Path home, Fences fences) {
        return new DrTasks(home, "dr", fences, () -> Repository.open(new LocalBackend(repoDir), PASSWORD, InstantSource.system(),
                new SecureRandom()), log, cancel::get, 2, c -> {}, InstantSource.system());
    }

    /** A DrSpec with the fields a test sets. */
    static final class Spec {
        String op;
        String run;
        String plan = "shop";
        String workload = "app";
        String driver = "process";
        Map<String, String> options = new LinkedHashMap<>();
        List<String> volumes = List.of();
        String bind;
        boolean sandbox;
        String snapshot;
        List<String> snapshotPaths;
        String host;
        String primary;
        String lsn;
        Messages.ProbeSpec probe;
        Long deadline;
        String script;
        Long timeoutMillis;
        Map<String, String> env;

        Spec(String op) {
            this.op = op;
        }

        Spec op(String o) {
            op = o;
            return this;
        }

        Spec option(String k, String v) {
            options.put(k, v);
            return this;
        }

        Spec volumes(Path... p) {
            volumes = Stream.of(p).map(Path::toString).toList();
            return this;
        }

        Spec snapshot(String id, Path... paths) {
            snapshot = id;
            snapshotPaths = Stream.of(paths).map(Path::toString).toList();
            return this;
        }

        Spec sandbox(String r) {
            sandbox = true;
            run = r;
            return this;
        }

        Messages.DrSpec build() {
            return new Messages.DrSpec(op, run, "cmd-1", plan, workload, driver, options, volumes, bind, sandbox, snapshot, snapshotPaths,
                    host, primary, lsn, probe, deadline, script, timeoutMillis, env);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> point(TaskRunner.Outcome o) {
        return (Map<String, Object>) o.result().get("point");
    }

    private static void write(Path f, String text) throws IOException {
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }

    // ---------------------------------------------------------------- process copies from snapshots

    @Test
    void aProcessCopyIsHydratedWritingOnlyWhatDiffersAndTheFinalSnapshotIsApplied() throws Exception {
        Path srcA = dir.resolve("hq/app/a");
        Path srcB = dir.resolve("hq/app/b");
        write(srcA.resolve("a1.txt"), "one");
        write(srcA.resolve("sub/a2.txt"), "two");
        write(srcB.resolve("b1.txt"), "three");
        DrTasks hq = tasks(dir.resolve("hq-agent"));
        Spec backup = new Spec("backup").option("command", "sleep 1000").volumes(srcA, srcB);
        backup.host = "hq-app-1";
        TaskRunner.Outcome first = hq.run(backup.build());
        assertThat(first.status()).as(first.message()).isEqualTo("succeeded");
        String snap1 = (String) point(first).get("snapshot");
        assertThat(Instant.parse((String) point(first).get("time"))).isBefore(Instant.now().plusSeconds(1));
        try (Repository repo = Repository.open(new LocalBackend(repoDir), PASSWORD, InstantSource.system(), new SecureRandom())) {
            Repository.SnapshotEntry e = repo.resolve(snap1);
            assertThat(e.snapshot().tags()).containsExactlyInAnyOrder("haven-dr", "plan:shop", "workload:app");
            assertThat(e.snapshot().host()).isEqualTo("hq-app-1");
        }

        Path dstA = dir.resolve("dr/app/a");
        Path dstB = dir.resolve("dr/app/b");
        DrTasks drSite = tasks(dir.resolve("dr-agent"));
        Spec prepare = new Spec("prepare").option("command", "sleep 1000").volumes(dstA, dstB).snapshot(snap1, srcA, srcB);
        TaskRunner.Outcome prepared = drSite.run(prepare.build());
        assertThat(prepared.status()).as(prepared.message()).isEqualTo("succeeded");
        assertThat(point(prepared)).containsEntry("snapshot", snap1);
        assertThat(prepared.result()).containsEntry("files_written", 3L);
        assertThat(Files.readString(dstA.resolve("sub/a2.txt"))).isEqualTo("two");
        assertThat(Files.readString(dstB.resolve("b1.txt"))).isEqualTo("three");
        assertThat(dir.resolve("dr-agent/dr/shop/app/run")).isDirectory();

        // the keeper hydrates again: nothing differs, nothing is written
        TaskRunner.Outcome again = drSite.run(prepare.op("hydrate").build());
        assertThat(again.status()).as(again.message()).isEqualTo("succeeded");
        assertThat(again.result()).containsEntry("files_written", 0L).containsEntry("files_kept", 3L);

        // the workload changes, stops; its final snapshot is incremental and applied as a delta
        write(srcA.resolve("a1.txt"), "one, changed");
        write(srcA.resolve("new.txt"), "new");
        Files.delete(srcB.resolve("b1.txt"));
        TaskRunner.Outcome last = hq.run(backup.build());
        assertThat(last.status()).as(last.message()).isEqualTo("succeeded");
        assertThat(last.result()).containsEntry("parent", snap1).containsEntry("files_unmodified", 1L);
        String snap2 = (String) point(last).get("snapshot");
        TaskRunner.Outcome applied = drSite.run(new Spec("apply").option("command", "sleep 1000").volumes(dstA, dstB)
                .snapshot(snap2, srcA, srcB).build());
        assertThat(applied.status()).as(applied.message()).isEqualTo("succeeded");
        assertThat(applied.result()).containsEntry("files_written", 2L).containsEntry("files_kept", 1L).containsEntry("deleted", 1L);
        assertThat(Files.readString(dstA.resolve("a1.txt"))).isEqualTo("one, changed");
        assertThat(dstB.resolve("b1.txt")).doesNotExist();

        // a copy that runs is never overwritten
        TaskRunner.Outcome up = drSite.run(new Spec("start").option("command", "sleep 1000").volumes(dstA, dstB).build());
        assertThat(up.status()).as(up.message()).isEqualTo("succeeded");
        started.add(new WorkloadInstance("app", Map.of(), null, Map.of(), dir.resolve("dr-agent/dr/shop/app/run")));
        TaskRunner.Outcome refused = drSite.run(prepare.op("hydrate").build());
        assertThat(refused.status()).isEqualTo("failed");
        assertThat(refused.message()).contains("workload app runs here; stop it first");

        Spec web = new Spec("prepare").volumes(dir.resolve("dr/web"));
        web.workload = "web";
        TaskRunner.Outcome none = drSite.run(web.build());
        assertThat(none.status()).isEqualTo("failed");
        assertThat(none.message()).isEqualTo("no recoverable point for web: the task names no snapshot");
    }

    @Test
    void aSandboxNeverTouchesProductionVolumesAndCleanupRemovesIt() throws Exception {
        Path src = dir.resolve("hq/app/data");
        write(src.resolve("page.html"), "v1");
        Spec backup = new Spec("backup").volumes(src);
        backup.host = "hq-app-1";
        String snap = (String) point(tasks(dir.resolve("hq-agent")).run(backup.build())).get("snapshot");

        Path production = dir.resolve("dr/app/data");
        write(production.resolve("page.html"), "production copy");
        Path home = dir.resolve("dr-agent");
        DrTasks drSite = tasks(home);
        Spec sandbox = new Spec("prepare").sandbox("drill-1").volumes(production).snapshot(snap, src)
                .option("command", "sh -c 'echo from the sandbox > ${volume.data}/written; exec sleep 1000'");
        TaskRunner.Outcome prepared = drSite.run(sandbox.build());
        assertThat(prepared.status()).as(prepared.message()).isEqualTo("succeeded");
        Path v0 = home.resolve("sandbox/drill-1/app/v0");
        assertThat(Files.readString(v0.resolve("page.html"))).isEqualTo("v1");
        assertThat(home.resolve("sandbox/drill-1/app/instance.json")).exists();

        TaskRunner.Outcome up = drSite.run(sandbox.op("start").build());
        assertThat(up.status()).as(up.message()).isEqualTo("succeeded");
        Path run = home.resolve("sandbox/drill-1/app/run");
        started.add(new WorkloadInstance("app", Map.of(), null, Map.of(), run));
        long pid = Long.parseLong(Files.readString(run.resolve("pid")).trim().split("\\s+")[0]);
        for (int i = 0; i < 100 && !Files.exists(v0.resolve("written")); i++) {
            Thread.sleep(20);
        }
        assertThat(v0.resolve("written")).exists();
        try (Stream<Path> l = Files.list(production)) {
            assertThat(l.map(p -> p.getFileName().toString()).toList()).containsExactly("page.html");
        }
        assertThat(Files.readString(production.resolve("page.html"))).isEqualTo("production copy");
        assertThat(home.resolve("dr")).doesNotExist();

        TaskRunner.Outcome cleaned = drSite.run(new Spec("cleanup").sandbox("drill-1").build());
        assertThat(cleaned.status()).as(cleaned.message()).isEqualTo("succeeded");
        assertThat(cleaned.message()).contains("stopped app");
        assertThat(home.resolve("sandbox/drill-1")).doesNotExist();
        assertThat(runs(pid)).isFalse();
        assertThat(Files.readString(production.resolve("page.html"))).isEqualTo("production copy");
        TaskRunner.Outcome twice = drSite.run(new Spec("cleanup").sandbox("drill-1").build());
        assertThat(twice.status()).isEqualTo("succeeded");
        assertThat(twice.message()).isEqualTo("no sandbox of run drill-1 here");
    }

    // ---------------------------------------------------------------- start, stop, probes

    @Test
    void startAndStopAreIdempotentAndAProbeTurnsGreen() throws Exception {
        Path data = dir.resolve("dr/app/data");
        DrTasks drSite = tasks(dir.resolve("dr-agent"));
        Spec app = new Spec("start").volumes(data).option("command", "sh -c 'touch ${volume.data}/up; exec sleep 1000'");
        started.add(new WorkloadInstance("app", Map.of(), null, Map.of(), dir.resolve("dr-agent/dr/shop/app/run")));
        assertThat(drSite.run(app.build()).message()).isEqualTo("app started");
        assertThat(drSite.run(app.build()).message()).isEqualTo("app already runs");

        Spec probe = new Spec("probe");
        probe.probe = new Messages.ProbeSpec("command", null, null, null, null, "test -e '" + data.resolve("up") + "'");
        probe.deadline = System.currentTimeMillis() + 10_000;
        TaskRunner.Outcome green = drSite.run(probe.build());
        assertThat(green.status()).as(green.message()).isEqualTo("succeeded");
        assertThat(green.message()).startsWith("green after ");
        // a command probe gets the workload's placeholders, as its command does
        Spec placeholders = new Spec("probe").volumes(data);
        placeholders.probe = new Messages.ProbeSpec("command", null, null, null, null, "test -e ${volume.data}/up");
        placeholders.deadline = System.currentTimeMillis() + 10_000;
        TaskRunner.Outcome expanded = drSite.run(placeholders.build());
        assertThat(expanded.status()).as(expanded.message()).isEqualTo("succeeded");
        placeholders.probe = new Messages.ProbeSpec("command", null, null, null, null, "test -e ${volume.nope}/up");
        TaskRunner.Outcome unknown = drSite.run(placeholders.build());
        assertThat(unknown.status()).isEqualTo("failed");
        assertThat(unknown.message()).contains("unknown placeholder", "${volume.data}");
        try (ServerSocket listening = new ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            probe.probe = new Messages.ProbeSpec("tcp", "127.0.0.1", listening.getLocalPort(), null, null, null);
            TaskRunner.Outcome tcp = drSite.run(probe.build());
            assertThat(tcp.status()).as(tcp.message()).isEqualTo("succeeded");
            assertThat(tcp.message()).contains("connected to 127.0.0.1:" + listening.getLocalPort());
        }

        Spec stop = new Spec("stop").volumes(data).option("command", "sleep 1000");
        stop.timeoutMillis = 2000L;
        assertThat(drSite.run(stop.build()).message()).isEqualTo("app stopped");
        assertThat(drSite.run(stop.build()).message()).startsWith("app was not running here");
    }

    @Test
    void aProbeThatNeverTurnsGreenFailsAtItsDeadline() {
        int port = freePort();
        Spec probe = new Spec("probe");
        probe.probe = new Messages.ProbeSpec("tcp", "127.0.0.1", port, null, null, null);
        probe.deadline = System.currentTimeMillis() + 1500;
        long t0 = System.nanoTime();
        TaskRunner.Outcome o = tasks(dir.resolve("agent")).run(probe.build());
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(o.status()).isEqualTo("failed");
        assertThat(o.message()).startsWith("not green by the deadline").contains("last: ").contains("onnect");
        assertThat(took).isBetween(Duration.ofMillis(1400), Duration.ofSeconds(5));
    }

    @Test
    void aCancelledProbeStopsPromptly() throws Exception {
        Spec probe = new Spec("probe");
        probe.probe = new Messages.ProbeSpec("command", null, null, null, null, "exit 1");
        probe.deadline = System.currentTimeMillis() + 60_000;
        DrTasks t = tasks(dir.resolve("agent"));
        Thread[] runner = new Thread[1];
        CompletableFuture<TaskRunner.Outcome> f = CompletableFuture.supplyAsync(() -> {
            runner[0] = Thread.currentThread();
            return t.run(probe.build());
        });
        Thread.sleep(800);
        long t0 = System.nanoTime();
        cancel.set(true); // as AgentDaemon cancels: the flag, then an interrupt
        runner[0].interrupt();
        TaskRunner.Outcome o = f.get(5, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        assertThat(o.status()).isEqualTo("cancelled");
        assertThat(o.message()).contains("probing stopped after");
    }

    // ---------------------------------------------------------------- scripts

    @Test
    void aScriptThatOutlivesItsTimeoutIsKilledWithWhatItStarted() throws Exception {
        Path childPid = dir.resolve("child.pid");
        Spec script = new Spec("script");
        script.script = "sleep 60 & echo $! > '" + childPid + "'; echo started; wait";
        script.timeoutMillis = 800L;
        long t0 = System.nanoTime();
        TaskRunner.Outcome o = tasks(dir.resolve("agent")).run(script.build());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(o.status()).isEqualTo("failed");
        assertThat(o.message()).isEqualTo("script still running after 0.8 s: killed");
        assertThat(o.result()).containsEntry("exitCode", -1);
        assertThat((String) o.result().get("output")).contains("started");
        long pid = Long.parseLong(Files.readString(childPid).trim());
        assertThat(runs(pid)).as("the script's child " + pid + " runs").isFalse();
    }

    @Test
    void aScriptReportsItsExitCodeAndTheEndOfItsOutput() {
        Spec script = new Spec("script");
        script.run = "run-7";
        script.env = Map.of("GREETING", "hello");
        script.script = "echo \"$GREETING plan=$HAVEN_PLAN run=$HAVEN_RUN workload=$HAVEN_WORKLOAD\"; echo schema is old >&2; exit 3";
        TaskRunner.Outcome failed = tasks(dir.resolve("agent")).run(script.build());
        assertThat(failed.status()).isEqualTo("failed");
        assertThat(failed.message()).startsWith("script exited 3 after ").endsWith(": schema is old");
        assertThat(failed.result()).containsEntry("exitCode", 3);
        assertThat((String) failed.result().get("output")).contains("hello plan=shop run=run-7 workload=app", "schema is old");

        script.script = "head -c 10000 /dev/zero | tr '\\0' x; echo; echo the end";
        TaskRunner.Outcome ok = tasks(dir.resolve("agent")).run(script.build());
        assertThat(ok.status()).as(ok.message()).isEqualTo("succeeded");
        assertThat(ok.result()).containsEntry("exitCode", 0);
        String output = (String) ok.result().get("output");
        assertThat(output).hasSize(HostScript.OUTPUT_TAIL).endsWith("the end\n");
    }

    // ---------------------------------------------------------------- fencing

    @Test
    void aFencedPlanIsNotStartedHereAndTheFenceOutlivesARestart() throws Exception {
        Path home = dir.resolve("hq-agent");
        Fences fences = Fences.load(home);
        fences.update(List.of("shop"));
        Spec start = new Spec("start").volumes(dir.resolve("hq/app/data")).option("command", "sleep 1000");
        String refusal = "plan shop is fenced at site dr: this site's agents do not start its workloads (no split brain)";
        TaskRunner.Outcome o = tasks(home, fences).run(start.build());
        assertThat(o.status()).isEqualTo("failed");
        assertThat(o.message()).isEqualTo(refusal);

        // the agent restarts and has not reached the server: still fenced
        Fences restarted = Fences.load(home);
        restarted.update(null); // a reply without the list says nothing
        assertThat(tasks(home, restarted).run(start.build()).message()).isEqualTo(refusal);
        assertThat(home.resolve("dr")).doesNotExist();

        // a drill's sandbox may start
        Spec drill = new Spec("start").sandbox("drill-2").volumes(dir.resolve("hq/app/data")).option("command", "sleep 1000");
        TaskRunner.Outcome sandbox = tasks(home, restarted).run(drill.build());
        assertThat(sandbox.status()).as(sandbox.message()).isEqualTo("succeeded");
        started.add(new WorkloadInstance("app", Map.of(), null, Map.of(), home.resolve("sandbox/drill-2/app/run")));

        // the server lifts the fence
        restarted.update(List.of());
        TaskRunner.Outcome lifted = tasks(home, Fences.load(home)).run(start.build());
        assertThat(lifted.status()).as(lifted.message()).isEqualTo("succeeded");
        started.add(new WorkloadInstance("app", Map.of(), null, Map.of(), home.resolve("dr/shop/app/run")));

        // an unreadable fence file: nothing is known, so nothing starts until the server says
        Files.writeString(home.resolve(Fences.FILE), "{not json");
        Fences unknown = Fences.load(home);
        TaskRunner.Outcome refused = tasks(home, unknown).run(new Spec("start").volumes(dir.resolve("x")).option("command", "sleep 1")
                .op("start").build());
        assertThat(refused.message()).startsWith("plan shop may be fenced at site dr: ").contains("fenced.json is unreadable");
        unknown.update(List.of("other"));
        assertThat(Files.readString(home.resolve(Fences.FILE))).contains("\"other\"");
    }

    @Test
    void unknownOpsDriversAndOptionsAreClearFailures() {
        DrTasks t = tasks(dir.resolve("agent"));
        TaskRunner.Outcome op = t.run(new Spec("teleport").build());
        assertThat(op.status()).isEqualTo("failed");
        assertThat(op.message()).isEqualTo("this agent cannot run DR op teleport; upgrade it");
        Spec qemu = new Spec("start").volumes(dir.resolve("v"));
        qemu.driver = "qemu";
        assertThat(t.run(qemu.build()).message()).isEqualTo("workload app: this agent has no driver 'qemu' (it has process, postgres); "
                + "upgrade it");
        assertThat(t.run(new Spec("start").volumes(dir.resolve("v")).option("comand", "sleep 1").build()).message())
                .isEqualTo("workload app: the process driver has no option 'comand' (it takes command, env.NAME, quiesce, unquiesce)");
        Spec escape = new Spec("start").volumes(dir.resolve("v")).option("command", "sleep 1");
        escape.plan = "../etc";
        assertThat(t.run(escape.build()).message()).startsWith("the task's plan must be 1 to 64 letters");
    }

    // ---------------------------------------------------------------- PostgreSQL

    @Test
    void aDatabaseCopyStreamsAppliesTheFinalLsnIsPromotedAndRejoins() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/usr/lib/postgresql")), "no PostgreSQL binaries");
        assumeTrue("root".equals(System.getProperty("user.name")), "runs PostgreSQL as the postgres user: needs root");
        Path base = Files.createTempDirectory("haven-dr-pg");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        PostgresDriver pg = new PostgresDriver();
        int portA = freePort();
        int portB = freePort();
        int portSandbox = freePort();
        WorkloadInstance a = new WorkloadInstance("db", Map.of("data", base.resolve("hq/data")), "127.0.0.1",
                Map.of("port", portA, "initdb", true, "config", Map.of("fsync", "off")), base.resolve("hq/run"));
        Path hqHome = base.resolve("hq-agent");
        Path drHome = base.resolve("dr-agent");
        Path dataB = base.resolve("dr/data");
        WorkloadInstance b = new WorkloadInstance("db", Map.of("data", dataB), "127.0.0.1", Map.of("port", portB), drHome.resolve(
                "dr/shop/db/run"));
        WorkloadInstance sandboxDb = new WorkloadInstance("db", Map.of("data", drHome.resolve("sandbox/drill-1/db/v0")), "127.0.0.1",
                Map.of("port", portSandbox), drHome.resolve("sandbox/drill-1/db/run"));
        try {
            pg.start(a);
            pg.sql(a, "CREATE TABLE orders (id int PRIMARY KEY, note text)");
            pg.sql(a, "INSERT INTO orders VALUES (1, 'before the copy')");
            DrTasks drSite = tasks(drHome);
            DrTasks hq = tasks(hqHome);

            // prepare: a streaming standby seeded from the primary; again: it runs
            Spec copy = new Spec("prepare").volumes(dataB).option("port", String.valueOf(portB)).option("config.fsync", "off");
            copy.driver = "postgres";
            copy.workload = "db";
            copy.primary = "127.0.0.1:" + portA;
            TaskRunner.Outcome prepared = drSite.run(copy.build());
            assertThat(prepared.status()).as(prepared.message()).isEqualTo("succeeded");
            assertThat(point(prepared)).containsEntry("snapshot", "postgres-standby");
            assertThat(Instant.parse((String) point(prepared).get("time"))).isAfter(Instant.now().minusSeconds(60));
            assertThat(pg.isStandby(b)).isTrue();
            TaskRunner.Outcome hydrated = drSite.run(copy.op("hydrate").build());
            assertThat(hydrated.status()).as(hydrated.message()).isEqualTo("succeeded");
            assertThat(hydrated.message()).contains("its standby runs");
            pg.sql(a, "INSERT INTO orders VALUES (2, 'streamed')");

            // a drill: a stand-alone copy of the standby, on its own port; the standby does not see its writes
            Spec drill = new Spec("prepare").sandbox("drill-1").volumes(dataB).option("port", String.valueOf(portSandbox));
            drill.driver = "postgres";
            drill.workload = "db";
            drill.primary = "127.0.0.1:" + portB;
            awaitRows(pg, b, 2);
            TaskRunner.Outcome sandboxed = drSite.run(drill.build());
            assertThat(sandboxed.status()).as(sandboxed.message()).isEqualTo("succeeded");
            assertThat(pg.running(sandboxDb)).isFalse();
            TaskRunner.Outcome sandboxUp = drSite.run(drill.op("start").build());
            assertThat(sandboxUp.status()).as(sandboxUp.message()).isEqualTo("succeeded");
            assertThat(pg.isStandby(sandboxDb)).isFalse();
            pg.sql(sandboxDb, "INSERT INTO orders VALUES (99, 'drill only')");
            assertThat(pg.sql(sandboxDb, "SELECT count(*) FROM orders")).isEqualTo("3");
            TaskRunner.Outcome cleaned = drSite.run(new Spec("cleanup").sandbox("drill-1").build());
            assertThat(cleaned.status()).as(cleaned.message()).isEqualTo("succeeded");
            assertThat(drHome.resolve("sandbox/drill-1")).doesNotExist();
            assertThat(pg.sql(b, "SELECT count(*) FROM orders WHERE id = 99")).isEqualTo("0");

            // planned failover: the primary stops; its final position is applied to the copy
            pg.sql(a, "INSERT INTO orders VALUES (3, 'last write at hq')");
            Spec source = new Spec("backup").volumes(base.resolve("hq/data")).option("port", String.valueOf(portA));
            source.driver = "postgres";
            source.workload = "db";
            TaskRunner.Outcome stillRunning = hq.run(source.build());
            assertThat(stillRunning.message()).isEqualTo("workload db runs here; stop it first (a final snapshot is of a stopped workload)");
            pg.stop(a, Duration.ofSeconds(10));
            TaskRunner.Outcome fin = hq.run(source.build());
            assertThat(fin.status()).as(fin.message()).isEqualTo("succeeded");
            String lsn = (String) fin.result().get("lsn");
            assertThat(point(fin)).containsEntry("snapshot", "lsn:" + lsn);

            Spec apply = new Spec("apply").volumes(dataB).option("port", String.valueOf(portB));
            apply.driver = "postgres";
            apply.workload = "db";
            apply.lsn = lsn;
            apply.timeoutMillis = 20_000L;
            TaskRunner.Outcome applied = drSite.run(apply.build());
            assertThat(applied.status()).as(applied.message()).isEqualTo("succeeded");
            assertThat(pg.sql(b, "SELECT count(*) FROM orders")).isEqualTo("3");
            apply.lsn = "FF/0";
            apply.timeoutMillis = 700L;
            TaskRunner.Outcome behind = drSite.run(apply.build());
            assertThat(behind.status()).isEqualTo("failed");
            assertThat(behind.message()).contains("byte(s) of WAL behind FF/0");

            // start promotes the standby; a second start changes nothing
            Spec start = new Spec("start").volumes(dataB).option("port", String.valueOf(portB));
            start.driver = "postgres";
            start.workload = "db";
            TaskRunner.Outcome up = drSite.run(start.build());
            assertThat(up.status()).as(up.message()).isEqualTo("succeeded");
            assertThat(up.message()).isEqualTo("db ran as a standby and was promoted");
            assertThat(drSite.run(start.build()).message()).isEqualTo("db already runs");
            pg.sql(b, "INSERT INTO orders VALUES (4, 'written at dr')");
            TaskRunner.Outcome notAStandby = drSite.run(copy.op("prepare").build());
            assertThat(notAStandby.status()).isEqualTo("failed");
            assertThat(notAStandby.message()).contains("holds a primary (promoted by an earlier run), not a standby of 127.0.0.1:" + portA);
            assertThat(notAStandby.result()).containsEntry("promoted", true); // the server's keeper makes it rejoin
            // a forced failover (no primary named) is not offered this copy as a point "as of now": its age is unknown
            String primary = copy.primary;
            copy.primary = null;
            TaskRunner.Outcome forced = drSite.run(copy.op("prepare").build());
            copy.primary = primary;
            assertThat(forced.status()).isEqualTo("failed");
            assertThat(forced.message()).contains("promoted by an earlier run", "cannot say how old its data is");

            // failback's reprotect: the old primary follows the new one
            Spec rejoin = new Spec("rejoin").volumes(base.resolve("hq/data")).option("port", String.valueOf(portA));
            rejoin.driver = "postgres";
            rejoin.workload = "db";
            rejoin.primary = "127.0.0.1:" + portB;
            TaskRunner.Outcome rejoined = hq.run(rejoin.build());
            assertThat(rejoined.status()).as(rejoined.message()).isEqualTo("succeeded");
            assertThat(rejoined.message()).endsWith("and follows 127.0.0.1:" + portB + " as its standby");
            assertThat(pg.isStandby(a)).isTrue();
            awaitRows(pg, a, 4);
        } finally {
            for (WorkloadInstance w : List.of(a, b, sandboxDb)) {
                try {
                    pg.stop(w, Duration.ofSeconds(10));
                } catch (RuntimeException e) {
                    // best effort
                }
            }
            try (Stream<Path> s = Files.walk(base)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void awaitRows(PostgresDriver pg, WorkloadInstance w, int n) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (Integer.parseInt(pg.sql(w, "SELECT count(*) FROM orders")) >= n) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the standby did not reach " + n + " rows: " + pg.sql(w, "SELECT count(*) FROM orders"));
    }

    /** Whether the process runs (a zombie left for an init that does not reap, as in some containers, does not). */
    static boolean runs(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
