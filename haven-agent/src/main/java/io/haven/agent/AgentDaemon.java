package io.haven.agent;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.AgentApi;
import io.haven.protocol.Messages;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code haven agent run}: the agent process. Makes only outbound HTTPS connections to its server
 * (mutual TLS): heartbeats with host facts and the jobs it runs, a long-polled task request while
 * it has a free slot, progress and log lines every two seconds for each running job, and the
 * outcome when a job ends. When the server is away, the agent keeps running its jobs, keeps their
 * results, and delivers them when the server is back (retrying with back-off). Each start is a new
 * <em>instance</em>, so the server knows the previous process's jobs are gone.
 */
public final class AgentDaemon implements AutoCloseable {
    /** Settings of the daemon. */
    public record Options(int maxTasks, int threadsPerTask, Duration progressEvery, PrintStream log) {
        public Options {
            if (maxTasks < 1 || maxTasks > 64) {
                throw new HavenException(ErrorCode.USAGE, "an agent runs 1 to 64 tasks at once, not " + maxTasks);
            }
        }
    }

    /**
     * A job this process runs. {@code working} is true while its work runs: a cancel interrupts the
     * thread only then, never while it reports the outcome (an interrupted thread cannot talk to the
     * server). Both change under the record's monitor.
     */
    private record Running(Messages.Task task, TaskRunner runner, JobLog log, Thread thread, AtomicBoolean cancelled, AtomicBoolean working) {}

    /** How many times an outcome the server refused with an error (not a verdict on the job) is sent again. */
    static final int OUTCOME_RETRIES = 5;

    private volatile Identity identity;
    private final Options options;
    private final Fences fences;
    private volatile ServerClient client;
    private final String instance = UUID.randomUUID().toString();
    private final Map<Long, Running> running = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "haven-agent-timer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile int heartbeatSeconds = 15;
    private volatile String lastProblem;
    private volatile Thread runThread;
    private int beats;

    public AgentDaemon(Identity identity, Options options) {
        this.identity = identity;
        this.options = options;
        this.client = new ServerClient(identity.server(), identity.sslContext());
        this.fences = Fences.load(identity.dir());
    }

    public String instance() {
        return instance;
    }

    /** Runs until {@link #close()}; returns then. */
    public void run() {
        runThread = Thread.currentThread();
        say("agent '" + identity.name() + "' (id " + identity.agentId() + ") connecting to " + identity.server() + ", up to "
                + options.maxTasks() + " task(s) at once");
        heartbeat();
        scheduleHeartbeat();
        timers.scheduleWithFixedDelay(this::reportProgress, options.progressEvery().toMillis(), options.progressEvery().toMillis(),
                TimeUnit.MILLISECONDS);
        while (!closed.get()) {
            // DR operations (start, stop, probe… of a run) take no task slot, so the poll goes on with
            // every slot busy: the server then hands out only DR tasks (free=0)
            int free = Math.max(0, options.maxTasks() - (int) running.values().stream().filter(r -> !"dr".equals(r.task().type())).count());
            try {
                Messages.TaskBatch batch = client.get(AgentApi.TASKS + "?free=" + free + "&wait=" + 25 + "&instance=" + instance,
                        Messages.TaskBatch.class, Duration.ofSeconds(40));
                ok();
                fence(batch.fenced());
                for (Messages.Task t : batch.tasks() == null ? List.<Messages.Task>of() : batch.tasks()) {
                    start(t);
                }
            } catch (ServerClient.Unreachable e) {
                problem(e.getMessage());
                sleep(Duration.ofSeconds(2));
            } catch (HavenException e) {
                problem("the server refused the task poll: " + e.getMessage());
                sleep(Duration.ofSeconds(Math.max(2, heartbeatSeconds)));
            }
        }
    }

    private void scheduleHeartbeat() {
        if (!closed.get()) {
            timers.schedule(() -> {
                heartbeat();
                scheduleHeartbeat();
            }, heartbeatSeconds, TimeUnit.SECONDS);
        }
    }

