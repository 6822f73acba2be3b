package io.haven.server.dr;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.protocol.Messages;
import io.haven.runbook.Driver;
import io.haven.runbook.DrPlan;
import io.haven.runbook.Placement;
import io.haven.runbook.Probe;
import io.haven.runbook.Workload;
import io.haven.server.inventory.Inventory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a plan's workload runs as one instance: at the recovery site (the plan's placement), at
 * the protected site (the plan's {@code protected} placement, or the inventory's workload of the
 * same name: its agent and paths), or as a drill's sandbox copy on the recovery host (its
 * {@code sandboxAddresses}).
 *
 * <p>A plan writes its probes, driver options and post-boot scripts with the recovery site's
 * addresses. For any other instance the executor rewrites them: the recovery placement's address
 * number i becomes the instance's address number i (whole addresses only: 10.0.0.1 never matches
 * inside 10.0.0.10).
 */
final class Instances {
    /** One instance: its agent, volumes, addresses and the address map from the recovery placement's. */
    record Instance(String workload, String host, List<String> volumes, List<String> addresses, Map<String, String> rewrite,
            boolean sandbox) {
        String bindAddress() {
            return addresses.isEmpty() ? null : addresses.get(0);
        }

        String rewrite(String text) {
            if (text == null || rewrite.isEmpty()) {
                return text;
            }
            String out = text;
            // one pass per address, through placeholders, so that a → b, b → c does not chain
            int i = 0;
            Map<String, String> holders = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : rewrite.entrySet()) {
                String holder = "\u0000" + (i++) + "\u0000";
                holders.put(holder, e.getValue());
                out = address(e.getKey()).matcher(out).replaceAll(Matcher.quoteReplacement(holder));
            }
            for (Map.Entry<String, String> e : holders.entrySet()) {
                out = out.replace(e.getKey(), e.getValue());
            }
            return out;
        }

        Map<String, String> rewriteValues(Map<String, String> m) {
            Map<String, String> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, rewrite(v)));
            return out;
        }

        Messages.ProbeSpec probe(Probe p) {
            return switch (p) {
                case Probe.Tcp t -> new Messages.ProbeSpec("tcp", rewrite(t.host()), t.port(), null, null, null);
                case Probe.Http h -> new Messages.ProbeSpec("http", null, null, rewrite(h.url()), h.status(), null);
                case Probe.Exec c -> new Messages.ProbeSpec("command", null, null, null, null, rewrite(c.command()));
            };
        }
    }

    private Instances() {}

    static Pattern address(String a) {
        return Pattern.compile("(?<![0-9A-Za-z.:])" + Pattern.quote(a) + "(?![0-9A-Za-z]|\\.[0-9])");
    }

    /** The placement of {@code w} at {@code site}; USAGE when the plan and the inventory name none. */
    static Placement placement(DrPlan plan, Workload w, String site, Inventory inventory) {
        if (site.equals(plan.recoverySite())) {
            return w.recovery();
        }
        if (w.protectedAt() != null) {
            return w.protectedAt();
        }
        Inventory.Workload iw;
        try {
            iw = inventory.workload(w.name());
        } catch (HavenException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
            iw = null;
        }
        if (iw == null || iw.agent() == null || iw.spec().paths().isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "workload " + w.name() + " of plan " + plan.name() + " has no placement at site " + site
                    + ": give it a 'protected:' placement in the plan, or an inventory workload of that name on one agent");
        }
        return new Placement(iw.agent(), iw.spec().paths(), List.of());
    }

    /** The instance of {@code w} at {@code site}, or its drill copy on the recovery host. */
    static Instance at(DrPlan plan, Workload w, String site, boolean sandbox, Inventory inventory) {
        List<String> from = w.recovery().addresses();
        if (sandbox) {
            if (!from.isEmpty() && w.sandboxAddresses().size() < from.size()) {
                throw new HavenException(ErrorCode.USAGE, "a drill of plan " + plan.name() + " needs sandbox addresses for workload " + w.name()
                        + " (it binds " + String.join(", ", from) + " at the recovery site): add 'sandboxAddresses:' with "
                        + from.size() + " address(es) to it");
            }
            return new Instance(w.name(), w.recovery().host(), w.recovery().volumes(), w.sandboxAddresses(),
                    map(from, w.sandboxAddresses()), true);
        }
        Placement p = placement(plan, w, site, inventory);
        return new Instance(w.name(), p.host(), p.volumes(), p.addresses(), map(from, p.addresses()), false);
    }

    private static Map<String, String> map(List<String> from, List<String> to) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(from.size(), to.size()); i++) {
            if (!from.get(i).equals(to.get(i))) {
                m.put(from.get(i), to.get(i));
            }
        }
        return m;
    }

    /** {@code host:port} of a postgres instance (its first address and its {@code port} option). */
    static String postgresEndpoint(Workload w, Instance i) {
        String port = w.options().get("port");
        if (port == null) {
            throw new HavenException(ErrorCode.USAGE, "postgres workload " + w.name() + " needs the 'port' option");
        }
        String host = i.bindAddress();
        if (host == null) {
            throw new HavenException(ErrorCode.USAGE, "postgres workload " + w.name() + " needs an address at host " + i.host()
                    + " (its standby streams from it)");
        }
        return host + ":" + port;
    }

    /** A DR operation being put together. */
    static final class Spec {
        final String op;
        final String run;
        final String command;
        final String plan;
        final String workload;
        final String driver;
        final Map<String, String> options;
        final List<String> volumes;
        final String bind;
        final boolean sandbox;
        final String host;
        String snapshot;
        List<String> snapshotPaths;
        String primary;
        String lsn;
        Messages.ProbeSpec probe;
        Long deadline;
        String script;
        Long timeoutMillis;
        Map<String, String> env;

        Spec(String op, String run, String command, String plan, String workload, String driver, Map<String, String> options,
                List<String> volumes, String bind, boolean sandbox, String host) {
            this.op = op;
            this.run = run;
            this.command = command;
            this.plan = plan;
            this.workload = workload;
            this.driver = driver;
            this.options = options;
            this.volumes = volumes;
            this.bind = bind;
            this.sandbox = sandbox;
            this.host = host;
        }

        Messages.DrSpec build() {
            return new Messages.DrSpec(op, run, command, plan, workload, driver, options, volumes, bind, sandbox, snapshot, snapshotPaths,
                    host, primary, lsn, probe, deadline, script, timeoutMillis, env);
        }
    }

    /** The DR operation {@code op} on instance {@code i}, with the options rewritten for it. */
    static Spec spec(String op, String runId, String commandId, DrPlan plan, Workload w, Instance i) {
        return new Spec(op, runId, commandId, plan.name(), w.name(), w.driver().text(), i.rewriteValues(w.options()), i.volumes(),
                i.bindAddress(), i.sandbox(), i.host());
    }

    static boolean postgres(Workload w) {
        return w.driver() == Driver.POSTGRES;
    }

    static List<String> hosts(DrPlan plan) {
        List<String> out = new ArrayList<>();
        for (Workload w : plan.workloads()) {
            if (!out.contains(w.recovery().host())) {
                out.add(w.recovery().host());
            }
        }
        return out;
    }
}
