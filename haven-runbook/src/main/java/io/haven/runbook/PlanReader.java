package io.haven.runbook;

import io.haven.runbook.YamlTree.Entry;
import io.haven.runbook.YamlTree.Kind;
import io.haven.runbook.YamlTree.ListNode;
import io.haven.runbook.YamlTree.MapNode;
import io.haven.runbook.YamlTree.Mark;
import io.haven.runbook.YamlTree.Node;
import io.haven.runbook.YamlTree.ScalarNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Turns a located YAML tree into a {@link DrPlan}, collecting every problem it can find.
 *
 * <p>Two layers share the work. This reader checks the shape of the text: known fields, types,
 * required fields, the syntax of durations, names and choices. The records' constructors check
 * values (ranges, addresses, URLs) and the cross rules, naming fields as the plan file does; the
 * reader builds a record only when its own fields read cleanly, catches the constructor's
 * {@link PlanValidationException} and places each problem at the line of the field it names.
 * The plan's cross rules run on names taken from the text, so they are reported even when some
 * workloads or steps could not be built. Single use, not thread-safe.
 */
final class PlanReader {
    private final List<Problem> problems = new ArrayList<>();
    private final Map<String, Mark> marks = new HashMap<>();

    /** The plan, or null with {@link #problems()} explaining why. */
    DrPlan read(Node root) {
        if (root == null) {
            return null;
        }
        Fields f = fields(root, "", List.of("name", "protectedSite", "recoverySite", "mode", "rpo", "autoRollbackAfter", "version",
                "repository", "drills", "retention", "workloads", "runbook"));
        if (f == null) {
            return null;
        }
        int before = problems.size();
        String name = f.name("name", true);
        String protectedSite = f.name("protectedSite", true);
        String recoverySite = f.name("recoverySite", true);
        Mode mode = f.choice("mode", Mode.values(), Mode::text, null);
        Duration rpo = f.duration("rpo", null);
        Duration autoRollback = f.optionalDuration("autoRollbackAfter");
        Integer version = f.integer("version", 1);
        String repository = f.name("repository", false);
        DrillSchedule drills = null;
        MapNode dm = f.map("drills", false);
        if (dm != null) {
            Fields df = fields(dm, "drills", List.of("schedule", "timeZone"));
            if (df != null) {
                String schedule = df.string("schedule", true);
                String zone = df.string("timeZone", false);
                if (schedule != null) {
                    drills = build("drills", () -> new DrillSchedule(schedule, zone));
                }
            }
        }
        DrillSchedule drillSchedule = drills;
        CopyRetention retention = null;
        MapNode rm = f.map("retention", false);
        if (rm != null) {
            int beforeRetention = problems.size();
            Fields rf = fields(rm, "retention", List.of("last", "hourly", "daily", "weekly", "monthly"));
            if (rf != null) {
                CopyRetention d = CopyRetention.DEFAULT;
                // a count the reader could not read is reported already; 1 stands in for it so that the
                // others' ranges are checked in the same round and "keeps no point" is not said wrongly
                int last = orOne(rf.integer("last", d.last()));
                int hourly = orOne(rf.integer("hourly", d.hourly()));
                int daily = orOne(rf.integer("daily", d.daily()));
                int weekly = orOne(rf.integer("weekly", d.weekly()));
                int monthly = orOne(rf.integer("monthly", d.monthly()));
                retention = checked("retention", beforeRetention, () -> new CopyRetention(last, hourly, daily, weekly, monthly));
            }
        }
        CopyRetention copyRetention = retention;

        List<Workload> workloads = new ArrayList<>();
        List<String> workloadNames = new ArrayList<>();
        ListNode wl = f.list("workloads", true);
        if (wl != null) {
            for (int i = 0; i < wl.items().size(); i++) {
                Node n = wl.items().get(i);
                workloadNames.add(scalarText(n instanceof MapNode m ? value(m, "name") : null));
                workloads.add(workload(n, "workloads[" + i + "]"));
            }
            if (wl.items().isEmpty()) {
                problem("workloads", wl.at(), "a plan protects at least one workload");
            }
        }
        List<Step> steps = new ArrayList<>();
        List<StepShape> shapes = new ArrayList<>();
        ListNode rl = f.list("runbook", false);
        if (rl != null) {
            for (int i = 0; i < rl.items().size(); i++) {
                Node n = rl.items().get(i);
                shapes.add(shape(n));
                steps.add(step(n, "runbook[" + i + "]"));
            }
        } else if (!f.has("runbook")) {
            shapes.add(new StepShape("boot", Runbook.DEFAULT_BOOT_STEP, workloadNames));
        } else {
            shapes.add(null);
        }
        Checks cross = new Checks();
        DrPlan.checkMembership(cross, workloadNames, shapes);
        relocate("", cross.problems());

        if (problems.size() > before || wl == null) {
            // the plan is not built, so its constructor does not check its own fields: check them here,
            // so that their problems are reported beside the others (docs/runbooks.md: every problem)
            Checks own = new Checks();
            DrPlan.checkFields(own, true, name, protectedSite, recoverySite, mode, rpo, autoRollback, version, repository);
            relocate("", own.problems());
            return null;
        }
        Runbook runbook = rl == null ? Runbook.defaultFor(workloadNames) : build("runbook", () -> new Runbook(steps));
        if (runbook == null) {
            return null;
        }
        return build("", () -> new DrPlan(name, protectedSite, recoverySite, mode, rpo, workloads, runbook, autoRollback, version,
                repository, drillSchedule, copyRetention));
    }

