package io.haven.runbook;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a workload runs at the recovery site: the agent ({@code host}), the directories or image
 * files that hold its volumes there, and the IP addresses it binds there (may be empty when the
 * workload binds what its host has).
 */
public record Placement(String host, List<String> volumes, List<String> addresses) {
    public Placement {
        Checks c = new Checks();
        c.name("host", host);
        if (c.list("volumes", volumes)) {
            if (volumes.isEmpty()) {
                c.add("volumes", "must name at least one volume path");
            }
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < volumes.size(); i++) {
                String v = volumes.get(i);
                String at = "volumes[" + i + "]";
                if (!v.startsWith("/")) {
                    c.add(at, "must be an absolute path, not \"" + v + "\"");
                } else if (List.of(v.split("/")).contains("..") || v.contains("\0")) {
                    c.add(at, "must not contain '..': \"" + v + "\"");
                } else if (!seen.add(v)) {
                    c.add(at, "is listed twice: \"" + v + "\"");
                }
            }
        }
        if (c.list("addresses", addresses)) {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < addresses.size(); i++) {
                String a = addresses.get(i);
                String at = "addresses[" + i + "]";
                if (!Addresses.ip(a)) {
                    c.add(at, "must be an IPv4 or IPv6 address, not \"" + a + "\"");
                } else if (!seen.add(a)) {
                    c.add(at, "is listed twice: \"" + a + "\"");
                }
            }
        }
        c.done();
        volumes = List.copyOf(volumes);
        addresses = List.copyOf(addresses);
    }
}
