package io.haven.repository.diff;

import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Compares two snapshots' trees: added, removed, modified and retyped entries, in path order. */
public final class TreeDiff {
    /** {@code +} added, {@code -} removed, {@code M} content or metadata changed, {@code T} type changed. */
    public record Change(char kind, String path, NodeType type, boolean contentChanged) {}

    private final Repository repo;
    private final List<Change> changes = new ArrayList<>();

    private TreeDiff(Repository repo) {
        this.repo = repo;
    }

    public static List<Change> between(Repository repo, BlobId from, BlobId to) {
        TreeDiff d = new TreeDiff(repo);
        d.compare("", repo.loadTree(from), repo.loadTree(to));
        return d.changes;
    }

    private void compare(String dir, Tree a, Tree b) {
        List<Node> x = a.nodes();
        List<Node> y = b.nodes();
        int i = 0;
        int j = 0;
        while (i < x.size() || j < y.size()) {
            int c = i >= x.size() ? 1 : j >= y.size() ? -1 : Arrays.compareUnsigned(x.get(i).name(), y.get(j).name());
            if (c < 0) {
                removed(dir, x.get(i++));
            } else if (c > 0) {
                added(dir, y.get(j++));
            } else {
                Node n = x.get(i++);
                Node m = y.get(j++);
                String path = dir + "/" + n.displayName();
                if (n.type() != m.type()) {
                    changes.add(new Change('T', path, m.type(), true));
                    if (n.type() == NodeType.DIR) {
                        walk(path, repo.loadTree(n.subtree()), '-');
                    }
                    if (m.type() == NodeType.DIR) {
                        walk(path, repo.loadTree(m.subtree()), '+');
                    }
                } else if (n.type() == NodeType.DIR) {
                    if (!sameMeta(n, m)) {
                        changes.add(new Change('M', path, m.type(), false));
                    }
                    if (!n.subtree().equals(m.subtree())) {
                        compare(path, repo.loadTree(n.subtree()), repo.loadTree(m.subtree()));
                    }
                } else if (!n.sameAs(m)) {
                    boolean content = !n.content().equals(m.content()) || !Arrays.equals(n.linkTarget(), m.linkTarget())
                            || n.rdev() != m.rdev();
                    changes.add(new Change('M', path, m.type(), content));
                }
            }
        }
    }

    private static boolean sameMeta(Node n, Node m) {
        return n.mode() == m.mode() && n.uid() == m.uid() && n.gid() == m.gid() && n.mtimeSeconds() == m.mtimeSeconds()
                && n.mtimeNanos() == m.mtimeNanos() && n.xattrs().equals(m.xattrs());
    }

    private void removed(String dir, Node n) {
        String path = dir + "/" + n.displayName();
        changes.add(new Change('-', path, n.type(), true));
        if (n.type() == NodeType.DIR) {
            walk(path, repo.loadTree(n.subtree()), '-');
        }
    }

    private void added(String dir, Node n) {
        String path = dir + "/" + n.displayName();
        changes.add(new Change('+', path, n.type(), true));
        if (n.type() == NodeType.DIR) {
            walk(path, repo.loadTree(n.subtree()), '+');
        }
    }

    private void walk(String dir, Tree t, char kind) {
        for (Node n : t.nodes()) {
            if (kind == '+') {
                added(dir, n);
            } else {
                removed(dir, n);
            }
        }
    }
}
