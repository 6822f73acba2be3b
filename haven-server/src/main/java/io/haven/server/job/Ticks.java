package io.haven.server.job;

import java.time.Instant;

/** Reads a schedule expression in a zone and gives its next tick strictly after a time. */
@FunctionalInterface
public interface Ticks {
    /** @throws io.haven.core.HavenException USAGE for a bad expression or zone */
    Instant next(String expression, String zone, Instant after);
}
