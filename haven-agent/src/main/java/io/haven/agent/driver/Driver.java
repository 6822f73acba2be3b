package io.haven.agent.driver;

import java.time.Duration;

/**
 * Knows how to run one kind of workload on a host. Drivers are the agent's plug-in family:
 * {@code process} (a command with its data directories) now, {@code postgres}, VMs and
 * containers later. Every driver passes {@code DriverConformanceTest}.
 *
 * <p>Contract: every operation is idempotent (starting a running workload, stopping a stopped
 * one, preparing prepared volumes change nothing and succeed), and state lives on disk in the
 * instance's run directory, so a restarted agent (a new driver object) sees the workloads the
 * previous one started. Failures are {@link io.haven.core.HavenException}s: USAGE for bad
 * settings, IO for what the host refused. Implementations are thread-safe for different
 * instances; one instance is driven by one thread at a time.
 */
public interface Driver {
    /** The name plans use: {@code process}, {@code postgres}, … */
    String kind();

    /** Checks an instance's settings without touching the host; USAGE naming the setting. */
    void validate(WorkloadInstance w);

    /** Makes the volumes usable here (directories exist, owned and writable). */
    void prepare(WorkloadInstance w);

    /** Starts the workload; returns once it is started (its probe says when it is healthy). */
    void start(WorkloadInstance w);

    /** Stops gracefully within {@code grace}, then forcibly. */
    void stop(WorkloadInstance w, Duration grace);

    /** Whether the workload runs now. */
    boolean running(WorkloadInstance w);

    /** Makes the volumes consistent for a snapshot (flush, pause writes); a no-op when the driver has no such notion. */
    void quiesce(WorkloadInstance w);

    /** Undoes {@link #quiesce}. */
    void unquiesce(WorkloadInstance w);
}
