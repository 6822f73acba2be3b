package io.haven.cli;

import io.haven.core.DataSize;
import io.haven.repository.Repository;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "snapshots", mixinStandardHelpOptions = true, description = "List snapshots, oldest first.")
final class SnapshotsCommand extends RepoCommand {
    @Option(names = "--host", paramLabel = "HOST", description = "Only snapshots of this host.")
    String host;

    @Option(names = "--tag", paramLabel = "TAG", description = "Only snapshots with this tag ('a,b': with both).")
    String tag;

    @Override
    public Integer call() {
        try (Repository repo = openRepository()) {
            List<Repository.SnapshotEntry> all = new ArrayList<>();
            for (Repository.SnapshotEntry e : repo.snapshots()) {
                if ((host == null || e.snapshot().host().equals(host)) && (tag == null || e.snapshot().hasTags(tag))) {
                    all.add(e);
                }
            }
            for (String bad : repo.unreadableSnapshots()) {
                env().err().println("haven: warning: skipped unreadable snapshot " + bad + " (run 'haven check')");
            }
            if (json()) {
                List<Map<String, Object>> out = new ArrayList<>();
                for (Repository.SnapshotEntry e : all) {
                    var s = e.snapshot();
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("id", e.id().hex());
                    m.put("short_id", e.id().shortHex());
                    m.put("time", s.time());
                    m.put("host", s.host());
                    m.put("username", s.username());
                    m.put("tags", s.tags());
                    m.put("paths", s.paths());
                    m.put("parent", s.parent());
                    m.put("tree", s.tree());
                    m.put("size", s.summary() == null ? null : s.summary().totalBytes());
                    m.put("files", s.summary() == null ? null : s.summary().totalFiles());
                    m.put("summary", s.summary());
                    out.add(m);
                }
                println(Output.toJson(out));
                return Main.EXIT_OK;
            }
            if (all.isEmpty()) {
                println("no snapshots");
                return Main.EXIT_OK;
            }
            println(String.format("%-8s  %-19s  %-16s  %-12s  %10s  %s", "ID", "TIME", "HOST", "TAGS", "SIZE", "PATHS"));
            for (Repository.SnapshotEntry e : all) {
                var s = e.snapshot();
                println(String.format("%-8s  %-19s  %-16s  %-12s  %10s  %s", e.id().shortHex(),
                        Output.localTime(Instant.parse(s.time())), s.host(), String.join(",", s.tags()),
                        s.summary() == null ? "?" : DataSize.format(s.summary().totalBytes()), String.join(" ", s.paths())));
            }
            println(all.size() + " snapshot(s)");
        }
        return Main.EXIT_OK;
    }
}
