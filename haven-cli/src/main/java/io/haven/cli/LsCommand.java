package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.fs.FileNames;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "ls", mixinStandardHelpOptions = true, description = {"List the entries of a snapshot, recursively under PATH.",
        "Names are shown as UTF-8, a backslash as \\\\, bytes that are not UTF-8 and control characters as \\xHH."})
final class LsCommand extends RepoCommand {
    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "Snapshot id (prefix) or 'latest'.")
    String snapshot;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PATH",
            description = "Path inside the snapshot (default: /), as ls shows it or as its bytes.")
    String path = "/";

    @Option(names = "--no-recursive", description = "List only the entries directly in PATH.")
    boolean flat;

    @Override
    public Integer call() {
        try (Repository repo = openRepositoryWithIndexCache()) {
            Repository.SnapshotEntry snap = repo.resolve(snapshot);
            Tree tree = repo.loadTree(BlobId.parse(snap.snapshot().tree()));
            String base = "";
            Node single = null;
            for (String part : path.split("/")) {
                if (part.isEmpty()) {
                    continue;
                }
                // the argument's bytes (FileNames.string), a name as typed or as ls shows it
                Node n = tree == null ? null : tree.findTyped(FileNames.bytes(part));
                if (n == null) {
                    throw new HavenException(ErrorCode.NOT_FOUND, "path " + FileNames.typedForMessage(FileNames.bytes(path))
                            + " is not in snapshot " + snap.id().shortHex());
                }
                base += "/" + n.displayName();
                if (n.type() == NodeType.DIR) {
                    tree = repo.loadTree(n.subtree());
                } else {
                    tree = null;
                    single = n;
                }
            }
            List<Map<String, Object>> rows = json() ? new ArrayList<>() : null;
            if (single != null) {
                emit(rows, base, single);
            } else {
                list(repo, tree, base, rows);
            }
            if (rows != null) {
                println(Output.toJson(rows));
            }
        }
        return Main.EXIT_OK;
    }

    private void list(Repository repo, Tree tree, String dir, List<Map<String, Object>> rows) {
        for (Node n : tree.nodes()) {
            String p = dir + "/" + n.displayName();
            emit(rows, p, n);
            if (n.type() == NodeType.DIR && !flat) {
                list(repo, repo.loadTree(n.subtree()), p, rows);
            }
        }
    }

    private void emit(List<Map<String, Object>> rows, String path, Node n) {
        Instant mtime = Instant.ofEpochSecond(n.mtimeSeconds(), n.mtimeNanos());
        if (rows != null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", path);
            m.put("type", n.type().label());
            m.put("mode", String.format("%04o", n.mode()));
            m.put("uid", n.uid());
            m.put("gid", n.gid());
            m.put("user", n.user());
            m.put("group", n.group());
            m.put("size", n.size());
            m.put("mtime", mtime.toString());
            if (n.type() == NodeType.SYMLINK) {
                m.put("link_target", Node.display(n.linkTarget()));
            }
            rows.add(m);
            return;
        }
        String owner = n.user().isEmpty() ? Long.toString(n.uid()) : n.user();
        String group = n.group().isEmpty() ? Long.toString(n.gid()) : n.group();
        String line = String.format("%s %-8s %-8s %12d %s %s", modeString(n), owner, group, n.size(),
                Output.localTime(mtime), path);
        if (n.type() == NodeType.SYMLINK) {
            line += " -> " + Node.display(n.linkTarget());
        }
        println(line);
    }

    static String modeString(Node n) {
        char t = switch (n.type()) {
            case FILE -> '-';
            case DIR -> 'd';
            case SYMLINK -> 'l';
            case FIFO -> 'p';
            case CHAR_DEVICE -> 'c';
            case BLOCK_DEVICE -> 'b';
            case SOCKET -> 's';
        };
        int m = n.mode();
        StringBuilder sb = new StringBuilder().append(t);
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            sb.append((m & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        if ((m & 04000) != 0) {
            sb.setCharAt(3, (m & 0100) != 0 ? 's' : 'S');
        }
        if ((m & 02000) != 0) {
            sb.setCharAt(6, (m & 010) != 0 ? 's' : 'S');
        }
        if ((m & 01000) != 0) {
            sb.setCharAt(9, (m & 01) != 0 ? 't' : 'T');
        }
        return sb.toString();
    }
}
