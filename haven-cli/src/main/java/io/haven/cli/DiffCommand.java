package io.haven.cli;

import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.diff.TreeDiff;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "diff", mixinStandardHelpOptions = true, description = "Show entries added (+), removed (-), modified (M) or changed in type (T) between two snapshots.")
final class DiffCommand extends RepoCommand {
    @Parameters(index = "0", paramLabel = "SNAPSHOT1")
    String from;

    @Parameters(index = "1", paramLabel = "SNAPSHOT2")
    String to;

    @Override
    public Integer call() {
        try (Repository repo = openRepositoryWithIndexCache()) {
            Repository.SnapshotEntry a = repo.resolve(from);
            Repository.SnapshotEntry b = repo.resolve(to);
            List<TreeDiff.Change> changes = TreeDiff.between(repo, BlobId.parse(a.snapshot().tree()), BlobId.parse(b.snapshot().tree()));
            long added = changes.stream().filter(c -> c.kind() == '+').count();
            long removed = changes.stream().filter(c -> c.kind() == '-').count();
            long modified = changes.size() - added - removed;
            if (json()) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (TreeDiff.Change c : changes) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("kind", switch (c.kind()) {
                        case '+' -> "added";
                        case '-' -> "removed";
                        case 'T' -> "type_changed";
                        default -> "modified";
                    });
                    m.put("path", c.path());
                    m.put("type", c.type().label());
                    m.put("content_changed", c.contentChanged());
                    rows.add(m);
                }
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("from", a.id().hex());
                out.put("to", b.id().hex());
                out.put("added", added);
                out.put("removed", removed);
                out.put("modified", modified);
                out.put("changes", rows);
                println(Output.toJson(out));
            } else {
                for (TreeDiff.Change c : changes) {
                    println(c.kind() + " " + c.path() + (c.type() == io.haven.repository.tree.NodeType.DIR ? "/" : ""));
                }
                println(String.format("%s -> %s: %d added, %d removed, %d modified", a.id().shortHex(), b.id().shortHex(),
                        added, removed, modified));
            }
        }
        return Main.EXIT_OK;
    }
}
