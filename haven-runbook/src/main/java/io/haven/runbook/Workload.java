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
 */
public record Workload(String name, Driver driver, Placement recovery, List<PostBootScript> postBoot, Probe probe,
        Map<String, String> options) {
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
        c.done();
        postBoot = List.copyOf(postBoot);
        options = Collections.unmodifiableMap(new TreeMap<>(options));
    }

    /** A workload without post-boot scripts or driver options. */
    public Workload(String name, Driver driver, Placement recovery, Probe probe) {
        this(name, driver, recovery, List.of(), probe, Map.of());
    }

    /** This workload under another name. */
    public Workload withName(String newName) {
        return new Workload(newName, driver, recovery, postBoot, probe, options);
    }

    /** This workload with one more post-boot script, run after the others. */
    public Workload withPostBoot(PostBootScript script) {
        List<PostBootScript> all = new ArrayList<>(postBoot);
        all.add(script);
        return new Workload(name, driver, recovery, all, probe, options);
    }
}
