package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane end to end, every component its own OS process started from the built
 * {@code bin/haven}: one {@code haven server} and two {@code haven agent run} standing for two
 * sites, each agent talking to the server on its own loopback address (site A through 127.0.0.2,
 * site B through 127.0.0.3). Everything is set up with the CLI; the test polls job states over the
 * REST API (cheaper than a JVM per look) and reads the outcomes with the CLI.
 *
 * <p>One test method, because the scenarios share the processes and the clock: a policy that
 * fires every minute is created early so that its tick passes while the other scenarios run.
 * In order: (1) both agents enrol and show online with host facts; (2) the every-minute policy is
 * created; (3) a backup-now for stopped agent A stays queued, runs when A is back, and the next
 * one is incremental; (4) A's workload is restored on B's host under another directory, byte for
 * byte; (7) a webhook channel is registered; (5) A is SIGKILLed in the middle of a backup held to
 * 1 MiB/s, restarted, the job ends failed ("agent restarted"), the webhook hears job_failed and
 * the backup then succeeds; (2) a scheduled backup of B's workload has succeeded; (6) the server
 * is SIGKILLed in the middle of A's throttled backup and kept down longer than lostAfter, then
 * started on the same data and port: the job is still running and ends succeeded; finally
 * {@code haven check --read-data} on the server's repository finds no error. About 100 s.
 *
 * <p>Run it with {@code -am} ({@code ./build -- -pl haven-cli -am verify -Dit.test=ControlPlaneIT
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false}):
 * without it, packaging haven-cli rebuilds the distribution from whatever haven-server and
 * haven-agent jars the local Maven repository holds, not from this tree.
 */
class ControlPlaneIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN_PW = "it-admin-password";
    private static final String REPO_PW = "it-repository-password";

    @TempDir
    Path tmp;

    private final List<HavenDaemon> daemons = new ArrayList<>();
    private HttpServer hooks;

    /** Runs the long-lived processes and {@code haven check}. */
    private HavenCli haven;
    /** Runs the short API commands: the same environment, C1 only (they end before C2 would pay off). */
    private HavenCli cli;
    private Path serverData;
    private Path serverConfig;
    private int port;
    private HavenDaemon server;
    private HavenDaemon agentA;
    private HavenDaemon agentB;
    private HttpClient http;
    private String token;

    private HavenDaemon daemon(String name, String... args) {
        return new HavenDaemon(haven, tmp.resolve("logs"), daemons, name, args);
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (HavenDaemon d : daemons) {
            d.killIfAlive();
        }
        if (hooks != null) {
            hooks.stop(0);
        }
        if (http != null) {
            http.close();
        }
    }

    @Test
    void twoSitesEnrolBackUpOnScheduleAndOnDemandRestoreElsewhereAndSurviveKilledAgentsAndServer() throws Throwable {
        try {
            scenarios();
        } catch (Throwable t) {
            StringBuilder logs = new StringBuilder();
            java.util.Set<String> shown = new java.util.HashSet<>();
            for (HavenDaemon d : daemons) {
                if (shown.add(d.name)) { // a restarted server is a new Daemon writing to the same files
                    logs.append("\n----- ").append(d.name).append(" -----\n").append(d.log());
                }
            }
            t.addSuppressed(new AssertionError("process logs:" + logs));
            throw t;
        }
    }

    private long t0;

    /** Prints how long the test has run, so slow steps show in the report. */
    private void mark(String step) {
        System.out.printf("ControlPlaneIT %6.1f s: %s%n", (System.nanoTime() - t0) / 1e9, step);
    }

    private void scenarios() throws Exception {
        t0 = System.nanoTime();
        Path repoDir = tmp.resolve("server-repo");
        haven = new HavenCli(repoDir, REPO_PW);
        haven.env("HAVEN_CONFIG_DIR", tmp.resolve("cli-config").toString());
        haven.env("HAVEN_ADMIN_PASSWORD", ADMIN_PW);
        haven.env("HAVEN_SERVER_PASSWORD", ADMIN_PW);
        cli = new HavenCli(repoDir, REPO_PW);
        cli.env("HAVEN_CONFIG_DIR", tmp.resolve("cli-config").toString());
        cli.env("HAVEN_SERVER_PASSWORD", ADMIN_PW);
        cli.env("HAVEN_JAVA_OPTS", "-XX:TieredStopAtLevel=1");
        serverData = tmp.resolve("server");
        serverConfig = tmp.resolve("server.yaml");
        Files.writeString(serverConfig, """
                # short timings: agents report every second, the scheduler looks every 300 ms,
                # a running job whose agent is silent for 10 s is settled failed
                agents: {heartbeatSeconds: 1}
                scheduler: {tickMillis: 300}
                jobs: {lostAfterSeconds: 10}
                repositories: {kdfMemoryKib: 8192}
                """);

        // ---- the server, on every interface, its certificate covering both sites' addresses
        JsonNode info = startServer(0);
        port = info.get("port").asInt();
        assertThat(info.get("createdAdmin").asText()).isEqualTo("admin");
        Path ca = Path.of(info.get("caCertificate").asText());
        http = client(ca);
        for (String site : List.of("127.0.0.2", "127.0.0.3")) {
            assertThat(ipAddressesOfServerCertificate(ca, site)).contains(site);
            assertThat(http.send(HttpRequest.newBuilder(URI.create("https://" + site + ":" + port + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }

        mark("server up");
        // ---- setup through the CLI: login, sites, enrolment of one agent per site (independent calls at once)
        run("login", "--server", "https://127.0.0.1:" + port, "--ca", ca.toString(), "--user", "admin");
        token = JSON.readTree(Files.readString(tmp.resolve("cli-config/login.json"))).get("token").asText();
        Path dirA = tmp.resolve("site-a/agent");
        Path dirB = tmp.resolve("site-b/agent");
        List<JsonNode> enrolled = inParallel(
                () -> enrol("site-a", "agent-a", "127.0.0.2", dirA),
                () -> enrol("site-b", "agent-b", "127.0.0.3", dirB));
        assertThat(enrolled.get(0).get("site").asText()).isEqualTo("site-a");
        assertThat(enrolled.get(1).get("site").asText()).isEqualTo("site-b");
        agentA = daemon("agent-a", "agent", "run", "--dir", dirA.toString()).start();
        agentB = daemon("agent-b", "agent", "run", "--dir", dirB.toString()).start();

        // data on the two "hosts"
        Path filesA = tmp.resolve("site-a/data/files");
        tree(filesA, new Random(1));
        Path bigA = tmp.resolve("site-a/data/big");
        Files.createDirectories(bigA);
        randomFile(bigA.resolve("one.bin"), 5_500_000, new Random(2));
        randomFile(bigA.resolve("two.bin"), 5_500_000, new Random(3));
        Path big2A = tmp.resolve("site-a/data/big2");
        Files.createDirectories(big2A);
        randomFile(big2A.resolve("three.bin"), 8_000_000, new Random(4));
        Path filesB = tmp.resolve("site-b/data/files");
        tree(filesB, new Random(5));

        mark("agents enrolled and started");
        // repository, groups, policies (site A's uploads held to 1 MiB/s), workloads
        inParallel(
                () -> run("repository", "create", "main", "--location", repoDir.toString()),
                () -> run("group", "create", "site-a-hosts"),
                () -> run("group", "create", "site-b-hosts"),
                () -> run("workload", "create", "a-files", "--agent", "agent-a", "--path", filesA.toString()),
                () -> run("workload", "create", "a-big", "--agent", "agent-a", "--path", bigA.toString()),
                () -> run("workload", "create", "a-big2", "--agent", "agent-a", "--path", big2A.toString()),
                () -> run("workload", "create", "b-files", "--agent", "agent-b", "--path", filesB.toString()));
        inParallel(
                () -> run("group", "add", "site-a-hosts", "agent-a"),
                () -> run("group", "add", "site-b-hosts", "agent-b"),
                () -> run("policy", "create", "site-a-daily", "--group", "site-a-hosts", "--repository", "main", "--schedule", "every 1d",
                        "--bwlimit", "1MiB"));

        mark("1: enrolment");
        // ---- 1. both agents enrolled and online, with their host facts
        JsonNode agents = await("both agents online", () -> json("agent", "list", "--json").get("agents"),
                as -> as.size() == 2 && all(as, a -> a.get("online").asBoolean() && a.path("facts").hasNonNull("hostname")),
                Duration.ofSeconds(60));
        for (JsonNode a : agents) {
            String site = a.get("name").asText().equals("agent-a") ? "site-a" : "site-b";
            assertThat(a.get("site").asText()).isEqualTo(site);
            assertThat(a.get("state").asText()).isEqualTo("active");
            assertThat(a.get("maxTasks").asInt()).isEqualTo(2);
            assertThat(a.get("facts").get("os").asText()).isEqualTo("Linux");
            assertThat(a.get("facts").get("cpus").asInt()).isPositive();
            assertThat(a.get("facts").get("fileSystems").size()).isPositive();
        }

        mark("2: every-minute policy created");
        // ---- 2. (started now, checked later) a policy firing every minute on site B's group
        JsonNode minutely = json("policy", "create", "site-b-every-minute", "--group", "site-b-hosts", "--repository", "main",
                "--schedule", "every 1m", "--json");
        assertThat(minutely.get("nextBackupAt").asText()).endsWith(":00Z");

        mark("3: backup now while agent A is stopped");
        // ---- 3. backup now while agent A is stopped: queued until it is back, then incremental
        agentA.stop();
        long first = json("workload", "backup", "a-files", "--json").get("id").asLong();
        Thread.sleep(3000); // ten scheduler rounds and a few heartbeats of agent B
        JsonNode waiting = json("job", "show", Long.toString(first), "--json");
        assertThat(waiting.get("state").asText()).isEqualTo("queued");
        assertThat(waiting.get("agent").asText()).isEqualTo("agent-a");
        assertThat(waiting.get("origin").asText()).isEqualTo("manual");
        agentA.start();
        JsonNode firstDone = json("job", "wait", Long.toString(first), "--json");
        assertThat(firstDone.get("state").asText()).isEqualTo("succeeded");
        assertThat(firstDone.get("result").get("files_new").asInt()).isEqualTo(countFiles(filesA));
        JsonNode second = json("workload", "backup", "a-files", "--wait", "--json");
        assertThat(second.get("state").asText()).isEqualTo("succeeded");
        assertThat(second.get("result").get("files_new").asInt()).isZero();
        assertThat(second.get("result").get("files_unmodified").asInt()).isEqualTo(countFiles(filesA));
        assertThat(second.get("result").get("parent").asText()).isEqualTo(firstDone.get("result").get("snapshot_id").asText());

        mark("4: restore on the other host");
        // ---- 4. restore site A's workload on site B's host, under another directory
        Path restored = tmp.resolve("site-b/restored");
        JsonNode restore = json("workload", "restore", "a-files", "--agent", "agent-b", "--target", restored.toString(), "--wait", "--json");
        assertThat(restore.get("state").asText()).isEqualTo("succeeded");
        assertThat(restore.get("agent").asText()).isEqualTo("agent-b");
        assertThat(restore.get("type").asText()).isEqualTo("restore");
        Path copy = restored.resolve(filesA.toString().substring(1));
        assertThat(CrashIT.contents(copy)).isEqualTo(CrashIT.contents(filesA)).hasSize(countFiles(filesA));
        assertThat(Files.getPosixFilePermissions(copy.resolve("secret.txt")))
                .isEqualTo(Files.getPosixFilePermissions(filesA.resolve("secret.txt")));

        mark("7: webhook");
        // ---- 7 (set up here). a webhook that hears of failed jobs
        List<JsonNode> delivered = new CopyOnWriteArrayList<>();
        hooks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hooks.createContext("/hook", x -> {
            try (InputStream in = x.getRequestBody()) {
                delivered.add(JSON.readTree(in.readAllBytes()));
            }
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        hooks.start();
        JsonNode channel = api("POST", "/api/v1/notifications/channels", Map.of("name", "it-hook", "kind", "webhook",
                "config", Map.of("url", "http://127.0.0.1:" + hooks.getAddress().getPort() + "/hook"), "events", List.of("job_failed")));
        assertThat(channel.get("name").asText()).isEqualTo("it-hook");

        mark("5: agent killed mid-backup");
        // ---- 5. agent A killed in the middle of a throttled backup (11 MB at 1 MiB/s)
        long killed = json("workload", "backup", "a-big", "--json").get("id").asLong();
        awaitJob(killed, j -> j.get("state").asText().equals("running") && j.get("progress").get("bytesDone").asLong() > 0);
        agentA.kill();
        agentA.start();
        awaitJob(killed, j -> !j.get("state").asText().matches("queued|running"));
        JsonNode lost = json("job", "show", Long.toString(killed), "--json");
        assertThat(lost.get("state").asText()).isEqualTo("failed");
        assertThat(lost.get("message").asText()).contains("agent restarted");
        JsonNode event = await("the job_failed webhook", () -> delivered.stream().filter(e -> e.path("details").path("job").asLong() == killed)
                .findFirst().orElse(null), e -> e != null, Duration.ofSeconds(30));
        assertThat(event.get("event").asText()).isEqualTo("job_failed");
        assertThat(event.get("subject").asText()).contains("a-big").contains("agent restarted");
        assertThat(event.get("details").get("agent").asText()).isEqualTo("agent-a");
        JsonNode retried = json("workload", "backup", "a-big", "--wait", "--json");
        assertThat(retried.get("state").asText()).isEqualTo("succeeded");
        assertThat(retried.get("result").get("files_new").asInt()).isEqualTo(2);
        assertThat(retried.get("result").get("bytes_processed").asLong()).isEqualTo(11_000_000);

        mark("2: waiting for the scheduled backup");
        // ---- 2. (checked) by now the minute has turned: the scheduled backup of site B ran
        JsonNode scheduled = await("a scheduled backup of b-files that succeeded", () -> {
            for (JsonNode j : json("job", "list", "--workload", "b-files", "--json").get("jobs")) {
                if (j.get("origin").asText().equals("schedule") && j.get("state").asText().equals("succeeded")) {
                    return j;
                }
            }
            return null;
        }, j -> j != null, Duration.ofSeconds(90));
        assertThat(scheduled.get("agent").asText()).isEqualTo("agent-b");
        assertThat(scheduled.get("requestedBy").asText()).isEqualTo("scheduler");
        assertThat(scheduled.get("result").get("files_new").asInt() + scheduled.get("result").get("files_unmodified").asInt())
                .isEqualTo(countFiles(filesB));

        mark("6: server killed mid-job");
        // ---- 6. the server killed while agent A runs a throttled backup and kept down for longer than lostAfter
        // (so the agent's upload meets the outage); it comes back on the same data and port
        long survivor = json("workload", "backup", "a-big2", "--json").get("id").asLong();
        awaitJob(survivor, j -> j.get("state").asText().equals("running") && j.get("progress").get("bytesDone").asLong() > 0);
        long down = System.nanoTime();
        server.kill();
        // the database as the killed server left it, before the restarted server opens it: printed,
        // and shown if the job is missing after the restart (H2, the embedded database until
        // 2026-11-30, lost it twice in CI: docs/decisions.md)
        Path killedDb = copyDatabase("killed-db");
        mark("6: job " + survivor + "; the killed server's database, opened apart, holds: " + newestJobs(killedDb));
        Thread.sleep(10_000); // lostAfter
        JsonNode again = startServer(port);
        assertThat(Duration.ofNanos(System.nanoTime() - down)).isGreaterThan(Duration.ofSeconds(10));
        assertThat(again.get("createdCa").asBoolean()).isFalse();
        assertThat(again.get("port").asInt()).isEqualTo(port);
        JsonNode reattached;
        try {
            reattached = awaitJob(survivor, j -> true);
        } catch (AssertionError e) {
            e.addSuppressed(new AssertionError("newest jobs in the database the killed server left (opened apart): "
                    + newestJobs(killedDb) + "\nnewest jobs the restarted server lists: " + run("job", "list", "--json")));
            throw e;
        }
        assertThat(reattached.get("state").asText()).isEqualTo("running");
        awaitJob(survivor, j -> !j.get("state").asText().matches("queued|running"));
        JsonNode survived = json("job", "show", Long.toString(survivor), "--json");
        assertThat(survived.get("state").asText()).isEqualTo("succeeded");
        assertThat(survived.get("agent").asText()).isEqualTo("agent-a");
        assertThat(survived.get("result").get("files_new").asInt()).isEqualTo(1);
        assertThat(survived.get("result").get("bytes_processed").asLong()).isEqualTo(8_000_000);
        assertThat(agentA.log()).contains("cannot reach the server");
        assertThat(JSON.readTree(run("agent", "list", "--json")).get("agents")).allSatisfy(a -> assertThat(a.get("online").asBoolean()).isTrue());

        mark("check");
        // ---- the repository is whole: every snapshot's every blob present and authentic
        agentA.stop();
        agentB.stop();
        HavenCli.Result check = haven.run("check", "--repo", repoDir.toString(), "--read-data", "--json");
        JsonNode checked = JSON.readTree(check.expect(0).out());
        assertThat(checked.get("ok").asBoolean()).as(check.out()).isTrue();
        assertThat(checked.get("errors")).isEmpty();
        assertThat(checked.get("snapshots").asInt()).isGreaterThanOrEqualTo(5);
        mark("done");
    }

    // ---- processes

    /** Starts {@code haven server} (port 0: any) and returns the JSON line it prints once it listens. */
    private JsonNode startServer(int listenPort) throws Exception {
        server = daemon("server", "server", "--config", serverConfig.toString(), "--data", serverData.toString(),
                "--listen", "0.0.0.0:" + listenPort, "--cert-host", "127.0.0.2", "--cert-host", "127.0.0.3", "--json");
        long before = Files.exists(server.out) ? Files.size(server.out) : 0;
        server.start();
        return await("the server's start line", () -> {
            try {
                String all = Files.exists(server.out) ? Files.readString(server.out) : "";
                String fresh = all.substring((int) Math.min(before, all.length()));
                int nl = fresh.indexOf('\n');
                if (nl < 0) {
                    assertThat(server.process.isAlive()).as("the server is running").isTrue();
                    return null;
                }
                return JSON.readTree(fresh.substring(0, nl));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }, n -> n != null, Duration.ofSeconds(60));
    }

    // ---- the CLI

    /** {@code haven site create}, {@code haven agent token} for the site, then {@code haven agent enroll} through the site's address. */
    private JsonNode enrol(String site, String name, String address, Path dir) {
        run("site", "create", site, "--description", "where " + name + " runs");
        String t = json("agent", "token", "--site", site, "--json").get("token").asText();
        return json("agent", "enroll", "--server", "https://" + address + ":" + port, "--token", t, "--name", name, "--dir", dir.toString(),
                "--json");
    }

    /** Runs independent CLI calls at once (each is a JVM start) and returns their results in order. */
    @SafeVarargs
    private static <T> List<T> inParallel(java.util.function.Supplier<T>... calls) {
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<T>> fs = new ArrayList<>();
            for (var c : calls) {
                fs.add(CompletableFuture.supplyAsync(c, pool));
            }
            List<T> out = new ArrayList<>();
            for (var f : fs) {
                try {
                    out.add(f.join());
                } catch (java.util.concurrent.CompletionException e) {
                    if (e.getCause() instanceof AssertionError a) {
                        throw a;
                    }
                    throw e;
                }
            }
            return out;
        }
    }

    /** Runs {@code haven ARGS}, expecting exit 0, and returns its standard output. */
    private String run(String... args) {
        HavenCli.Result r = cli.run(args);
        if (r.exit() != 0) {
            throw new AssertionError("haven " + String.join(" ", args) + " exited " + r.exit() + "\nstdout:\n" + r.out() + "\nstderr:\n" + r.err());
        }
        return r.out();
    }

    private JsonNode json(String... args) {
        try {
            return JSON.readTree(run(args));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ---- the REST API (for polling: no JVM start per look)

    private JsonNode api(String method, String path, Object body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + token);
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new AssertionError(method + " " + path + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /** Polls a job until {@code until}; tolerates the server being away meanwhile. */
    /** A copy of the server's database files, taken while no server runs. */
    private Path copyDatabase(String name) throws IOException {
        Path to = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(serverData.resolve("db"))) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    /**
     * The newest rows of {@code jobs} in a copy of the embedded database (with its write-ahead
     * log), opened by SQLite itself.
     */
    private static String newestJobs(Path dbDir) {
        String url = "jdbc:sqlite:" + dbDir.resolve("haven.db");
        try (var c = java.sql.DriverManager.getConnection(url);
                var rs = c.createStatement().executeQuery("SELECT id, state, agent_id, updated_at FROM jobs ORDER BY id DESC LIMIT 5")) {
            StringBuilder sb = new StringBuilder();
            while (rs.next()) {
                sb.append(rs.getLong(1)).append(' ').append(rs.getString(2)).append(" agent ").append(rs.getLong(3))
                        .append(" at ").append(rs.getLong(4)).append("; ");
            }
            return sb.toString();
        } catch (Exception e) {
            return "(cannot read it: " + e + ")";
        }
    }

    private JsonNode awaitJob(long id, Predicate<JsonNode> until) throws Exception {
        return await("job " + id, () -> {
            try {
                return api("GET", "/api/v1/jobs/" + id, null);
            } catch (IOException e) {
                return null; // the server is restarting
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, j -> j != null && until.test(j), Duration.ofSeconds(90));
    }

    interface Probe<T> {
        T get() throws Exception;
    }

    private static <T> T await(String what, Probe<T> probe, Predicate<T> until, Duration max) throws Exception {
        long end = System.nanoTime() + max.toNanos();
        T last = null;
        while (System.nanoTime() < end) {
            last = probe.get();
            if (until.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError(what + ": not reached within " + max + "; last seen: " + last);
    }

    private static boolean all(JsonNode arr, Predicate<JsonNode> p) {
        for (JsonNode n : arr) {
            if (!p.test(n)) {
                return false;
            }
        }
        return true;
    }

    // ---- TLS

    private static SSLContext trusting(Path ca) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static HttpClient client(Path ca) throws Exception {
        return HttpClient.newBuilder().sslContext(trusting(ca)).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The IP addresses in the certificate the server presents at {@code host}, with HTTPS host name checking on. */
    private List<String> ipAddressesOfServerCertificate(Path ca, String host) throws Exception {
        try (SSLSocket s = (SSLSocket) trusting(ca).getSocketFactory().createSocket(host, port)) {
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.startHandshake(); // fails unless the certificate covers host
            X509Certificate cert = (X509Certificate) s.getSession().getPeerCertificates()[0];
            List<String> ips = new ArrayList<>();
            for (List<?> san : cert.getSubjectAlternativeNames()) {
                if (((Integer) san.get(0)) == 7) {
                    ips.add((String) san.get(1));
                }
            }
            return ips;
        }
    }

    // ---- data

    private static void tree(Path root, Random rnd) throws IOException {
        Files.createDirectories(root.resolve("sub/deeper"));
        Files.writeString(root.resolve("readme.txt"), "files of " + root + "\n");
        Files.writeString(root.resolve("sub/notes.md"), "# notes\n".repeat(200));
        randomFile(root.resolve("sub/deeper/blob.bin"), 300_000, rnd);
        randomFile(root.resolve("sub/small.bin"), 1_000, rnd);
        Files.writeString(root.resolve("secret.txt"), "not for everyone\n");
        Files.setPosixFilePermissions(root.resolve("secret.txt"), PosixFilePermissions.fromString("rw-------"));
        Files.write(root.resolve("empty"), new byte[0]);
    }

    private static void randomFile(Path p, int size, Random rnd) throws IOException {
        byte[] data = new byte[size];
        rnd.nextBytes(data);
        Files.write(p, data);
    }

    private static int countFiles(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return (int) s.filter(Files::isRegularFile).count();
        }
    }
}