    /** One step on its own (a step file); the problems' paths are inside it. */
    Step readStep(Node root) {
        return step(root, "");
    }

    /** The problems found, in text order (problems without a position last). */
    List<Problem> problems() {
        List<Problem> sorted = new ArrayList<>(problems);
        sorted.sort(Comparator.comparing((Problem p) -> p.line() == 0).thenComparingInt(Problem::line).thenComparingInt(Problem::column));
        return sorted;
    }

    void problem(String path, Mark at, String message) {
        problems.add(new Problem(at.line(), at.column(), path, message));
    }

    // --- workloads

    private Workload workload(Node node, String path) {
        Fields f = fields(node, path, List.of("name", "driver", "recovery", "protected", "sandboxAddresses", "probe", "postBoot",
                "options"));
        if (f == null) {
            return null;
        }
        int before = problems.size();
        String name = f.name("name", true);
        Driver driver = f.choice("driver", Driver.values(), Driver::text, null);
        Placement recovery = placement(f.map("recovery", true), Checks.join(path, "recovery"));
        MapNode pm = f.map("protected", false);
        Placement protectedAt = placement(pm, Checks.join(path, "protected"));
        List<String> sandbox = f.strings("sandboxAddresses", false);
        Probe probe = probe(f.map("probe", true), Checks.join(path, "probe"));
        List<PostBootScript> postBoot = new ArrayList<>();
        ListNode pb = f.list("postBoot", false);
        if (pb != null) {
            for (int i = 0; i < pb.items().size(); i++) {
                postBoot.add(postBoot(pb.items().get(i), Checks.join(path, "postBoot[" + i + "]")));
            }
        }
        Map<String, String> options = new LinkedHashMap<>();
        MapNode om = f.map("options", false);
        if (om != null) {
            for (Entry e : om.entries().values()) {
                String at = Checks.join(path, "options." + e.key());
                marks.put(at, e.value().at());
                if (e.value() instanceof ScalarNode s && s.kind() != Kind.NULL) {
                    options.put(e.key(), s.text());
                } else {
                    problem(at, e.value().at(), "must be a single value, not " + e.value().what());
                }
            }
        }
        if (problems.size() > before || recovery == null || probe == null || (pm != null && protectedAt == null)) {
            return null;
        }
        return build(path, () -> new Workload(name, driver, recovery, postBoot, probe, options, protectedAt,
                sandbox == null ? List.of() : sandbox));
    }

    private Placement placement(MapNode node, String path) {
        if (node == null) {
            return null;
        }
        Fields f = fields(node, path, List.of("host", "volumes", "addresses"));
        int before = problems.size();
        String host = f.name("host", true);
        List<String> volumes = f.strings("volumes", true);
        List<String> addresses = f.strings("addresses", false);
        if (problems.size() > before) {
            return null;
        }
        return build(path, () -> new Placement(host, volumes, addresses == null ? List.of() : addresses));
    }

