package io.haven.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.server.agent.AgentEndpoints;
import io.haven.server.agent.Agents;
import io.haven.server.agent.Enrollment;
import io.haven.server.db.Database;
import io.haven.server.http.Api;
import io.haven.server.http.Route;
import io.haven.server.inventory.Inventory;
import io.haven.server.inventory.InventoryEndpoints;
import io.haven.server.job.Backups;
import io.haven.server.job.ControlLoop;
import io.haven.server.job.JobEndpoints;
import io.haven.server.job.JobSignal;
import io.haven.server.job.Jobs;
import io.haven.server.job.Ticks;
import io.haven.server.repo.Repositories;
import io.haven.server.repo.RepositoryAccess;
import io.haven.server.repo.RepositoryHandler;
import io.haven.server.schedule.Schedule;
import io.haven.server.tls.ServerTls;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.eclipse.jetty.server.Handler;

/**
 * The control plane inside {@code haven server}: agents and their enrolment, inventory, jobs, the
 * scheduler loop and the repositories served to agents. Built once at start-up; {@link #start()}
 * starts the background loop, {@link #close()} stops it. Thread-safe.
 */
public final class ControlPlane implements AutoCloseable {
    /** What the control plane reports for notifications. */
    public interface Listener {
        default void jobEnded(Jobs.Job job) {}

        default void jobMissed(Jobs.Job job) {}

        default void agentOffline(Agents.Agent agent) {}

        default void runPublished(io.haven.runbook.run.RunState state, io.haven.runbook.run.RunReport report) {}

        default void approvalNeeded(io.haven.runbook.run.RunState state, io.haven.runbook.run.Command.AskApproval ask) {}

        default void rpo(io.haven.server.dr.DrCopies.Status status, boolean breach) {}
    }