    /** Renews the client certificate when it nears its end; a failure is retried at the next heartbeat. */
    private void renewIfDue() {
        if (!Renewal.due(identity, java.time.Instant.now(), Renewal.RENEW_BEFORE)) {
            return;
        }
        try {
            Identity next = Renewal.renew(identity, new java.security.SecureRandom());
            identity = next;
            client = new ServerClient(next.server(), next.sslContext());
            say("renewed the client certificate; it is valid until " + next.certificate().getNotAfter().toInstant());
        } catch (RuntimeException e) {
            problem("certificate renewal failed (retried at the next heartbeat): " + e.getMessage());
        }
    }

    private void heartbeat() {
        renewIfDue();
        try {
            Messages.HostFacts facts = beats++ % 4 == 0 ? HostProbe.facts() : null;
            Messages.HeartbeatReply r = client.post(AgentApi.HEARTBEAT, new Messages.Heartbeat(instance, Version.get(), facts,
                    options.maxTasks(), new ArrayList<>(running.keySet())), Messages.HeartbeatReply.class, Duration.ofSeconds(20));
            ok();
            fence(r.fenced());
            if (r.heartbeatSeconds() > 0) {
                heartbeatSeconds = r.heartbeatSeconds();
            }
            for (long id : r.cancel() == null ? List.<Long>of() : r.cancel()) {
                cancel(id);
            }
        } catch (ServerClient.Unreachable e) {
            problem(e.getMessage());
        } catch (RuntimeException e) {
            problem("heartbeat refused: " + e.getMessage());
        }
    }

    /** Takes the server's newest list of the DR plans fenced at this site (null: it did not say). */
    private void fence(List<String> fenced) {
        try {
            fences.update(fenced);
        } catch (RuntimeException e) {
            problem(e.getMessage());
        }
    }

    private void start(Messages.Task t) {
        JobLog log = new JobLog(t.jobId(), options.log());
        AtomicBoolean cancelled = new AtomicBoolean();
        TaskRunner runner = new TaskRunner(identity, t, log, options.threadsPerTask(), fences, cancelled::get);
        AtomicBoolean working = new AtomicBoolean(true);
        Running[] self = new Running[1];
        Thread th = new Thread(() -> execute(t, runner, log, cancelled, self[0]), "haven-job-" + t.jobId());
        self[0] = new Running(t, runner, log, th, cancelled, working);
        running.put(t.jobId(), self[0]);
        say("job " + t.jobId() + ": " + t.type() + " started");
        th.start();
    }