    private Probe probe(MapNode node, String path) {
        if (node == null) {
            return null;
        }
        String kind = onlyKind(node, path, List.of("tcp", "http", "command"), "a probe");
        if (kind == null) {
            return null;
        }
        int before = problems.size();
        return switch (kind) {
            case "tcp" -> {
                Fields f = fields(node, path, List.of("tcp", "port", "timeout"));
                String host = f.string("tcp", true);
                Integer port = f.integer("port", null);
                Duration timeout = f.duration("timeout", Probe.DEFAULT_TIMEOUT);
                yield checked(path, before, () -> new Probe.Tcp(host, port, timeout));
            }
            case "http" -> {
                Fields f = fields(node, path, List.of("http", "status", "timeout"));
                String url = f.string("http", true);
                Integer status = f.integer("status", 200);
                Duration timeout = f.duration("timeout", Probe.DEFAULT_TIMEOUT);
                yield checked(path, before, () -> new Probe.Http(url, status, timeout));
            }
            default -> {
                Fields f = fields(node, path, List.of("command", "timeout"));
                String command = f.string("command", true);
                Duration timeout = f.duration("timeout", Probe.DEFAULT_TIMEOUT);
                yield checked(path, before, () -> new Probe.Exec(command, timeout));
            }
        };
    }

    private PostBootScript postBoot(Node node, String path) {
        Fields f = fields(node, path, List.of("command", "timeout", "abortOnFailure"));
        if (f == null) {
            return null;
        }
        int before = problems.size();
        String command = f.string("command", true);
        Duration timeout = f.duration("timeout", PostBootScript.DEFAULT_TIMEOUT);
        Boolean abort = f.bool("abortOnFailure", true);
        return checked(path, before, () -> new PostBootScript(command, timeout, abort));
    }

    // --- steps

    private StepShape shape(Node node) {
        if (!(node instanceof MapNode m)) {
            return null;
        }
        List<String> kinds = Step.KINDS.stream().filter(m.entries()::containsKey).toList();
        if (kinds.size() != 1) {
            return null;
        }
        String kind = kinds.get(0);
        List<String> boot = null;
        if (kind.equals("boot")) {
            Node wn = value(m, "workloads");
            if (wn instanceof ListNode l) {
                boot = l.items().stream().map(PlanReader::scalarText).toList(); // nulls stay: unusable entries
            } else {
                boot = Arrays.asList((String) null);
            }
        }
        return new StepShape(kind, scalarText(value(m, kind)), boot);
    }