    private final Agents agents;
    private final Inventory inventory;
    private final Jobs jobs;
    private final Backups backups;
    private final Repositories repositories;
    private final AgentEndpoints agentEndpoints;
    private final List<Route> routes;
    private final ControlLoop loop;
    private final String serverId;
    private final List<Listener> listeners;
    private final io.haven.server.dr.RunExecutor executor;
    private final io.haven.server.dr.DrCopies copies;
    private final java.util.concurrent.ScheduledExecutorService copyTicker = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "haven-dr-copies");
        t.setDaemon(true);
        return t;
    });

    private ControlPlane(Agents agents, Inventory inventory, Jobs jobs, Backups backups, Repositories repositories,
            AgentEndpoints agentEndpoints, List<Route> routes, ControlLoop loop, String serverId, List<Listener> listeners,
            io.haven.server.dr.RunExecutor executor, io.haven.server.dr.DrCopies copies) {
        this.executor = executor;
        this.copies = copies;
        this.agents = agents;
        this.inventory = inventory;
        this.jobs = jobs;
        this.backups = backups;
        this.repositories = repositories;
        this.agentEndpoints = agentEndpoints;
        this.routes = routes;
        this.loop = loop;
        this.serverId = serverId;
        this.listeners = listeners;
    }

    static ControlPlane create(ServerConfig config, Database db, ServerTls tls, ObjectMapper json) {
        ServerConfig.Control c = config.control();
        String serverId = "server-" + UUID.randomUUID().toString().substring(0, 8);
        List<Listener> listeners = new CopyOnWriteArrayList<>();
        Consumer<Jobs.Job> ended = j -> listeners.forEach(l -> l.jobEnded(j));
        Api api = new Api(json);
        Agents agents = new Agents(db.jdbi(), config.clock(), c.offlineAfter());
        Inventory inventory = new Inventory(db.jdbi(), config.clock());
        Jobs jobs = new Jobs(db.jdbi(), config.clock(), new JobSignal(), ended);
        Enrollment enrollment = new Enrollment(db.jdbi(), agents, tls, config.clock(), config.random());
        Repositories repositories = new Repositories(inventory, config.clock(), config.random(), c.repositoryKdfKib());
        Backups backups = new Backups(inventory, agents, jobs);
        Ticks ticks = (expr, zone, after) -> Schedule.parse(expr, zone).next(after);
        io.haven.server.dr.Fences fences = new io.haven.server.dr.Fences(db.jdbi(), config.clock());
        AgentEndpoints agentEndpoints = new AgentEndpoints(agents, enrollment, inventory, jobs, fences, api, (int) c.heartbeat().toSeconds());
        List<Route> routes = new ArrayList<>(agentEndpoints.routes());
        routes.addAll(new InventoryEndpoints(inventory, agents, repositories, ticks, config.clock(), api).routes());
        routes.addAll(new JobEndpoints(jobs, backups, inventory, agents, repositories, api).routes());
        io.haven.server.plan.Plans plans = new io.haven.server.plan.Plans(db.jdbi(), inventory, agents, config.clock());
        routes.addAll(new io.haven.server.plan.PlanEndpoints(plans, api).routes());
        java.util.function.Consumer<String> drLog = m -> System.err.println("haven server: " + m);
        io.haven.server.dr.RunExecutor executor = new io.haven.server.dr.RunExecutor(new io.haven.server.dr.Runs(db.jdbi(), config.clock()),
                plans, jobs, agents, inventory, repositories, fences, new io.haven.server.dns.Rfc2136Updater(config.clock()), config.clock(),
                serverId, new io.haven.server.dr.RunExecutor.Listener() {
                    @Override
                    public void published(io.haven.runbook.run.RunState state, io.haven.runbook.run.RunReport report) {
                        listeners.forEach(l -> l.runPublished(state, report));
                    }

                    @Override
                    public void approvalNeeded(io.haven.runbook.run.RunState state, io.haven.runbook.run.Command.AskApproval ask) {
                        listeners.forEach(l -> l.approvalNeeded(state, ask));
                    }
                }, drLog);
        io.haven.server.dr.DrCopies copies = new io.haven.server.dr.DrCopies(db.jdbi(), plans, executor.runs(), jobs, agents, inventory,
                executor, config.clock(), (st, breach) -> listeners.forEach(l -> l.rpo(st, breach)), drLog);
        routes.addAll(new io.haven.server.dr.RunEndpoints(executor, copies, plans, api).routes());
        ControlLoop loop = new ControlLoop(db.jdbi(), inventory, agents, jobs, backups, repositories, ticks, config.clock(), c.tick(),
                c.lostAfter(), serverId, a -> listeners.forEach(l -> l.agentOffline(a)), j -> listeners.forEach(l -> l.jobMissed(j)));
        return new ControlPlane(agents, inventory, jobs, backups, repositories, agentEndpoints, routes, loop, serverId, listeners, executor,
                copies);
    }

    public List<Route> routes() {
        return routes;
    }

    public AgentEndpoints agentEndpoints() {
        return agentEndpoints;
    }

    /** The Jetty handler: the repository REST backend under {@code /repo/v1/}, the API for the rest. */
    Handler handler(Handler api) {
        RepositoryHandler repo = new RepositoryHandler(this::authorizeRepository);
        Handler.Sequence seq = new Handler.Sequence() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                    org.eclipse.jetty.util.Callback callback) throws Exception {
                if (request.getHttpURI().getPath().startsWith(RepositoryHandler.PREFIX)) {
                    return repo.handle(request, response, callback);
                }
                return api.handle(request, response, callback);
            }
        };
        seq.addHandler(repo);
        seq.addHandler(api);
        return seq;
    }

    /**
     * Agents reach a repository only while they run a job that uses it, and only append-only: they
     * add data and snapshots but cannot delete or overwrite (see docs/backends.md). Nobody else
     * uses this door: the server's own maintenance opens repositories directly.
     */
    private RepositoryAccess.Grant authorizeRepository(org.eclipse.jetty.server.Request request, String repository) {
        Object o = request.getAttribute(org.eclipse.jetty.io.EndPoint.SslSessionData.ATTRIBUTE);
        java.security.cert.X509Certificate[] chain = o instanceof org.eclipse.jetty.io.EndPoint.SslSessionData ssl ? ssl.peerCertificates() : null;
        if (chain == null || chain.length == 0) {
            throw new io.haven.core.HavenException(io.haven.core.ErrorCode.UNAUTHENTICATED,
                    "the repository is served to enrolled agents only (client certificate required)");
        }
        io.haven.server.http.Call.AgentPrincipal a = agentEndpoints.authenticate(chain[0]);
        Inventory.Repo r = inventory.findRepository(repository).orElseThrow(() -> new io.haven.core.HavenException(
                io.haven.core.ErrorCode.FORBIDDEN, "agent " + a.name() + " runs no job that uses repository '" + repository + "'"));
        if (!jobs.runsJobOn(a.id(), r.id())) {
            throw new io.haven.core.HavenException(io.haven.core.ErrorCode.FORBIDDEN, "agent " + a.name()
                    + " runs no job that uses repository '" + repository + "'");
        }
        return new RepositoryAccess.Grant(repositories.backend(repository), true, "agent " + a.name());
    }

    public void addListener(Listener l) {
        listeners.add(l);
    }

    public Agents agents() {
        return agents;
    }

    public Inventory inventory() {
        return inventory;
    }

    public Jobs jobs() {
        return jobs;
    }

    public Backups backups() {
        return backups;
    }

    public Repositories repositories() {
        return repositories;
    }

    public ControlLoop loop() {
        return loop;
    }

    /** This server process's id (owner of the leases of server-side jobs). */
    public String serverId() {
        return serverId;
    }

    public io.haven.server.dr.RunExecutor runs() {
        return executor;
    }

    public io.haven.server.dr.DrCopies copies() {
        return copies;
    }

    void start() {
        loop.start();
        executor.start();
        copyTicker.scheduleWithFixedDelay(() -> {
            try {
                copies.tick();
            } catch (RuntimeException e) {
                System.err.println("haven server: DR copies: " + e);
            }
        }, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Answers waiting task polls at once, so the listener can stop without waiting for them. */
    void stopPolls() {
        jobs.signal().shutdown();
    }

    @Override
    public void close() {
        copyTicker.shutdownNow();
        executor.close();
        loop.close();
        repositories.close();
    }
}
