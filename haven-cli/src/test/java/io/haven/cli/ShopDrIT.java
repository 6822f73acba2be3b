package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.cli.shop.Shop;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Haven's DR end to end with the three-tier sample application ({@code examples/shop}), every
 * Haven component its own OS process started from the built {@code bin/haven}, as
 * {@link ControlPlaneIT} does: one {@code haven server}, agent A at site a (it talks to the server
 * through 127.0.0.2) and agent B at site b (through 127.0.0.3). The shop binds 127.0.11.1 at site
 * A, 127.0.21.1 at site B and 127.0.31.1 in a drill's sandbox; a BIND 9 serves
 * {@code www.shop.test.}. Everything is done with the CLI. The test itself only creates site A's
 * empty database cluster (initdb: Haven's postgres driver ignores its {@code initdb} option, see
 * examples/shop/README.md), Haven starts the db, app and web.
 *
 * <p>In order: (1) set up, plan applied; (2) {@code haven plan start} and the plan recoverable
 * within its RPO; (3) 20 records written through the name; (4) a drill leaves production and DNS
 * alone; (5) a planned failover loses nothing and moves the name, then commit; (6) 10 records
 * written at B, a failback brings all 30 home, then commit; (7) site A lost while a writer runs
 * (its agent and its db/app/web SIGKILLed), a forced failover loses no record acknowledged before
 * the newest recovery point, and A's agent, restarted, starts nothing (fenced).
 */
class ShopDrIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN_PW = "it-admin-password";
    private static final String REPO_PW = "it-repository-password";
    static final String SITE_A = "127.0.11.1";
    static final String SITE_B = "127.0.21.1";
    static final String SANDBOX = "127.0.31.1";

    @TempDir
    Path tmp;

    private final List<HavenDaemon> daemons = new ArrayList<>();
    private HavenCli haven;
    private HavenCli cli;
    private Shop shop;
    private Path serverData;
    private Path serverConfig;
    private HavenDaemon server;
    private HavenDaemon agentA;
    private HavenDaemon agentB;
    private long t0;

    private HavenDaemon daemon(String name, String... args) {
        return new HavenDaemon(haven, tmp.resolve("logs"), daemons, name, args);
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (HavenDaemon d : daemons) {
            d.killIfAlive();
        }
        killShopProcesses(null);
        if (shop != null) {
            shop.close();
        }
    }

    /** SIGKILLs what the agents started for the shop (at one site's address, or everywhere when null), descendants first. */
    private void killShopProcesses(String site) throws InterruptedException {
        String root = tmp.toString();
        List<ProcessHandle> victims = ProcessHandle.allProcesses().filter(p -> {
            String c = p.info().commandLine().orElse("");
            if (site != null) {
                return c.contains("--listen " + site + ":") || c.contains("listen_addresses=" + site + " ")
                        || c.contains("listen_addresses=" + site + "'");
            }
            return c.contains(root) || c.matches(".*--listen 127\\.0\\.(11|21|31)\\.1:.*");
        }).filter(p -> p.pid() != ProcessHandle.current().pid()).toList();
        for (ProcessHandle p : victims) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (ProcessHandle p : victims) {
            p.onExit().completeOnTimeout(p, 10, TimeUnit.SECONDS).join();
        }
    }

    @Test
    void theShopFailsOverAndBackThroughTheCli() throws Throwable {
        Shop.assumeAvailable();
        try {
            scenarios();
        } catch (Throwable t) {
            StringBuilder logs = new StringBuilder();
            Set<String> shown = new java.util.HashSet<>();
            for (HavenDaemon d : daemons) {
                if (shown.add(d.name)) {
                    String l = d.log();
                    logs.append("\n----- ").append(d.name).append(" -----\n").append(l.length() > 20000 ? l.substring(l.length() - 20000) : l);
                }
            }
            t.addSuppressed(new AssertionError("process logs:" + logs));
            throw t;
        }
    }

    private void mark(String step) {
        System.out.printf("ShopDrIT %6.1f s: %s%n", (System.nanoTime() - t0) / 1e9, step);
    }

    private void scenarios() throws Exception {
        t0 = System.nanoTime();
        traversable(tmp); // the postgres OS user reaches the volumes and the agents' sandboxes under it
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
                agents: {heartbeatSeconds: 1}
                scheduler: {tickMillis: 300}
                jobs: {lostAfterSeconds: 10}
                repositories: {kdfMemoryKib: 8192}
                """);
        shop = new Shop(tmp.resolve("shop"));

        // ---- 1. server, agents, repository, DNS, the plan
        JsonNode info = startServer();
        int port = info.get("port").asInt();
        Path ca = Path.of(info.get("caCertificate").asText());
        run("login", "--server", "https://127.0.0.1:" + port, "--ca", ca.toString(), "--user", "admin");
        Path homeA = tmp.resolve("site-a/agent");
        Path homeB = tmp.resolve("site-b/agent");
        enrol("site-a", "agent-a", "https://127.0.0.2:" + port, homeA);
        enrol("site-b", "agent-b", "https://127.0.0.3:" + port, homeB);
        traversable(homeA);
        traversable(homeB);
        agentA = daemon("agent-a", "agent", "run", "--dir", homeA.toString()).start();
        agentB = daemon("agent-b", "agent", "run", "--dir", homeB.toString()).start();
        run("repository", "create", "main", "--location", repoDir.toString());
        Shop.Dns dns = shop.dns(SITE_A);
        Shop.Client client = shop.client(dns, Shop.WEB_PORT);
        await("both agents online", () -> json("agent", "list", "--json").get("agents"),
                as -> as.size() == 2 && all(as, a -> a.get("online").asBoolean()), Duration.ofSeconds(60));
        mark("1: server, agents, repository, DNS");

        Path dataA = tmp.resolve("site-a/data");
        Path dataB = tmp.resolve("site-b/data");
        Files.createDirectories(dataB);
        // site A's database: created here (initdb), run by Haven from plan start on
        shop.initDatabase(dataA.resolve("db"), SITE_A, Shop.DB_PORT);
        Files.writeString(dataA.resolve("db/postgresql.conf"), "\n# as Haven's postgres driver's initdb writes it\n"
                + "wal_level = replica\nmax_wal_senders = 10\nhot_standby = on\nwal_log_hints = on\nwal_keep_size = '256MB'\n",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        Map<String, String> values = new HashMap<>();
        values.put("PROTECTED_SITE", "site-a");
        values.put("RECOVERY_SITE", "site-b");
        values.put("AGENT_A", "agent-a");
        values.put("AGENT_B", "agent-b");
        values.put("SITE_A", SITE_A);
        values.put("SITE_B", SITE_B);
        values.put("SANDBOX", SANDBOX);
        values.put("DATA_A", dataA.toString());
        values.put("DATA_B", dataB.toString());
        values.put("JAVA", Shop.java().toString());
        values.put("PGJDBC", Shop.jdbcJar().toString());
        values.put("SHOP", Shop.dir().toString());
        values.put("DNS", dns.server());
        values.put("TSIG_KEY", dns.keyName());
        values.put("TSIG_SECRET", dns.secretReference());
        String plan = Shop.plan(values);
        assertThat(plan).contains("rpo: 10s");
        plan = plan.replace("rpo: 10s", "rpo: 15s");
        Path planFile = tmp.resolve("shop-plan.yaml");
        Files.writeString(planFile, plan);
        run("plan", "apply", "-f", planFile.toString());
        mark("1: plan applied");

        // ---- 2. plan start: Haven runs db, app and web at site A; then the copies at B are recoverable
        HavenCli.Result started = cli.run("plan", "start", "shop");
        assertThat(started.exit()).as(started.out() + started.err()).isZero();
        assertThat(started.out()).contains("db at site site-a: up", "app at site site-a: up", "web at site site-a: up");
        Shop.awaitStatus("http://" + SITE_A + ":" + Shop.WEB_PORT + "/health", 200, Duration.ofSeconds(30));
        awaitRecoverable();
        mark("2: started at A, recoverable");

        // ---- 3. 20 records through the name
        List<Shop.Row> acked = new ArrayList<>(client.write(20));
        assertThat(acked).hasSize(20);
        client.checkIds(acked).expect(0);
        mark("3: 20 records written");

        // ---- 4. a drill: report printed, production and DNS untouched
        HavenCli.Result drill = cli.run("drill", "shop");
        assertThat(drill.exit()).as(drill.out() + drill.err()).isZero();
        assertThat(drill.out()).contains("Test failover (drill)");
        assertThat(dns.addresses(Shop.NAME)).containsExactly(SITE_A);
        assertThat(listening(SANDBOX, Shop.WEB_PORT)).isFalse();
        assertThat(listening(SITE_B, Shop.WEB_PORT)).isFalse();
        client.checkIds(acked).expect(0);
        acked.addAll(client.write(1));
        mark("4: drill");

        // ---- 5. planned failover: nothing lost, the name moves to B; commit
        HavenCli.Result planned = cli.run("failover", "shop", "--planned");
        assertThat(planned.exit()).as(planned.out() + planned.err()).isZero();
        assertThat(dns.addresses(Shop.NAME)).containsExactly(SITE_B);
        assertThat(client.resolve()).isEqualTo(SITE_B);
        client.checkIds(acked).expect(0);
        for (Shop.Row r : acked) {
            assertThat(Files.readString(dataB.resolve("app/attachments/" + r.id() + ".txt"))).isEqualTo(r.body());
        }
        assertThat(listening(SITE_A, Shop.WEB_PORT)).isFalse();
        run("failover", "shop", "--commit");
        mark("5: planned failover, committed");

        // ---- 6. 10 records at B, failback; all present at A; commit
        acked.addAll(client.write(10));
        HavenCli.Result back = cli.run("failback", "shop");
        assertThat(back.exit()).as(back.out() + back.err()).isZero();
        assertThat(dns.addresses(Shop.NAME)).containsExactly(SITE_A);
        client.checkIds(acked).expect(0);
        assertThat(listening(SITE_B, Shop.WEB_PORT)).isFalse();
        run("failback", "shop", "--commit");
        assertThat(acked).hasSize(31);

        mark("6: failback, committed");

        // ---- 6b. a planned failover rolled back: the database copy at B, promoted by it, follows A again by itself,
        // so the forced failover below finds everything written at A after the rollback (it once found a stale copy)
        HavenCli.Result tried = cli.run("failover", "shop", "--planned");
        assertThat(tried.exit()).as(tried.out() + tried.err()).isZero();
        run("failover", "shop", "--rollback");
        Instant rolledBack = Instant.now();
        assertThat(dns.addresses(Shop.NAME)).containsExactly(SITE_A);
        acked.addAll(client.write(5));
        await("the database copy at site B following site A again, with a point after the rollback", this::planStatus, st -> {
            for (JsonNode w : st.get("workloads")) {
                if (w.get("workload").asText().equals("db")) {
                    return w.hasNonNull("pointAt") && Instant.parse(w.get("pointAt").asText()).isAfter(rolledBack)
                            && w.get("meetsRpo").asBoolean();
                }
            }
            return false;
        }, Duration.ofSeconds(150));
        mark("6b: planned failover rolled back; the database copy rejoined");

        // ---- 7. forced: site A lost while a writer writes
        awaitRecoverable();
        mark("7: recoverable again");
        Writer writer = new Writer(dns);
        await("the writer acknowledged some records", () -> writer.acked.size(), n -> n >= 10, Duration.ofSeconds(60));
        agentA.kill();
        killShopProcesses(SITE_A);
        Instant lost = Instant.now();
        writer.await();
        assertThat(listening(SITE_A, Shop.WEB_PORT)).isFalse();
        JsonNode before = planStatus();
        Instant point = null;
        for (JsonNode w : before.get("workloads")) {
            if (w.get("workload").asText().equals("db")) {
                point = Instant.parse(w.get("pointAt").asText());
            }
        }
        assertThat(point).as(before.toString()).isNotNull();
        HavenCli.Result forced = cli.run("failover", "shop", "--forced", "--yes");
        assertThat(forced.exit()).as(forced.out() + forced.err()).isZero();
        assertThat(dns.addresses(Shop.NAME)).containsExactly(SITE_B);
        Map<Long, String> atB = Shop.Client.byId(client.read());
        client.checkIds(acked).expect(0); // everything before the disaster
        List<String> lostRows = new ArrayList<>();
        for (Timed t : writer.acked) {
            if (!t.row().body().equals(atB.get(t.row().id()))) {
                lostRows.add(t.row().line() + " acknowledged at " + t.at());
                assertThat(t.at()).as("a lost record was acknowledged after the newest point " + point).isAfter(point);
                assertThat(t.at()).as("a lost record was acknowledged within the last RPO window").isAfter(lost.minusSeconds(15));
            }
        }
        mark("7: forced failover: " + writer.acked.size() + " acknowledged during the disaster, lost " + lostRows);
        run("failover", "shop", "--commit");
        agentA.start();
        Thread.sleep(20_000);
        assertThat(listening(SITE_A, Shop.WEB_PORT)).isFalse();
        assertThat(listening(SITE_A, Shop.DB_PORT)).isFalse();
        assertThat(planStatus().get("fencedAt").toString()).contains("site-a");
        client.checkIds(acked).expect(0);
        mark("7: site A's agent back, nothing started");
    }

    /** A record and when the client acknowledged it (printed it). */
    record Timed(Shop.Row row, Instant at) {
    }

    /** ShopClient writing without retries until its first failure, each acknowledged line timed as it is printed. */
    private final class Writer {
        final List<Timed> acked = new CopyOnWriteArrayList<>();
        final Process process;
        final Thread reader;

        Writer(Shop.Dns dns) throws IOException {
            List<String> cmd = List.of(Shop.java().toString(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    Shop.dir().resolve("client/ShopClient.java").toString(), "--dns", dns.server(), "--name", Shop.NAME, "--port",
                    String.valueOf(Shop.WEB_PORT), "--interval-ms", "50", "write", "100000");
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(tmp.resolve("logs/writer.err").toFile())).start();
            process.getOutputStream().close();
            reader = Thread.ofPlatform().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null;) {
                        Instant now = Instant.now();
                        acked.add(new Timed(Shop.Client.rows(line).get(0), now));
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
        }

        void await() throws InterruptedException {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the writer did not stop after site A was lost");
            }
            reader.join(10_000);
        }
    }

    // ---- Haven

    private JsonNode startServer() throws Exception {
        server = daemon("server", "server", "--config", serverConfig.toString(), "--data", serverData.toString(),
                "--listen", "0.0.0.0:0", "--cert-host", "127.0.0.2", "--cert-host", "127.0.0.3", "--json").start();
        return await("the server's start line", () -> {
            String all = Files.exists(server.out) ? Files.readString(server.out) : "";
            int nl = all.indexOf('\n');
            if (nl < 0) {
                assertThat(server.process.isAlive()).as("the server is running").isTrue();
                return null;
            }
            return JSON.readTree(all.substring(0, nl));
        }, n -> n != null, Duration.ofSeconds(60));
    }

    private void enrol(String site, String name, String server, Path dir) {
        run("site", "create", site);
        String t = json("agent", "token", "--site", site, "--json").get("token").asText();
        json("agent", "enroll", "--server", server, "--token", t, "--name", name, "--dir", dir.toString(), "--json");
    }

    private JsonNode planStatus() {
        HavenCli.Result r = cli.run("plan", "status", "shop", "--json");
        try {
            return JSON.readTree(r.out());
        } catch (IOException e) {
            throw new AssertionError(r.out() + r.err(), e);
        }
    }

    private JsonNode awaitRecoverable() throws Exception {
        return await("plan shop recoverable within its RPO", this::planStatus,
                s -> s.get("recoverable").asBoolean() && s.get("meetsRpo").asBoolean(), Duration.ofSeconds(120));
    }

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
            Thread.sleep(500);
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

    static boolean listening(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Lets others (the postgres OS user) traverse {@code d} and every directory above it. */
    private static void traversable(Path d) throws IOException {
        for (Path p = d.toAbsolutePath(); p != null; p = p.getParent()) {
            Set<PosixFilePermission> perms = new java.util.HashSet<>(Files.getPosixFilePermissions(p));
            if (perms.add(PosixFilePermission.OTHERS_EXECUTE)) {
                Files.setPosixFilePermissions(p, perms);
            }
        }
    }

}
