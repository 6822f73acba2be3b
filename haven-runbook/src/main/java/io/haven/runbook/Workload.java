package io.haven.runbook;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A workload a plan protects: its name (the inventory's workload at the protected site), the
 * driver that runs it, where it runs at the recovery site, the scripts run after it boots, and
 * the probe that says it is up. {@code options} are the driver's settings (the service command
 * and environment of a {@code process}, a {@code postgres} port…); the driver checks them when
 * the plan is applied, this model only their names.
 *
 * @param protectedAt where it runs at the protected site ({@code protected:} in the plan file); null
 *     when the plan leaves it to the inventory (the workload of the same name: its agent and paths)
 * @param sandboxAddresses the addresses a drill's copy binds instead of the recovery addresses,
 *     in the same order ({@code sandboxAddresses:}); a drill needs them when the workload has
 *     recovery addresses
 */
public record Workload(String name, Driver driver, Placement recovery, List<PostBootScript> postBoot, Probe probe,
        Map<String, String> options, Placement protectedAt, List<String> sandboxAddresses) {
    public Workload {
        Checks c = new Checks();
        c.name("name", name);
        c.present("driver", driver);
        c.present("recovery", recovery);
        c.list("postBoot", postBoot);
        c.present("probe", probe);
        if (options == null) {
            options = Map.of();
        }
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (e.getKey() == null || !e.getKey().matches("[A-Za-z][A-Za-z0-9_.-]{0,63}")) {
                c.add("options", "option names are 1-64 letters, digits, '_', '.' or '-', starting with a letter, not \"" + e.getKey() + "\"");
            } else if (e.getValue() == null) {
                c.add("options." + e.getKey(), "needs a value");
            }
        }
        if (sandboxAddresses == null) {
            sandboxAddresses = List.of();
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < sandboxAddresses.size(); i++) {
            String a = sandboxAddresses.get(i);
            if (!Addresses.ip(a)) {
                c.add("sandboxAddresses[" + i + "]", "must be an IPv4 or IPv6 address, not \"" + a + "\"");
            } else if (!seen.add(a)) {
                c.add("sandboxAddresses[" + i + "]", "is listed twice: \"" + a + "\"");
            } else if (recovery != null && recovery.addresses().contains(a)) {
                c.add("sandboxAddresses[" + i + "]", "is a recovery address; a drill's copy needs its own");
            }
        }
        if (recovery != null && protectedAt != null && protectedAt.host().equals(recovery.host())
                && protectedAt.volumes().stream().anyMatch(recovery.volumes()::contains)) {
            c.add("protected.volumes", "shares a volume with the recovery placement on the same host " + recovery.host());
        }
        c.done();
        sandboxAddresses = List.copyOf(sandboxAddresses);
        postBoot = List.copyOf(postBoot);
        options = Collections.unmodifiableMap(new TreeMap<>(options));
    }

    /** A workload placed only at the recovery site (the protected placement comes from the inventory), with no sandbox addresses. */
    public Workload(String name, Driver driver, Placement recovery, List<PostBootScript> postBoot, Probe probe, Map<String, String> options) {
        this(name, driver, recovery, postBoot, probe, options, null, List.of());
    }

    /** A workload without post-boot scripts or driver options. */
    public Workload(String name, Driver driver, Placement recovery, Probe probe) {
        this(name, driver, recovery, List.of(), probe, Map.of());
    }

    /** Where it runs at {@code site}, a site of {@code plan}; empty at the protected site when the plan names no {@code protected} placement. */
    public java.util.Optional<Placement> placementAt(DrPlan plan, String site) {
        if (site.equals(plan.recoverySite())) {
            return java.util.Optional.of(recovery);
        }
        return java.util.Optional.ofNullable(protectedAt);
    }

    /** This workload under another name. */
    public Workload withName(String newName) {
        return new Workload(newName, driver, recovery, postBoot, probe, options, protectedAt, sandboxAddresses);
    }

    /** This workload with one more post-boot script, run after the others. */
    public Workload withPostBoot(PostBootScript script) {
        List<PostBootScript> all = new ArrayList<>(postBoot);
        all.add(script);
        return new Workload(name, driver, recovery, all, probe, options, protectedAt, sandboxAddresses);
    }
}