    private Step step(Node node, String path) {
        if (!(node instanceof MapNode m)) {
            problem(path, node.at(), "must be a mapping with one of " + String.join(", ", Step.KINDS) + ", not " + node.what());
            return null;
        }
        String kind = onlyKind(m, path, Step.KINDS, "a step");
        if (kind == null) {
            return null;
        }
        int before = problems.size();
        Supplier<Step> make = switch (kind) {
            case "boot" -> {
                Fields f = fields(m, path, List.of("boot", "workloads"));
                String name = f.name("boot", true);
                List<String> workloads = f.strings("workloads", true);
                yield () -> new Step.BootStep(name, workloads);
            }
            case "delay" -> {
                Fields f = fields(m, path, List.of("delay", "duration"));
                String name = f.name("delay", true);
                Duration duration = f.duration("duration", null);
                yield () -> new Step.Delay(name, duration);
            }
            case "script" -> {
                Fields f = fields(m, path, List.of("script", "where", "command", "timeout", "abortOnFailure", "skipInDrill"));
                String name = f.name("script", true);
                Where where = f.parsed("where", Where::parse, null);
                String command = f.string("command", true);
                Duration timeout = f.duration("timeout", Step.Script.DEFAULT_TIMEOUT);
                Boolean abort = f.bool("abortOnFailure", true);
                Boolean skip = f.bool("skipInDrill", false);
                yield () -> new Step.Script(name, where, command, timeout, abort, skip);
            }
            case "dns" -> {
                Fields f = fields(m, path, List.of("dns", "server", "zone", "record", "type", "ttl", "toRecovery", "toProtected", "tsig"));
                String name = f.name("dns", true);
                HostPort server = f.parsed("server", s -> HostPort.parse(s, 53), null);
                String zone = f.string("zone", true);
                String record = f.string("record", true);
                RecordType type = f.choice("type", RecordType.values(), RecordType::name, null);
                Integer ttl = f.integer("ttl", Step.DnsUpdate.DEFAULT_TTL);
                String toRecovery = f.string("toRecovery", true);
                String toProtected = f.string("toProtected", true);
                Step.Tsig tsig = tsig(f.map("tsig", true), Checks.join(path, "tsig"));
                yield () -> new Step.DnsUpdate(name, server, zone, record, type, ttl, toRecovery, toProtected, tsig);
            }
            case "http" -> {
                Fields f = fields(m, path, List.of("http", "method", "url", "body", "status", "timeout", "abortOnFailure", "skipInDrill"));
                String name = f.name("http", true);
                String method = f.string("method", true);
                String url = f.string("url", true);
                String body = f.string("body", false);
                Integer status = f.integer("status", 200);
                Duration timeout = f.duration("timeout", Step.HttpCall.DEFAULT_TIMEOUT);
                Boolean abort = f.bool("abortOnFailure", true);
                Boolean skip = f.bool("skipInDrill", false);
                String upper = method == null ? null : method.toUpperCase(Locale.ROOT);
                yield () -> new Step.HttpCall(name, upper, url, body, status, timeout, abort, skip);
            }
            default -> {
                Fields f = fields(m, path, List.of("approval", "prompt", "timeout", "skipInDrill"));
                String name = f.name("approval", true);
                String prompt = f.string("prompt", true);
                Duration timeout = f.duration("timeout", Step.Approval.DEFAULT_TIMEOUT);
                Boolean skip = f.bool("skipInDrill", false);
                yield () -> new Step.Approval(name, prompt, timeout, skip);
            }
        };
        return checked(path, before, make);
    }

    private Step.Tsig tsig(MapNode node, String path) {
        if (node == null) {
            return null;
        }
        Fields f = fields(node, path, List.of("key", "algorithm", "secret"));
        int before = problems.size();
        String key = f.string("key", true);
        TsigAlgorithm algorithm = f.choice("algorithm", TsigAlgorithm.values(), TsigAlgorithm::text, null);
        String secret = f.string("secret", true);
        return checked(path, before, () -> new Step.Tsig(key, algorithm, secret));
    }

    /** The one key of {@code kinds} that {@code m} has, or null with a problem. */
    private String onlyKind(MapNode m, String path, List<String> kinds, String what) {
        List<String> present = m.entries().keySet().stream().filter(kinds::contains).toList(); // text order
        if (present.size() == 1) {
            return present.get(0);
        }
        if (present.isEmpty()) {
            problem(path, m.at(), what + " needs one of " + String.join(", ", kinds) + unknownHint(m, kinds));
        } else {
            Entry second = m.entries().get(present.get(1));
            problem(Checks.join(path, present.get(1)), second.keyAt(), what + " has exactly one of " + String.join(", ", kinds)
                    + ", but this one also has " + present.get(0));
        }
        return null;
    }

    private static String unknownHint(MapNode m, List<String> kinds) {
        for (String key : m.entries().keySet()) {
            String s = suggestion(key, kinds);
            if (s != null) {
                return " (is '" + key + "' meant to be '" + s + "'?)";
            }
        }
        return "";
    }

    // --- building records and placing their problems

    /**
     * Builds the record when the reader found nothing wrong in this part since {@code before};
     * otherwise still runs the record's own checks (ranges and the like) for their problems, so
     * that one {@code plan validate} shows every problem of a step, not its range problems only
     * after its other ones are fixed. A record check at a path the reader already reported (a
     * required value it found missing or unreadable) adds nothing; one that cannot run on the
     * values the reader could not read is skipped.
     */
    private <T> T checked(String path, int before, Supplier<T> make) {
        if (problems.size() == before) {
            return build(path, make);
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Problem p : problems.subList(before, problems.size())) {
            seen.add(p.path());
        }
        try {
            make.get();
        } catch (PlanValidationException e) {
            relocate(path, e.problems().stream().filter(p -> !covered(seen, Checks.join(path, p.path()))).toList());
        } catch (RuntimeException e) {
            // a check that needs a value the reader could not give: that value is reported already
        }
        return null;
    }

