package io.haven.server.dns;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.List;

/**
 * What must hold on the server for an update to apply (RFC 2136 section 2.4). The server checks
 * it in the same message as the change, so nothing can slip in between.
 */
public sealed interface Prerequisite {
    /** Apply whatever the record holds now. */
    record None() implements Prerequisite {
    }

    /**
     * Apply only if the RRset holds exactly these values ("RRset exists, value dependent"): the
     * safe choice when the runbook knows what the record should hold now. Values are made
     * canonical by {@link DnsChange}.
     */
    record Exactly(List<String> values) implements Prerequisite {
        public Exactly {
            if (values == null || values.isEmpty()) {
                throw new HavenException(ErrorCode.USAGE, "a prerequisite on the current values needs at least one value;"
                        + " to require that there is no record, use 'absent'");
            }
            values = List.copyOf(values);
        }
    }

    /** Apply only if the name has no RRset of the type ("RRset does not exist"). */
    record Absent() implements Prerequisite {
    }

    static Prerequisite none() {
        return new None();
    }

    static Prerequisite exactly(String... values) {
        return new Exactly(List.of(values));
    }

    static Prerequisite absent() {
        return new Absent();
    }
}