    private void execute(Messages.Task t, TaskRunner runner, JobLog log, AtomicBoolean cancelled, Running self) {
        TaskRunner.Outcome outcome;
        try {
            outcome = runner.run();
        } catch (RuntimeException | Error e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            if (cancelled.get()) {
                outcome = new TaskRunner.Outcome("cancelled", "cancelled on request (" + msg + ")", null);
            } else {
                log.error(msg);
                outcome = new TaskRunner.Outcome("failed", msg, null);
            }
        }
        if (cancelled.get() && !outcome.status().equals("cancelled")) {
            outcome = new TaskRunner.Outcome("cancelled", "cancelled on request; " + outcome.message(), outcome.result());
        }
        // the work is over: clear the interrupt a cancel used to stop it (a later cancel no longer
        // interrupts), or every call to the server would fail at once with "interrupted" and the job
        // would stay running on the server for ever. The thread ends after the delivery, so there is
        // no interrupt to restore; an agent that is stopping still interrupts it (close()).
        boolean wasInterrupted;
        synchronized (self) {
            self.working().set(false);
            wasInterrupted = Thread.interrupted();
        }
        deliver(t.jobId(), runner, log, outcome);
        if (wasInterrupted && closed.get()) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Sends a job's outcome until the server has it. An unreachable server is retried until it is
     * back; any other error {@link #OUTCOME_RETRIES} more times with the same back-off, so a
     * transient one does not leave the job running on the server; a refusal of the job itself
     * (404: not this agent's, 409: settled otherwise) is final.
     */
    private void deliver(long jobId, TaskRunner runner, JobLog log, TaskRunner.Outcome o) {
        Duration wait = Duration.ofSeconds(1);
        int errors = 0;
        while (true) {
            List<Messages.LogLine> lines = log.take();
            try {
                TaskRunner.Counters c = runner.counters();
                client.post(AgentApi.progress(jobId), new Messages.Progress(c.bytesDone().getAsLong(), c.bytesTotal().getAsLong(),
                        c.filesDone().getAsLong(), c.filesTotal().getAsLong(), List.of()), Messages.ProgressReply.class, Duration.ofSeconds(20));
            } catch (RuntimeException e) {
                // the outcome is what matters; counters are best effort
            }
            try {
                client.post(AgentApi.finish(jobId), new Messages.Finish(o.status(), o.message(), o.result(), lines), Map.class,
                        Duration.ofSeconds(30));
                say("job " + jobId + ": " + o.status() + " — " + o.message());
                break;
            } catch (ServerClient.Unreachable e) {
                log.putBack(lines);
                problem("job " + jobId + " ended " + o.status() + "; will report when the server is back: " + e.getMessage());
                if (closed.get()) {
                    break;
                }
                sleep(wait);
                wait = wait.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30) : wait.multipliedBy(2);
            } catch (HavenException e) {
                boolean verdict = e.code() == ErrorCode.NOT_FOUND || e.code() == ErrorCode.CONFLICT || e.code() == ErrorCode.FORBIDDEN
                        || e.code() == ErrorCode.UNAUTHENTICATED;
                if (verdict || closed.get() || ++errors > OUTCOME_RETRIES) {
                    say("job " + jobId + ": the server did not take its outcome (" + o.status() + "): " + e.getMessage());
                    break;
                }
                log.putBack(lines);
                problem("job " + jobId + " ended " + o.status() + "; the server did not take it (" + e.getMessage() + "), retrying");
                sleep(wait);
                wait = wait.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30) : wait.multipliedBy(2);
            }
        }
        running.remove(jobId);
    }

    private void reportProgress() {
        for (Running r : running.values()) {
            if (!r.thread().isAlive()) {
                continue; // its outcome is being delivered
            }
            List<Messages.LogLine> lines = r.log().take();
            try {
                TaskRunner.Counters c = r.runner().counters();
                Messages.ProgressReply reply = client.post(AgentApi.progress(r.task().jobId()), new Messages.Progress(
                        c.bytesDone().getAsLong(), c.bytesTotal().getAsLong(), c.filesDone().getAsLong(), c.filesTotal().getAsLong(), lines),
                        Messages.ProgressReply.class, Duration.ofSeconds(20));
                if (reply.cancel()) {
                    cancel(r.task().jobId());
                }
            } catch (ServerClient.Unreachable e) {
                r.log().putBack(lines);
            } catch (RuntimeException e) {
                r.log().putBack(lines);
                problem("progress of job " + r.task().jobId() + " refused: " + e.getMessage());
            }
        }
    }

    private void cancel(long jobId) {
        Running r = running.get(jobId);
        if (r != null && r.cancelled().compareAndSet(false, true)) {
            r.log().warn("cancel requested: stopping");
            synchronized (r) {
                if (r.working().get()) {
                    r.thread().interrupt();
                }
            }
        }
    }

    private void problem(String p) {
        if (!p.equals(lastProblem)) {
            lastProblem = p;
            say(p);
        }
    }

    private void ok() {
        if (lastProblem != null) {
            lastProblem = null;
            say("connected to " + identity.server());
        }
    }

    private void say(String line) {
        if (options.log() != null) {
            options.log().println("haven agent: " + line);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops polling and heartbeats, tells the server this process is going (so its task poll still
     * waiting there starts no job nobody would run) and interrupts running jobs.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            timers.shutdownNow();
            Thread t = runThread;
            if (t != null) {
                t.interrupt(); // ends a waiting task poll
            }
            try {
                client.post(AgentApi.BYE + "?instance=" + instance, Map.of(), Map.class, Duration.ofSeconds(3));
            } catch (RuntimeException e) {
                // best effort: the server may be away (or older); a restart's first poll supersedes this process anyway
            }
            for (Running r : running.values()) {
                r.thread().interrupt();
            }
        }
    }
}