    /**
     * Whether a reported problem is at {@code path} or inside it: a part the reader could not
     * read (a tsig without its key) reaches the record as nothing, and "is required" for it would
     * say the same again.
     */
    private static boolean covered(java.util.Set<String> seen, String path) {
        for (String s : seen) {
            if (s.equals(path) || s.startsWith(path + ".") || s.startsWith(path + "[")) {
                return true;
            }
        }
        return false;
    }

    /** A count the reader read, or 1 standing in for one it could not (see the retention above). */
    private static int orOne(Integer n) {
        return n == null ? 1 : n;
    }

    private <T> T build(String path, Supplier<T> make) {
        try {
            return make.get();
        } catch (PlanValidationException e) {
            relocate(path, e.problems());
            return null;
        }
    }

    private void relocate(String base, List<Problem> found) {
        for (Problem p : found) {
            String path = Checks.join(base, p.path());
            Mark m = markOf(path);
            problems.add(new Problem(m.line(), m.column(), path, p.message()));
        }
    }

    /** The mark of the nearest node on {@code path} that the reader saw. */
    private Mark markOf(String path) {
        for (String p = path; ; p = parent(p)) {
            Mark m = marks.get(p);
            if (m != null) {
                return m;
            }
            if (p.isEmpty()) {
                return Mark.NONE;
            }
        }
    }

    private static String parent(String path) {
        int cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
        return cut <= 0 ? "" : path.substring(0, cut);
    }

    // --- fields of a mapping

    private Fields fields(Node node, String path, List<String> known) {
        marks.put(path, node.at());
        if (!(node instanceof MapNode m)) {
            problem(path, node.at(), "must be a mapping (key: value lines), not " + node.what());
            return null;
        }
        for (Entry e : m.entries().values()) {
            if (!known.contains(e.key())) {
                String s = suggestion(e.key(), known);
                problem(Checks.join(path, e.key()), e.keyAt(), "unknown field '" + e.key() + "'"
                        + (s != null ? "; did you mean '" + s + "'?" : " (known here: " + String.join(", ", known) + ")"));
            }
        }
        return new Fields(m, path);
    }

    /** The value under {@code key}, or null when it is missing or written as nothing. */
    private static Node value(MapNode m, String key) {
        Entry e = m.entries().get(key);
        if (e == null || e.value() instanceof ScalarNode s && s.kind() == Kind.NULL) {
            return null;
        }
        return e.value();
    }

    private static String scalarText(Node n) {
        return n instanceof ScalarNode s && s.kind() != Kind.NULL ? s.text() : null;
    }

