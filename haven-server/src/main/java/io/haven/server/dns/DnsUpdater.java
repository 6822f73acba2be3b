package io.haven.server.dns;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Changes one DNS RRset on an authoritative server and proves that the server now serves it:
 * the DNS step of a runbook (point {@code app.example.com} at the recovery site, and back).
 *
 * <p>Contract of {@link #update}: the change is atomic on the server (all of it or none of
 * it); it returns only after a direct query to the same server shows the new values and TTL;
 * it throws {@link DnsUpdateException} otherwise. After a failure the record is unchanged,
 * except in two cases: {@link DnsUpdateException.Failure#NOT_APPLIED NOT_APPLIED} (the server
 * accepted the update and serves something else), and an UNREACHABLE or BAD_RESPONSE failure
 * that came after the UPDATE was sent (its answer was lost or could not be trusted), whose
 * message says that the update may or may not have been applied. Implementations are
 * thread-safe.
 */
public interface DnsUpdater {
    /**
     * Applies {@code change} and verifies it.
     *
     * @return what the record held before, and timings
     * @throws DnsUpdateException when the change was refused, could not be sent, or is not served
     */
    Result update(DnsChange change);

    /**
     * Checks, without changing anything, what {@link #update} of {@code change} needs beyond the
     * permission for the name: the server answers, serves the zone, and accepts the TSIG key. It
     * sends a signed UPDATE whose only content is the prerequisite that the record holds what it
     * holds now, so nothing can change. Whether the zone's policy grants the key this name is
     * checked by servers only for records an update changes, so it is not checked here.
     *
     * @return the values the record holds now (empty when there is none)
     * @throws DnsUpdateException as {@link #update} would for the same failure; PREREQUISITE_FAILED
     *     only when the record changed between the read and the check
     */
    List<String> check(DnsChange change);

    /**
     * What an update did.
     *
     * @param change the change applied (canonical names and values)
     * @param previous the values the server held just before the update; empty when there
     *     was no such RRset. With a {@link Prerequisite.Exactly} prerequisite these are exactly
     *     the values replaced; without one, another client could have changed the record
     *     between the read and the update.
     * @param previousTtl the TTL of {@code previous}; null when there was none
     * @param startedAt when the update started
     * @param updateTime from sending the UPDATE to its answer
     * @param verifyTime the verifying query
     * @param totalTime everything: the zone check, the read, the update and the verification
     */
    record Result(DnsChange change, List<String> previous, Duration previousTtl, Instant startedAt, Duration updateTime,
            Duration verifyTime, Duration totalTime) {
        public Result {
            previous = List.copyOf(previous);
        }

        /**
         * The change that puts the previous values back (for a roll-back or a failback),
         * conditional on the record still holding what this update set; when there was no
         * record before, the undo removes it.
         */
        public DnsChange undo() {
            Prerequisite now = change.values().isEmpty() ? new Prerequisite.Absent() : new Prerequisite.Exactly(change.values());
            Duration ttl = previousTtl == null ? change.ttl() : previousTtl;
            return change.withValues(previous, ttl).withPrerequisite(now);
        }
    }
}
