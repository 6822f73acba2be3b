package io.haven.server.job;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Wakes the task polls waiting in this server when work may have appeared for them. A waiting poll
 * registers a {@link Waiter} for its agent and the groups the agent belongs to; a job queued for one
 * agent wakes that agent's polls only, a pooled job the polls of its group's members, a finished
 * job its agent's polls (its slot is free again). So a thousand waiting polls do not all query the
 * database for every job that comes and goes. {@link #signalAll()} wakes every poll (work another
 * server queued, jobs settled, shutdown). Polls also re-check the database now and then, which is
 * how they learn of changes nothing signalled. Uses semaphores, not {@code Object.wait}, so
 * waiting virtual threads do not pin their carrier. Thread-safe.
 */
public final class JobSignal {
    private final Map<Long, Set<Waiter>> byAgent = new ConcurrentHashMap<>();
    private final Map<Long, Set<Waiter>> byGroup = new ConcurrentHashMap<>();
    private final Set<Waiter> all = ConcurrentHashMap.newKeySet();
    private volatile boolean shutdown;

    /** One waiting task poll of an agent. Close it when the poll ends. */
    public final class Waiter implements AutoCloseable {
        private final long agent;
        private final List<Long> groups;
        private final Semaphore woken = new Semaphore(0);

        private Waiter(long agent, List<Long> groups) {
            this.agent = agent;
            this.groups = groups;
        }

        /** Forgets earlier signals: call it before looking for work, then {@link #await} after finding none. */
        public void reset() {
            woken.drainPermits();
        }

        /** Waits until a signal for this poll arrives after the last {@link #reset()}, or {@code max} passes. */
        public void await(Duration max) throws InterruptedException {
            if (!shutdown) {
                woken.tryAcquire(max.toNanos(), TimeUnit.NANOSECONDS);
            }
        }

        void wake() {
            if (woken.availablePermits() == 0) {
                woken.release();
            }
        }

        @Override
        public void close() {
            remove(byAgent, agent, this);
            for (long g : groups) {
                remove(byGroup, g, this);
            }
            all.remove(this);
        }
    }

    /** Registers a poll of {@code agent}, a member of {@code groups}; signals from now on wake it. */
    public Waiter register(long agent, Collection<Long> groups) {
        Waiter w = new Waiter(agent, List.copyOf(groups));
        all.add(w);
        byAgent.computeIfAbsent(agent, k -> ConcurrentHashMap.newKeySet()).add(w);
        for (long g : w.groups) {
            byGroup.computeIfAbsent(g, k -> ConcurrentHashMap.newKeySet()).add(w);
        }
        return w;
    }

    private static void remove(Map<Long, Set<Waiter>> m, long key, Waiter w) {
        m.computeIfPresent(key, (k, set) -> {
            set.remove(w);
            return set.isEmpty() ? null : set;
        });
    }

    /** Work may have appeared for {@code agent} (a job addressed to it, or a slot of its own freed up). */
    public void signalAgent(long agent) {
        wake(byAgent.get(agent));
    }

    /** A pooled job of {@code group} was queued: any member may take it. */
    public void signalGroup(long group) {
        wake(byGroup.get(group));
    }

    /**
     * Wakes the polls a job concerns: its agent's, or its pool's members'. A job that names neither
     * (maintenance, run by the server) is no agent's work.
     */
    public void signalFor(Long agent, Long pool) {
        if (agent != null) {
            signalAgent(agent);
        } else if (pool != null) {
            signalGroup(pool);
        }
    }

    public void signalAll() {
        wake(all);
    }

    private static void wake(Set<Waiter> ws) {
        if (ws != null) {
            for (Waiter w : ws) {
                w.wake();
            }
        }
    }

    /** Ends every wait now and from now on (the server is stopping: polls answer at once). */
    public void shutdown() {
        shutdown = true;
        signalAll();
    }

    public boolean isShutdown() {
        return shutdown;
    }
}