    /** A known name close to {@code key} (same but for case, or at most 2 edits), or null. */
    static String suggestion(String key, List<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = k.equalsIgnoreCase(key) ? 0 : distance(key.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** Typed access to the fields of one mapping; every failed read adds a problem and returns null. */
    private final class Fields {
        private final MapNode node;
        private final String path;

        Fields(MapNode node, String path) {
            this.node = node;
            this.path = path;
        }

        boolean has(String key) {
            return node.entries().containsKey(key);
        }

        private String at(String key) {
            return Checks.join(path, key);
        }

        /** The value node, or null; a missing required value is a problem. */
        private Node get(String key, boolean required) {
            Node v = value(node, key);
            if (v != null) {
                marks.put(at(key), v.at());
            } else if (required) {
                Entry e = node.entries().get(key);
                problem(at(key), e != null ? e.keyAt() : node.at(), "is required");
            }
            return v;
        }

        private ScalarNode scalar(String key, boolean required, String want) {
            Node v = get(key, required);
            if (v == null) {
                return null;
            }
            if (v instanceof ScalarNode s) {
                return s;
            }
            problem(at(key), v.at(), "must be " + want + ", not " + v.what());
            return null;
        }

        String string(String key, boolean required) {
            ScalarNode s = scalar(key, required, "a single value");
            return s == null ? null : s.text();
        }

        String name(String key, boolean required) {
            String s = string(key, required);
            if (s != null && !Checks.NAME.matcher(s).matches()) {
                problem(at(key), node.entries().get(key).value().at(), "must be 1-64 letters, digits, '.', '_' or '-', not \"" + s + "\"");
                return null;
            }
            return s;
        }

        /** A whole number; {@code dflt} null means required. */
        Integer integer(String key, Integer dflt) {
            ScalarNode s = scalar(key, dflt == null, "a whole number");
            if (s == null) {
                return has(key) && value(node, key) != null ? null : dflt;
            }
            if (s.kind() != Kind.INT) {
                problem(at(key), s.at(), "must be a whole number, not " + s.what());
                return null;
            }
            if (s.number() == null || s.number() > Integer.MAX_VALUE || s.number() < Integer.MIN_VALUE) {
                problem(at(key), s.at(), "is far too large: " + s.text());
                return null;
            }
            return s.number().intValue();
        }

        Boolean bool(String key, boolean dflt) {
            ScalarNode s = scalar(key, false, "true or false");
            if (s == null) {
                return value(node, key) != null ? null : dflt;
            }
            if (s.kind() != Kind.BOOL) {
                problem(at(key), s.at(), "must be true or false, not " + s.what());
                return null;
            }
            return Boolean.parseBoolean(s.text());
        }

        /** A duration; {@code dflt} null means required. */
        Duration duration(String key, Duration dflt) {
            return parsed(key, DurationText::parse, dflt);
        }

        Duration optionalDuration(String key) {
            return value(node, key) == null ? null : parsed(key, DurationText::parse, null);
        }

        /** A value read by {@code parse}, whose IllegalArgumentException message is the problem; {@code dflt} null means required. */
        <T> T parsed(String key, Function<String, T> parse, T dflt) {
            ScalarNode s = scalar(key, dflt == null, "a single value");
            if (s == null) {
                return value(node, key) != null ? null : dflt;
            }
            try {
                return parse.apply(s.text());
            } catch (IllegalArgumentException e) {
                problem(at(key), s.at(), e.getMessage());
                return null;
            }
        }

        <E extends Enum<E>> E choice(String key, E[] values, Function<E, String> text, E dflt) {
            ScalarNode s = scalar(key, dflt == null, "one of " + words(values, text));
            if (s == null) {
                return value(node, key) != null ? null : dflt;
            }
            for (E v : values) {
                if (text.apply(v).equalsIgnoreCase(s.text())) {
                    return v;
                }
            }
            problem(at(key), s.at(), "must be one of " + words(values, text) + ", not \"" + s.text() + "\"");
            return null;
        }

        private static <E> String words(E[] values, Function<E, String> text) {
            return String.join(", ", Arrays.stream(values).map(text).toList());
        }

        ListNode list(String key, boolean required) {
            Node v = get(key, required);
            if (v == null || v instanceof ListNode) {
                return (ListNode) v;
            }
            problem(at(key), v.at(), "must be a list, not " + v.what());
            return null;
        }

        MapNode map(String key, boolean required) {
            Node v = get(key, required);
            if (v == null || v instanceof MapNode) {
                return (MapNode) v;
            }
            problem(at(key), v.at(), "must be a mapping (key: value lines), not " + v.what());
            return null;
        }

        /** A list of single values (a single value alone counts as a list of one). */
        List<String> strings(String key, boolean required) {
            Node v = get(key, required);
            if (v == null) {
                return null;
            }
            if (v instanceof ScalarNode s) {
                return List.of(s.text());
            }
            if (!(v instanceof ListNode l)) {
                problem(at(key), v.at(), "must be a list, not " + v.what());
                return null;
            }
            List<String> out = new ArrayList<>();
            boolean ok = true;
            for (int i = 0; i < l.items().size(); i++) {
                Node item = l.items().get(i);
                String itemAt = at(key) + "[" + i + "]";
                marks.put(itemAt, item.at());
                if (item instanceof ScalarNode s && s.kind() != Kind.NULL) {
                    out.add(s.text());
                } else {
                    problem(itemAt, item.at(), "must be a single value, not " + item.what());
                    ok = false;
                }
            }
            return ok ? out : null;
        }
    }
}
