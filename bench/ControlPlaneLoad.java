// Haven control-plane load generator (bench/control-plane.sh runs it; one file, Java's source launcher):
//
//   java -cp "haven-cli/target/haven/lib/*" bench/ControlPlaneLoad.java --server URL --ca CA.crt --password PW \
//        [--agents 1000] [--jobs 100] [--seconds 120] [--warmup 45] [--api-rate 20] [--groups 10] \
//        [--workloads-per-group 10] [--server-pid PID] [--repo-dir DIR] [--out-json FILE] [--out-md FILE]
//
// Against a running `haven server` it
//  1. enrols N simulated agents, each a real enrolment (a one-time token, its own P-256 key, a client
//     certificate from the server) with its own java.net.http.HttpClient and SSLContext (mutual TLS);
//     all clients share one virtual-thread executor, and every agent's loops are virtual threads;
//  2. sets up, through the admin API, one repository, G groups (the agents split evenly), one policy
//     per group (daily, so it never fires during the run) and W pooled workloads per group;
//  3. runs, for a warm-up and then a measured period:
//     - every agent as the real one (haven-agent AgentDaemon) does: a heartbeat every 15 s (the interval
//       the server answers; the agents' phases spread evenly), and a long-polled task request
//       (GET /api/v1/agent/tasks?free=…&wait=25&instance=…) open while it has a free slot (2 slots);
//       for each task it reports progress every 2 s and finishes it after a random 10–30 s
//       (a last progress, then finish, as the real agent delivers an outcome);
//     - a job driver that keeps J backup-now jobs queued or running (POST /api/v1/workloads/W/backup,
//       round-robin over the pooled workloads; a new one as soon as one finishes);
//     - an API client that calls GET /api/v1/jobs?limit=50, GET /api/v1/agents and GET /api/v1/jobs/{id}
//       in turn at a fixed rate, open-loop (each call on its own thread, so a slow answer does not
//       delay the next call);
//  4. records, for calls started inside the measured period: client-side latency percentiles per call
//     kind, errors, throughput, the time from a job's creation to its delivery to an agent, the
//     server process's CPU and RSS (from /proc), this generator's own CPU, the rest of the machine's
//     CPU, and the server's own latency histograms (/metrics, difference between start and end).
//
// Output: a markdown fragment (--out-md) and JSON (--out-json); a summary on stdout.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.haven.agent.Identity;
import io.haven.protocol.AgentApi;
import io.haven.protocol.Codec;
import io.haven.protocol.Messages;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class ControlPlaneLoad {
    static final ObjectMapper JSON = Codec.mapper();
    static final ExecutorService VT = Executors.newVirtualThreadPerTaskExecutor();

    // --- options
    final URI server;
    final Path caFile;
    final String password;
    final int agentCount;
    final int jobTarget;
    final int seconds;
    final int warmup;
    final double apiRate;
    final int groups;
    final int workloadsPerGroup;
    final long serverPid;
    final String repoDir;
    final Path outJson;
    final Path outMd;
    final int maxTasks = 2;
    final int progressEverySeconds = 2;
    final int jobMinSeconds;
    final int jobMaxSeconds;
    final int clkTck;
    final long dbPid;
    final Path threadDumps;
    final Path gcLog;

    // --- state
    HttpClient admin;
    String token;
    X509Certificate ca;
    final List<Agent> agents = new ArrayList<>();
    final List<String> workloads = new ArrayList<>();
    volatile boolean measuring;
    volatile boolean stopped;
    final Map<Long, Long> createdAt = new ConcurrentHashMap<>();
    final AtomicLongArray recentJobs = new AtomicLongArray(256);
    final AtomicLong recentCount = new AtomicLong();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger queued = new AtomicInteger();
    final AtomicLong jobsCreatedInWindow = new AtomicLong();
    final AtomicLong jobsFinishedInWindow = new AtomicLong();
    final AtomicLong pollsInWindow = new AtomicLong();
    final AtomicLong pollErrorsInWindow = new AtomicLong();
    final AtomicLong tasksInWindow = new AtomicLong();
    final Map<String, Boolean> heartbeatersInWindow = new ConcurrentHashMap<>();
    final Map<String, String> firstErrors = new ConcurrentHashMap<>();
    Semaphore slots;

    final Lat getJobs = new Lat("GET /api/v1/jobs?limit=50", "user");
    final Lat getAgents = new Lat("GET /api/v1/agents", "user");
    final Lat getJob = new Lat("GET /api/v1/jobs/{id}", "user");
    final Lat backupNow = new Lat("POST /api/v1/workloads/{w}/backup", "user");
    final Lat heartbeat = new Lat("POST /api/v1/agent/heartbeat", "agent");
    final Lat progress = new Lat("POST /api/v1/agent/jobs/{id}/progress", "agent");
    final Lat finish = new Lat("POST /api/v1/agent/jobs/{id}/finish", "agent");
    final Lat dispatch = new Lat("backup-now sent → its task received by an agent", "job");
    final Lat enrol = new Lat("POST /api/v1/agent/enroll (setup, not in the window)", "setup");

    ControlPlaneLoad(Map<String, String> o) {
        server = URI.create(req(o, "server"));
        caFile = Path.of(req(o, "ca"));
        password = req(o, "password");
        agentCount = Integer.parseInt(o.getOrDefault("agents", "1000"));
        jobTarget = Integer.parseInt(o.getOrDefault("jobs", "100"));
        seconds = Integer.parseInt(o.getOrDefault("seconds", "120"));
        warmup = Integer.parseInt(o.getOrDefault("warmup", "45"));
        apiRate = Double.parseDouble(o.getOrDefault("api-rate", "20"));
        groups = Integer.parseInt(o.getOrDefault("groups", "10"));
        workloadsPerGroup = Integer.parseInt(o.getOrDefault("workloads-per-group", "10"));
        serverPid = Long.parseLong(o.getOrDefault("server-pid", "0"));
        repoDir = o.getOrDefault("repo-dir", "/tmp/haven-bench-control-plane-repo");
        outJson = o.containsKey("out-json") ? Path.of(o.get("out-json")) : null;
        outMd = o.containsKey("out-md") ? Path.of(o.get("out-md")) : null;
        jobMinSeconds = Integer.parseInt(o.getOrDefault("job-min", "10"));
        jobMaxSeconds = Integer.parseInt(o.getOrDefault("job-max", "30"));
        clkTck = Integer.parseInt(o.getOrDefault("clk-tck", "100"));
        dbPid = Long.parseLong(o.getOrDefault("db-pid", "0"));
        threadDumps = o.containsKey("thread-dumps") ? Path.of(o.get("thread-dumps")) : null;
        gcLog = o.containsKey("gc-log") ? Path.of(o.get("gc-log")) : null;
    }

    static String req(Map<String, String> o, String k) {
        String v = o.get(k);
        if (v == null) {
            throw new IllegalArgumentException("--" + k + " is required");
        }
        return v;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("usage: see the comment at the top of ControlPlaneLoad.java (bad argument: " + args[i] + ")");
                System.exit(64);
            }
            o.put(args[i].substring(2), args[++i]);
        }
        int rc = new ControlPlaneLoad(o).run();
        System.exit(rc);
    }

    static void log(String s) {
        System.err.printf(Locale.ROOT, "[load %tT] %s%n", System.currentTimeMillis(), s);
    }

    // ------------------------------------------------------------------ run

    int run() throws Exception {
        ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(Files.newInputStream(caFile));
        admin = HttpClient.newBuilder().sslContext(trustOnly(ca)).executor(VT).connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1).build();
        token = adminCall("POST", "/api/v1/login", Map.of("username", "admin", "password", password), 200).get("token").asText();
        long t0 = System.nanoTime();
        enrolAll();
        double enrolSeconds = (System.nanoTime() - t0) / 1e9;
        log(String.format(Locale.ROOT, "enrolled %d agents in %.1f s", agents.size(), enrolSeconds));
        setUp();

        // agents start: heartbeats spread evenly over the interval, each agent polls after its first heartbeat
        long start = System.nanoTime();
        long hbNanos = Duration.ofSeconds(15).toNanos();
        for (Agent a : agents) {
            long first = start + hbNanos * a.index / agents.size();
            VT.submit(() -> a.heartbeats(first));
        }
        log("agents heartbeating and polling; warm-up " + warmup + " s (the job driver starts after 15 s)");
        slots = new Semaphore(jobTarget);
        sleepUntil(start + Duration.ofSeconds(Math.min(15, warmup)).toNanos());
        VT.submit(this::driver);
        VT.submit(this::apiClient);
        sleepUntil(start + Duration.ofSeconds(warmup).toNanos());

        // measured period
        Map<String, double[]> metricsBefore = scrapeMetrics();
        Sampler sampler = new Sampler();
        long gcFrom = gcLog != null && Files.exists(gcLog) ? Files.size(gcLog) : 0;
        measuring = true;
        long m0 = System.nanoTime();
        log("measuring for " + seconds + " s");
        Thread samplerThread = Thread.ofPlatform().daemon().name("sampler").start(() -> sampler.run(m0));
        if (threadDumps != null && serverPid > 0) {
            sleepUntil(m0 + Duration.ofSeconds(seconds).toNanos() / 2);
            Files.createDirectories(threadDumps);
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            for (int i = 1; i <= 3; i++) {
                jcmd(jcmd, threadDumps.resolve("threads-" + i + ".txt"), "Thread.print");
                sleep(2000);
            }
            jcmd(jcmd, threadDumps.resolve("heap-info.txt"), "GC.heap_info");
            jcmd(jcmd, threadDumps.resolve("class-histogram.txt"), "GC.class_histogram");
            Path vt = threadDumps.resolve("all-threads.txt");
            Files.deleteIfExists(vt);
            jcmd(jcmd, threadDumps.resolve("all-threads.log"), "Thread.dump_to_file", "-format=text", vt.toString());
            log("thread dumps of the server in " + threadDumps);
        }
        sleepUntil(m0 + Duration.ofSeconds(seconds).toNanos());
        measuring = false;
        long m1 = System.nanoTime();
        sampler.stop = true;
        samplerThread.join();
        Map<String, double[]> metricsAfter = scrapeMetrics();
        gcPauses = gcPauses(gcFrom);
        double window = (m1 - m0) / 1e9;
        // the server's own view of the fleet, after the window
        int online = -1;
        try {
            JsonNode fleet = adminCall("GET", "/api/v1/agents", null, 200).get("agents");
            online = 0;
            for (JsonNode a : fleet) {
                if (a.path("online").asBoolean() && a.path("name").asText().startsWith("sim-")) {
                    online++;
                }
            }
        } catch (IOException e) {
            firstErrors.putIfAbsent("fleet check after the window", e.toString());
        }
        stopped = true;
        report(window, enrolSeconds, sampler, metricsBefore, metricsAfter, online);
        return 0;
    }

    void jcmd(String jcmd, Path out, String... what) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(jcmd, Long.toString(serverPid)));
        cmd.addAll(List.of(what));
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start().waitFor();
    }

    // ------------------------------------------------------------------ setup

    void enrolAll() throws Exception {
        HttpClient plain = admin; // trusts the CA, presents no certificate: enrolment is public, the token authenticates
        Semaphore par = new Semaphore(4);
        CountDownLatch done = new CountDownLatch(agentCount);
        Agent[] made = new Agent[agentCount];
        AtomicInteger failures = new AtomicInteger();
        for (int i = 0; i < agentCount; i++) {
            int idx = i;
            par.acquire();
            VT.submit(() -> {
                try {
                    made[idx] = enrolOne(plain, idx);
                } catch (Exception e) {
                    failures.incrementAndGet();
                    firstErrors.putIfAbsent("enrol", e.toString());
                } finally {
                    par.release();
                    done.countDown();
                }
            });
            if ((i + 1) % 200 == 0) {
                log("enrolling: " + (i + 1) + "/" + agentCount);
            }
        }
        done.await();
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " enrolment(s) failed: " + firstErrors.get("enrol"));
        }
        agents.addAll(Arrays.asList(made));
    }

    Agent enrolOne(HttpClient plain, int idx) throws Exception {
        String tok = adminCall("POST", "/api/v1/enrollment-tokens", Map.of(), 201).get("token").asText();
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        String name = String.format(Locale.ROOT, "sim-%05d", idx);
        Messages.EnrollRequest r = new Messages.EnrollRequest(tok, name, null, Map.of("bench", "control-plane"),
                Base64.getEncoder().encodeToString(kp.getPublic().getEncoded()), facts(name));
        long t = System.nanoTime();
        HttpResponse<byte[]> res = plain.send(HttpRequest.newBuilder(server.resolve(AgentApi.ENROLL)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(Codec.write(r))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        enrol.add(System.nanoTime() - t);
        if (res.statusCode() != 201) {
            throw new IllegalStateException("enrol " + name + ": HTTP " + res.statusCode() + " " + new String(res.body(), StandardCharsets.UTF_8));
        }
        Messages.EnrollReply reply = Codec.read(res.body(), Messages.EnrollReply.class);
        Identity id = new Identity(null, server, reply.agentId(), reply.name(), reply.site(), kp.getPrivate(), pem(reply.certificate()),
                pem(reply.caCertificate()));
        HttpClient http = HttpClient.newBuilder().sslContext(id.sslContext()).executor(VT).connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1).build();
        return new Agent(idx, name, http);
    }

    void setUp() throws Exception {
        adminCall("POST", "/api/v1/repositories", Map.of("name", "bench", "location", repoDir, "password", "bench-repository-password"), 201);
        int per = (agents.size() + groups - 1) / groups;
        List<List<String>> byGroup = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
            String group = String.format(Locale.ROOT, "bench-g%02d", g);
            adminCall("POST", "/api/v1/groups", Map.of("name", group), 201);
            List<String> members = new ArrayList<>();
            for (int i = g * per; i < Math.min(agents.size(), (g + 1) * per); i++) {
                members.add(agents.get(i).name);
            }
            if (!members.isEmpty()) {
                adminCall("POST", "/api/v1/groups/" + group + "/members", Map.of("agents", members), 200);
            }
            adminCall("POST", "/api/v1/policies", Map.of("name", group + "-daily", "group", group, "repository", "bench",
                    "schedule", "every 1d"), 201);
            List<String> ws = new ArrayList<>();
            for (int w = 0; w < workloadsPerGroup; w++) {
                String name = String.format(Locale.ROOT, "%s-w%02d", group, w);
                adminCall("POST", "/api/v1/workloads", Map.of("name", name, "pool", group, "paths", List.of("/srv/data/" + name)), 201);
                ws.add(name);
            }
            byGroup.add(ws);
        }
        // interleave the groups, so consecutive jobs go to different pools
        for (int w = 0; w < workloadsPerGroup; w++) {
            for (List<String> ws : byGroup) {
                workloads.add(ws.get(w));
            }
        }
        log("set up: repository 'bench', " + groups + " groups of about " + per + " agents, one daily policy each, "
                + workloads.size() + " pooled workloads");
    }

    static Messages.HostFacts facts(String name) {
        return new Messages.HostFacts(name, "Linux", "6.1.0-bench", "amd64", 4, 8L << 30, List.of(
                new Messages.FileSystem("/", "ext4", 100L << 30, 40L << 30),
                new Messages.FileSystem("/home", "ext4", 400L << 30, 200L << 30),
                new Messages.FileSystem("/boot/efi", "vfat", 512L << 20, 500L << 20)));
    }

    // ------------------------------------------------------------------ agents

    final class Agent {
        final int index;
        final String name;
        final HttpClient http;
        final String instance = UUID.randomUUID().toString();
        final Map<Long, Boolean> jobs = new ConcurrentHashMap<>();
        volatile int heartbeatSeconds = 15;
        int beats;

        Agent(int index, String name, HttpClient http) {
            this.index = index;
            this.name = name;
            this.http = http;
        }

        void heartbeats(long first) {
            long next = first;
            boolean polling = false;
            while (!stopped) {
                sleepUntil(next);
                if (stopped) {
                    return;
                }
                Messages.Heartbeat hb = new Messages.Heartbeat(instance, "bench", beats++ % 4 == 0 ? facts(name) : null, maxTasks,
                        new ArrayList<>(jobs.keySet()));
                boolean m = measuring;
                Messages.HeartbeatReply r = call(this, heartbeat, m, "POST", AgentApi.HEARTBEAT, hb, Messages.HeartbeatReply.class, 20);
                if (r != null) {
                    if (m) {
                        heartbeatersInWindow.put(name, Boolean.TRUE);
                    }
                    if (r.heartbeatSeconds() > 0) {
                        heartbeatSeconds = r.heartbeatSeconds();
                    }
                    if (!polling) {
                        polling = true;
                        VT.submit(this::polls);
                    }
                }
                next += Duration.ofSeconds(heartbeatSeconds).toNanos();
            }
        }

        void polls() {
            while (!stopped) {
                int free = maxTasks - jobs.size();
                if (free <= 0) {
                    sleep(200);
                    continue;
                }
                Messages.TaskBatch batch = call(this, null, false, "GET", AgentApi.TASKS + "?free=" + free + "&wait=25&instance=" + instance,
                        null, Messages.TaskBatch.class, 40);
                boolean m = measuring; // polls are counted when they end
                if (m) {
                    pollsInWindow.incrementAndGet();
                }
                if (batch == null) {
                    if (m) {
                        pollErrorsInWindow.incrementAndGet();
                    }
                    sleep(2000);
                    continue;
                }
                for (Messages.Task t : batch.tasks() == null ? List.<Messages.Task>of() : batch.tasks()) {
                    delivered(t.jobId(), System.nanoTime());
                    running.incrementAndGet();
                    if (measuring) {
                        tasksInWindow.incrementAndGet();
                    }
                    jobs.put(t.jobId(), Boolean.TRUE);
                    VT.submit(() -> job(t));
                }
            }
        }

        void job(Messages.Task t) {
            long id = t.jobId();
            long start = System.nanoTime();
            long end = start + Duration.ofMillis(ThreadLocalRandom.current().nextLong(jobMinSeconds * 1000L, jobMaxSeconds * 1000L + 1)).toNanos();
            long total = 1L << 30;
            long next = start + Duration.ofSeconds(progressEverySeconds).toNanos();
            int n = 0;
            while (next < end && !stopped) {
                sleepUntil(next);
                n++;
                long done = Math.min(total, total * (next - start) / (end - start));
                Messages.Progress p = new Messages.Progress(done, total, n * 100L, 10_000,
                        List.of(new Messages.LogLine(System.currentTimeMillis(), "info", "read " + done + " of " + total + " bytes")));
                Messages.ProgressReply r = call(this, progress, measuring, "POST", AgentApi.progress(id), p, Messages.ProgressReply.class, 20);
                if (r != null && r.cancel()) {
                    break;
                }
                next += Duration.ofSeconds(progressEverySeconds).toNanos();
            }
            sleepUntil(end);
            if (stopped) {
                return;
            }
            // as the real agent delivers an outcome: the last counters, then the outcome with the last log lines
            call(this, progress, measuring, "POST", AgentApi.progress(id), new Messages.Progress(total, total, 10_000, 10_000, List.of()),
                    Messages.ProgressReply.class, 20);
            boolean m = measuring;
            Object ok = call(this, finish, m, "POST", AgentApi.finish(id), new Messages.Finish("succeeded", "backup done (simulated)",
                    Map.of("files_new", 10, "bytes_added", total / 100, "snapshot_id", "0".repeat(64)),
                    List.of(new Messages.LogLine(System.currentTimeMillis(), "info", "snapshot saved"))), Map.class, 30);
            jobs.remove(id);
            running.decrementAndGet();
            if (ok != null && m) {
                jobsFinishedInWindow.incrementAndGet();
            }
            slots.release();
        }
    }

    /** One agent call over its own mutual-TLS client; records latency (not for the long poll) and errors; null on error. */
    <T> T call(Agent a, Lat lat, boolean m, String method, String path, Object body, Class<T> type, int timeoutSeconds) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.resolve(path)).timeout(Duration.ofSeconds(timeoutSeconds));
        if (body != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(Codec.write(body)));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        long t = System.nanoTime();
        try {
            HttpResponse<byte[]> r = a.http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            long d = System.nanoTime() - t;
            if (r.statusCode() / 100 != 2) {
                if (m && lat != null) {
                    lat.error();
                }
                firstErrors.putIfAbsent(lat == null ? "poll" : lat.name, "HTTP " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
                return null;
            }
            if (m && lat != null) {
                lat.add(d);
            }
            return Codec.read(r.body(), type);
        } catch (IOException | RuntimeException e) {
            if (m && lat != null) {
                lat.error();
            }
            firstErrors.putIfAbsent(lat == null ? "poll" : lat.name, e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    // ------------------------------------------------------------------ users

    /** Keeps {@code jobTarget} jobs queued or running: a new backup-now as soon as one finishes. */
    void driver() {
        int k = 0;
        int ramp = 0;
        while (!stopped) {
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                return;
            }
            if (ramp++ < jobTarget) {
                sleep(50); // the first jobs come at 20/s, not all at once
            }
            String w = workloads.get(k++ % workloads.size());
            boolean m = measuring;
            long t = System.nanoTime();
            queued.incrementAndGet();
            try {
                HttpResponse<byte[]> r = user("POST", "/api/v1/workloads/" + w + "/backup", "{}");
                long d = System.nanoTime() - t;
                if (r.statusCode() != 202) {
                    throw new IOException("HTTP " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
                }
                long id = JSON.readTree(r.body()).get("id").asLong();
                created(id, t);
                recentJobs.set((int) (recentCount.getAndIncrement() % recentJobs.length()), id);
                if (m) {
                    backupNow.add(d);
                    jobsCreatedInWindow.incrementAndGet();
                }
            } catch (Exception e) {
                if (m) {
                    backupNow.error();
                }
                firstErrors.putIfAbsent(backupNow.name, e.toString());
                queued.decrementAndGet();
                slots.release();
                sleep(1000);
            }
        }
    }

    /**
     * Pairs a backup-now request with the delivery of its task to an agent: the time from sending
     * the request to the agent's poll returning it. A task may arrive before the request's answer.
     */
    final Map<Long, Long> deliveredEarly = new HashMap<>();

    synchronized void created(long id, long sentAt) {
        Long got = deliveredEarly.remove(id);
        if (got == null) {
            createdAt.put(id, sentAt);
        } else if (measuring) {
            dispatch.add(Math.max(0, got - sentAt));
        }
    }

    synchronized void delivered(long id, long at) {
        queued.decrementAndGet();
        Long sent = createdAt.remove(id);
        if (sent == null) {
            deliveredEarly.put(id, at);
        } else if (measuring) {
            dispatch.add(at - sent);
        }
    }

    /** User API reads at a fixed rate, open-loop. */
    void apiClient() {
        long period = (long) (1e9 / apiRate);
        long next = System.nanoTime();
        for (long i = 0; !stopped; i++) {
            sleepUntil(next);
            next += period;
            int kind = (int) (i % 3);
            VT.submit(() -> {
                boolean m = measuring;
                Lat lat;
                String path;
                switch (kind) {
                    case 0 -> { lat = getJobs; path = "/api/v1/jobs?limit=50"; }
                    case 1 -> { lat = getAgents; path = "/api/v1/agents"; }
                    default -> {
                        lat = getJob;
                        long n = Math.min(recentCount.get(), recentJobs.length());
                        if (n == 0) {
                            return; // no job yet
                        }
                        path = "/api/v1/jobs/" + recentJobs.get(ThreadLocalRandom.current().nextInt((int) n));
                    }
                }
                long t = System.nanoTime();
                try {
                    HttpResponse<byte[]> r = user("GET", path, null);
                    long d = System.nanoTime() - t;
                    if (r.statusCode() != 200) {
                        throw new IOException("HTTP " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
                    }
                    if (m) {
                        lat.add(d);
                        lat.bytes.addAndGet(r.body().length);
                    }
                } catch (Exception e) {
                    if (m) {
                        lat.error();
                    }
                    firstErrors.putIfAbsent(lat.name, e.toString());
                }
            });
        }
    }

    HttpResponse<byte[]> user(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.resolve(path)).timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token);
        if (body != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return admin.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    JsonNode adminCall(String method, String path, Object body, int expect) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = user(method, path, body == null ? null : JSON.writeValueAsString(body));
        if (r.statusCode() != expect) {
            throw new IOException(method + " " + path + ": HTTP " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
        }
        return JSON.readTree(r.body());
    }

    // ------------------------------------------------------------------ measurements

    /** Latency samples of one call kind (nanoseconds). */
    static final class Lat {
        final String name;
        final String side;
        long[] v = new long[4096];
        int n;
        long errors;
        final AtomicLong bytes = new AtomicLong();

        Lat(String name, String side) {
            this.name = name;
            this.side = side;
        }

        synchronized void add(long nanos) {
            if (n == v.length) {
                v = Arrays.copyOf(v, n * 2);
            }
            v[n++] = nanos;
        }

        synchronized void error() {
            errors++;
        }

        synchronized long[] sorted() {
            long[] s = Arrays.copyOf(v, n);
            Arrays.sort(s);
            return s;
        }

        synchronized long errorCount() {
            return errors;
        }
    }

    /** Nearest-rank percentile in milliseconds. */
    static double pct(long[] s, double p) {
        if (s.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, i))] / 1e6;
    }

    /** Samples the server process, this process and the whole machine once a second. */
    final class Sampler {
        volatile boolean stop;
        long serverTicks0, serverTicks1, selfTicks0, selfTicks1, busy0, busy1, total0, total1, dbTicks0, dbTicks1;
        long rssMaxKib, rssLastKib, hwmKib, threadsMax;
        final List<Integer> runningSamples = new ArrayList<>();
        final List<Integer> queuedSamples = new ArrayList<>();
        final List<Double> serverCpuSamples = new ArrayList<>();

        void run(long t0) {
            serverTicks0 = ticks(serverPid);
            dbTicks0 = treeTicks(dbPid);
            selfTicks0 = ticks(ProcessHandle.current().pid());
            long[] st = machine();
            busy0 = st[0];
            total0 = st[1];
            long prevTicks = serverTicks0;
            long next = t0;
            while (!stop) {
                next += 1_000_000_000L;
                sleepUntil(next);
                long t = ticks(serverPid);
                serverCpuSamples.add((double) (t - prevTicks) / clkTck);
                prevTicks = t;
                long[] mem = status(serverPid);
                rssLastKib = mem[0];
                rssMaxKib = Math.max(rssMaxKib, mem[0]);
                hwmKib = Math.max(hwmKib, mem[1]);
                threadsMax = Math.max(threadsMax, mem[2]);
                runningSamples.add(running.get());
                queuedSamples.add(Math.max(0, queued.get()));
            }
            serverTicks1 = ticks(serverPid);
            dbTicks1 = treeTicks(dbPid);
            selfTicks1 = ticks(ProcessHandle.current().pid());
            st = machine();
            busy1 = st[0];
            total1 = st[1];
        }
    }

    static long ticks(long pid) {
        if (pid <= 0) {
            return 0;
        }
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** CPU ticks of a process and all its descendants (PostgreSQL's postmaster and its backends). */
    static long treeTicks(long root) {
        if (root <= 0) {
            return 0;
        }
        Map<Long, List<Long>> children = new HashMap<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path d : dirs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String st = Files.readString(d.resolve("stat"));
                    String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
                    children.computeIfAbsent(Long.parseLong(f[1]), k -> new ArrayList<>()).add(Long.parseLong(d.getFileName().toString()));
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            return 0;
        }
        long sum = 0;
        List<Long> todo = new ArrayList<>(List.of(root));
        while (!todo.isEmpty()) {
            long p = todo.remove(todo.size() - 1);
            sum += ticks(p);
            todo.addAll(children.getOrDefault(p, List.of()));
        }
        return sum;
    }

    /** VmRSS, VmHWM (KiB) and threads of a process. */
    static long[] status(long pid) {
        long[] out = new long[3];
        if (pid <= 0) {
            return out;
        }
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    out[0] = Long.parseLong(l.replaceAll("\\D", ""));
                } else if (l.startsWith("VmHWM:")) {
                    out[1] = Long.parseLong(l.replaceAll("\\D", ""));
                } else if (l.startsWith("Threads:")) {
                    out[2] = Long.parseLong(l.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return out;
    }

    /** Busy and total jiffies of all CPUs (/proc/stat). */
    static long[] machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    /** The server's GC pauses in the window: kind ("Young", "Full", …) → pause milliseconds. */
    Map<String, List<Double>> gcPauses = Map.of();

    static final Pattern GC_PAUSE = Pattern.compile("Pause (\\w+).* ([0-9.]+)ms$");

    Map<String, List<Double>> gcPauses(long from) {
        Map<String, List<Double>> out = new java.util.TreeMap<>();
        if (gcLog == null) {
            return out;
        }
        try (var ch = java.nio.channels.FileChannel.open(gcLog)) {
            ch.position(from);
            String text = new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                Matcher x = GC_PAUSE.matcher(line.trim());
                if (x.find()) {
                    out.computeIfAbsent(x.group(1), k -> new ArrayList<>()).add(Double.parseDouble(x.group(2)));
                }
            }
        } catch (IOException e) {
            firstErrors.putIfAbsent("gc log", e.toString());
        }
        return out;
    }

    static final Pattern METRIC = Pattern.compile("^haven_http_request_duration_seconds_(bucket|sum|count)\\{route=\"([^\"]*)\"(?:,le=\"([^\"]*)\")?\\} (\\S+)$");

    /** Per route: [count, sum seconds, count ≤ 25 ms, count ≤ 100 ms]. */
    Map<String, double[]> scrapeMetrics() {
        Map<String, double[]> m = new HashMap<>();
        try {
            HttpResponse<String> r = admin.send(HttpRequest.newBuilder(server.resolve("/metrics")).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            for (String line : r.body().split("\n")) {
                Matcher x = METRIC.matcher(line);
                if (!x.matches()) {
                    continue;
                }
                double[] v = m.computeIfAbsent(x.group(2), k -> new double[4]);
                double val = Double.parseDouble(x.group(4));
                switch (x.group(1)) {
                    case "count" -> v[0] = val;
                    case "sum" -> v[1] = val;
                    default -> {
                        if ("0.025".equals(x.group(3))) {
                            v[2] = val;
                        } else if ("0.1".equals(x.group(3))) {
                            v[3] = val;
                        }
                    }
                }
            }
        } catch (IOException | InterruptedException e) {
            firstErrors.putIfAbsent("metrics", e.toString());
        }
        return m;
    }

    // ------------------------------------------------------------------ report

    void report(double window, double enrolSeconds, Sampler s, Map<String, double[]> before, Map<String, double[]> after, int online)
            throws IOException {
        Map<Lat, String> routeOf = new LinkedHashMap<>();
        routeOf.put(getJobs, "/api/v1/jobs");
        routeOf.put(getAgents, "/api/v1/agents");
        routeOf.put(getJob, "/api/v1/jobs/{id}");
        routeOf.put(backupNow, "/api/v1/workloads/{workload}/backup");
        routeOf.put(heartbeat, AgentApi.HEARTBEAT);
        routeOf.put(progress, AgentApi.PROGRESS);
        routeOf.put(finish, AgentApi.FINISH);

        ObjectNode root = JSON.createObjectNode();
        ObjectNode cfg = root.putObject("config");
        cfg.put("agents", agents.size());
        cfg.put("groups", groups);
        cfg.put("pooled_workloads", workloads.size());
        cfg.put("job_target", jobTarget);
        cfg.put("job_seconds", jobMinSeconds + "-" + jobMaxSeconds);
        cfg.put("progress_every_s", progressEverySeconds);
        cfg.put("heartbeat_s", agents.isEmpty() ? 15 : agents.get(0).heartbeatSeconds);
        cfg.put("poll_wait_s", 25);
        cfg.put("agent_max_tasks", maxTasks);
        cfg.put("api_rate_per_s", apiRate);
        cfg.put("warmup_s", warmup);
        cfg.put("window_s", Math.round(window * 10) / 10.0);

        StringBuilder md = new StringBuilder();
        md.append("| call | side | calls | per s | errors | p50 ms | p95 ms | p99 ms | max ms | server: mean ms, ≤ 100 ms |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        var calls = root.putArray("calls");
        long[] allUser = new long[0];
        double worstUserP99 = 0;
        long userErrors = 0;
        for (Lat l : List.of(getJobs, getAgents, getJob, backupNow, heartbeat, progress, finish, dispatch)) {
            long[] v = l.sorted();
            long errs = l.errorCount();
            ObjectNode c = calls.addObject();
            c.put("call", l.name);
            c.put("side", l.side);
            c.put("count", v.length);
            c.put("errors", errs);
            c.put("p50_ms", round(pct(v, 50)));
            c.put("p95_ms", round(pct(v, 95)));
            c.put("p99_ms", round(pct(v, 99)));
            c.put("max_ms", round(pct(v, 100)));
            c.put("per_s", round(v.length / window));
            if (l.bytes.get() > 0 && v.length > 0) {
                c.put("mean_response_bytes", l.bytes.get() / v.length);
            }
            String serverCol = "—";
            String route = routeOf.get(l);
            if (route != null && after.containsKey(route)) {
                double[] b = before.getOrDefault(route, new double[4]);
                double[] a = after.get(route);
                double cnt = a[0] - b[0];
                if (cnt > 0) {
                    double mean = (a[1] - b[1]) / cnt * 1000;
                    double le100 = (a[3] - b[3]) / cnt * 100;
                    c.put("server_count", (long) cnt);
                    c.put("server_mean_ms", round(mean));
                    c.put("server_le_25ms_pct", round((a[2] - b[2]) / cnt * 100));
                    c.put("server_le_100ms_pct", round(le100));
                    serverCol = String.format(Locale.ROOT, "%.1f, %.2f %%", mean, le100);
                }
            }
            if (l.side.equals("user")) {
                long[] m = Arrays.copyOf(allUser, allUser.length + v.length);
                System.arraycopy(v, 0, m, allUser.length, v.length);
                allUser = m;
                worstUserP99 = Math.max(worstUserP99, pct(v, 99));
                userErrors += errs;
            }
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %d | %s | %s | %s | %s | %s |%n", l.name, l.side, v.length,
                    v.length / window, errs, f(pct(v, 50)), f(pct(v, 95)), f(pct(v, 99)), f(pct(v, 100)), serverCol));
        }
        Arrays.sort(allUser);
        md.append(String.format(Locale.ROOT, "| **all user API calls** | user | %d | %.1f | %d | %s | %s | **%s** | %s | |%n", allUser.length,
                allUser.length / window, userErrors, f(pct(allUser, 50)), f(pct(allUser, 95)), f(pct(allUser, 99)), f(pct(allUser, 100))));
        double[] tasksRoute = after.get(AgentApi.TASKS);
        double[] tasksBefore = before.getOrDefault(AgentApi.TASKS, new double[4]);
        md.append(String.format(Locale.ROOT, "| GET /api/v1/agent/tasks (long poll, up to 25 s) | agent | %d | %.1f | %d | — | — | — | — | %s |%n",
                pollsInWindow.get(), pollsInWindow.get() / window, pollErrorsInWindow.get(),
                tasksRoute == null ? "—" : String.format(Locale.ROOT, "%.0f polls answered", tasksRoute[0] - tasksBefore[0])));

        ObjectNode sum = root.putObject("summary");
        double serverCpu = (s.serverTicks1 - s.serverTicks0) / (double) clkTck / window;
        double selfCpu = (s.selfTicks1 - s.selfTicks0) / (double) clkTck / window;
        double machineBusy = s.total1 > s.total0 ? (double) (s.busy1 - s.busy0) / (s.total1 - s.total0) : 0;
        int cpus = Runtime.getRuntime().availableProcessors();
        double machineCores = machineBusy * cpus;
        double dbCpu = (s.dbTicks1 - s.dbTicks0) / (double) clkTck / window;
        double otherCpu = Math.max(0, machineCores - serverCpu - selfCpu - dbCpu);
        double runMean = s.runningSamples.stream().mapToInt(Integer::intValue).average().orElse(0);
        int runMin = s.runningSamples.stream().mapToInt(Integer::intValue).min().orElse(0);
        int runMax = s.runningSamples.stream().mapToInt(Integer::intValue).max().orElse(0);
        double queuedMean = s.queuedSamples.stream().mapToInt(Integer::intValue).average().orElse(0);
        double serverCpuMax = s.serverCpuSamples.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        sum.put("user_api_p99_ms", round(pct(allUser, 99)));
        sum.put("worst_user_call_p99_ms", round(worstUserP99));
        sum.put("target_p99_ms", 100);
        sum.put("target_met", pct(allUser, 99) < 100 && worstUserP99 < 100);
        sum.put("agents_heartbeating_in_window", heartbeatersInWindow.size());
        sum.put("agents_online_at_end", online);
        sum.put("jobs_running_mean", round(runMean));
        sum.put("jobs_running_min", runMin);
        sum.put("jobs_running_max", runMax);
        sum.put("jobs_queued_mean", round(queuedMean));
        sum.put("jobs_created", jobsCreatedInWindow.get());
        sum.put("jobs_finished", jobsFinishedInWindow.get());
        sum.put("jobs_per_s", round(jobsFinishedInWindow.get() / window));
        sum.put("tasks_delivered", tasksInWindow.get());
        sum.put("server_cpu_cores_mean", round(serverCpu));
        sum.put("server_cpu_cores_max_1s", round(serverCpuMax));
        sum.put("server_rss_mib_max", s.rssMaxKib / 1024);
        sum.put("server_rss_mib_end", s.rssLastKib / 1024);
        sum.put("server_rss_mib_peak_lifetime", s.hwmKib / 1024);
        sum.put("server_threads_max", s.threadsMax);
        sum.put("generator_cpu_cores_mean", round(selfCpu));
        sum.put("other_cpu_cores_mean", round(otherCpu));
        if (dbPid > 0) {
            sum.put("database_cpu_cores_mean", round(dbCpu));
        }
        sum.put("machine_cpus", cpus);
        sum.put("enrol_seconds", round(enrolSeconds));
        sum.put("enrol_p50_ms", round(pct(enrol.sorted(), 50)));
        sum.put("enrol_p99_ms", round(pct(enrol.sorted(), 99)));
        var errs = sum.putObject("first_errors");
        firstErrors.forEach(errs::put);

        md.append('\n');
        md.append(String.format(Locale.ROOT, "- Agents: %d enrolled (%.1f s, %.0f ms p50 per enrolment), %d heart-beat in the window, "
                + "%d online in the server's view at the end%n", agents.size(), enrolSeconds, pct(enrol.sorted(), 50),
                heartbeatersInWindow.size(), online));
        md.append(String.format(Locale.ROOT, "- Jobs running (agents' view, sampled every second): mean %.1f, min %d, max %d; "
                + "queued mean %.1f; %d created, %d finished in the window (%.2f jobs/s)%n", runMean, runMin, runMax, queuedMean,
                jobsCreatedInWindow.get(), jobsFinishedInWindow.get(), jobsFinishedInWindow.get() / window));
        md.append(String.format(Locale.ROOT, "- Server process: CPU %.2f cores mean (%.0f %% of %d), %.2f max in a 1 s sample; "
                + "RSS %d MiB max in the window (peak %d MiB since start); %d threads max%n", serverCpu, serverCpu / cpus * 100, cpus,
                serverCpuMax, s.rssMaxKib / 1024, s.hwmKib / 1024, s.threadsMax));
        if (gcLog != null) {
            var gc = sum.putObject("server_gc_pauses");
            StringBuilder g = new StringBuilder();
            gcPauses.forEach((kind, ms) -> {
                double max = ms.stream().mapToDouble(Double::doubleValue).max().orElse(0);
                double total = ms.stream().mapToDouble(Double::doubleValue).sum();
                var k = gc.putObject(kind.toLowerCase(Locale.ROOT));
                k.put("count", ms.size());
                k.put("max_ms", round(max));
                k.put("total_ms", round(total));
                g.append(String.format(Locale.ROOT, "%s%d %s (max %.0f ms, %.0f ms in all)", g.length() == 0 ? "" : ", ", ms.size(),
                        kind.toLowerCase(Locale.ROOT), max, total));
            });
            md.append("- Server GC pauses in the window: ").append(g.length() == 0 ? "none" : g).append('\n');
        }
        if (dbPid > 0) {
            md.append(String.format(Locale.ROOT, "- PostgreSQL (postmaster and backends): CPU %.2f cores mean%n", dbCpu));
        }
        md.append(String.format(Locale.ROOT, "- Load generator (same machine): CPU %.2f cores mean; everything else on the machine: %.2f cores%n",
                selfCpu, otherCpu));
        md.append(String.format(Locale.ROOT, "- **User API p99: %.1f ms over all calls, %.1f ms for the slowest kind — target < 100 ms: %s**%n",
                pct(allUser, 99), worstUserP99, pct(allUser, 99) < 100 && worstUserP99 < 100 ? "met" : "NOT met"));
        if (!firstErrors.isEmpty()) {
            md.append("- First error of each kind: ");
            firstErrors.forEach((k, v) -> md.append("`").append(k).append("`: ").append(v.length() > 200 ? v.substring(0, 200) + "…" : v)
                    .append("; "));
            md.append('\n');
        }
        if (outJson != null) {
            Files.writeString(outJson, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        }
        if (outMd != null) {
            Files.writeString(outMd, md.toString());
        }
        System.out.print(md);
    }

    static double round(double d) {
        return Double.isNaN(d) ? -1 : Math.round(d * 100) / 100.0;
    }

    static String f(double ms) {
        return Double.isNaN(ms) ? "—" : String.format(Locale.ROOT, ms < 10 ? "%.2f" : "%.1f", ms);
    }

    // ------------------------------------------------------------------ helpers

    static SSLContext trustOnly(X509Certificate ca) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("haven-ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    static X509Certificate pem(String pem) throws Exception {
        try (InputStream in = new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void sleepUntil(long nanoTime) {
        long d = nanoTime - System.nanoTime();
        if (d > 0) {
            try {
                Thread.sleep(Duration.ofNanos(d));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
