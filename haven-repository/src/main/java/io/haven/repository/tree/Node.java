package io.haven.repository.tree;

import io.haven.repository.BlobId;
import io.haven.repository.fs.FileNames;
import java.util.Arrays;
import java.util.List;

/**
 * One entry of a directory listing (docs/repository-format.md §7). Names and link targets are
 * raw bytes so that names which are not valid UTF-8 survive byte for byte.
 */
public record Node(
        NodeType type,
        byte[] name,
        int mode,
        long uid,
        long gid,
        String user,
        String group,
        long mtimeSeconds,
        int mtimeNanos,
        long ctimeSeconds,
        int ctimeNanos,
        long inode,
        long device,
        long nlink,
        long size,
        List<BlobId> content,
        BlobId subtree,
        byte[] linkTarget,
        long rdev,
        List<Xattr> xattrs) {

    public Node {
        content = content == null ? List.of() : List.copyOf(content);
        xattrs = xattrs == null ? List.of() : List.copyOf(xattrs);
        user = user == null ? "" : user;
        group = group == null ? "" : group;
        linkTarget = linkTarget == null ? new byte[0] : linkTarget;
        if (name.length == 0) {
            throw new IllegalArgumentException("a tree entry needs a name");
        }
    }

    /** The name for people, in the form of {@link #display(byte[])}. */
    public String displayName() {
        return display(name);
    }

    /** Bytes (a name, a path, a link target) for people: see {@link FileNames#display(byte[])}. */
    public static String display(byte[] bytes) {
        return FileNames.display(bytes);
    }

    public Node withSubtree(BlobId id) {
        return new Node(type, name, mode, uid, gid, user, group, mtimeSeconds, mtimeNanos, ctimeSeconds, ctimeNanos,
                inode, device, nlink, size, content, id, linkTarget, rdev, xattrs);
    }

    /** Same content and restorable metadata (ignores ctime, inode, device: they change on restore). */
    public boolean sameAs(Node o) {
        return type == o.type && Arrays.equals(name, o.name) && mode == o.mode && uid == o.uid && gid == o.gid
                && mtimeSeconds == o.mtimeSeconds && mtimeNanos == o.mtimeNanos && size == o.size
                && content.equals(o.content) && java.util.Objects.equals(subtree, o.subtree)
                && Arrays.equals(linkTarget, o.linkTarget) && rdev == o.rdev && xattrs.equals(o.xattrs);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Node n && sameAs(n) && ctimeSeconds == n.ctimeSeconds && ctimeNanos == n.ctimeNanos
                && inode == n.inode && device == n.device && nlink == n.nlink && user.equals(n.user)
                && group.equals(n.group);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(name) * 31 + Long.hashCode(size);
    }
}
