package io.haven.repository.maintenance;

import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.index.Index;
import io.haven.repository.tree.Node;
import io.haven.repository.tree.NodeType;
import io.haven.repository.tree.Tree;
import java.util.BitSet;

/** Marks the index entries a snapshot's tree needs: its trees and every file's chunks. */
public final class Reachable {
    /** Builds the error for a tree or chunk that the index lacks ({@code what} is "tree" or "chunk"). */
    @FunctionalInterface
    public interface Missing {
        HavenException of(String what, BlobId id);
    }

    private Reachable() {}

    /**
     * Sets in {@code used} the entry of tree {@code treeId} and of everything below it. Trees
     * already marked are not read again, so marking several snapshots into one set reads each
     * shared tree once.
     */
    public static void mark(Repository repo, Index index, BitSet used, BlobId treeId, Missing missing) {
        int e = index.find(treeId);
        if (e < 0) {
            throw missing.of("tree", treeId);
        }
        if (used.get(e)) {
            return;
        }
        used.set(e);
        Tree tree = Tree.decode(repo.loadBlob(treeId, index.location(e)), "tree " + treeId.shortHex());
        for (Node n : tree.nodes()) {
            if (n.type() == NodeType.DIR) {
                mark(repo, index, used, n.subtree(), missing);
            } else if (n.type() == NodeType.FILE) {
                for (BlobId id : n.content()) {
                    int c = index.find(id);
                    if (c < 0) {
                        throw missing.of("chunk", id);
                    }
                    used.set(c);
                }
            }
        }
    }

    /** The packs (by number) that hold at least one entry set in {@code used}. */
    public static BitSet packs(Index index, BitSet used) {
        BitSet packs = new BitSet(index.packCount());
        for (int e = used.nextSetBit(0); e >= 0; e = used.nextSetBit(e + 1)) {
            packs.set(index.entryPack(e));
        }
        return packs;
    }
}
