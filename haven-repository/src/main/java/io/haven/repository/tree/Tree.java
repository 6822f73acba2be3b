package io.haven.repository.tree;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * One directory listing, entries sorted by name bytes, and its binary encoding
 * (docs/repository-format.md §7). Immutable.
 */
public record Tree(List<Node> nodes) {
    private static final byte[] MAGIC = "HVTR".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final byte[] DOT = {'.'};
    private static final byte[] DOTDOT = {'.', '.'};
    public static final Comparator<byte[]> NAME_ORDER = Arrays::compareUnsigned;

    public Tree {
        List<Node> sorted = new ArrayList<>(nodes);
        sorted.sort(Comparator.comparing(Node::name, NAME_ORDER));
        for (int i = 1; i < sorted.size(); i++) {
            if (Arrays.equals(sorted.get(i - 1).name(), sorted.get(i).name())) {
                throw new HavenException(ErrorCode.CORRUPT, "duplicate name in tree: " + sorted.get(i).displayName());
            }
        }
        nodes = List.copyOf(sorted);
    }

    /** The entry with this name, or null. */
    public Node find(byte[] name) {
        int lo = 0;
        int hi = nodes.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Arrays.compareUnsigned(nodes.get(mid).name(), name);
            if (c == 0) {
                return nodes.get(mid);
            } else if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return null;
    }

    /**
     * The entry a name typed by a person means. When the typed bytes are exactly how
     * {@link Node#display} shows some name ({@link io.haven.repository.fs.FileNames#shown}) and
     * an entry has that name, that entry: a name copied from {@code haven ls} finds its entry
     * even when another entry is named by the escape's characters themselves. Otherwise the
     * entry named exactly the typed bytes, or null.
     */
    public Node findTyped(byte[] typed) {
        byte[] shown = io.haven.repository.fs.FileNames.shown(typed);
        Node n = shown == null ? null : find(shown);
        return n != null ? n : find(typed);
    }

    public byte[] encode() {
        Out out = new Out(64 + nodes.size() * 96);
        out.write(MAGIC, 0, MAGIC.length);
        out.write(VERSION);
        out.varint(nodes.size());
        for (Node n : nodes) {
            out.write(n.type().code());
            out.bytes(n.name());
            out.varint(n.mode());
            out.varint(n.uid());
            out.varint(n.gid());
            out.bytes(n.user().getBytes(StandardCharsets.UTF_8));
            out.bytes(n.group().getBytes(StandardCharsets.UTF_8));
            out.varint(zigzag(n.mtimeSeconds()));
            out.varint(n.mtimeNanos());
            out.varint(zigzag(n.ctimeSeconds()));
            out.varint(n.ctimeNanos());
            out.varint(n.inode());
            out.varint(n.device());
            out.varint(n.nlink());
            out.varint(n.size());
            switch (n.type()) {
                case FILE -> {
                    out.varint(n.content().size());
                    byte[] id = new byte[BlobId.LENGTH];
                    for (BlobId b : n.content()) {
                        b.copyTo(id, 0);
                        out.write(id, 0, id.length);
                    }
                }
                case DIR -> {
                    byte[] id = new byte[BlobId.LENGTH];
                    n.subtree().copyTo(id, 0);
                    out.write(id, 0, id.length);
                }
                case SYMLINK -> out.bytes(n.linkTarget());
                case CHAR_DEVICE, BLOCK_DEVICE -> out.varint(n.rdev());
                case FIFO, SOCKET -> {
                }
            }
            out.varint(n.xattrs().size());
            for (Xattr x : n.xattrs()) {
                out.bytes(x.name().getBytes(StandardCharsets.UTF_8));
                out.bytes(x.value());
            }
        }
        return out.toByteArray();
    }

    public static Tree decode(byte[] data, String what) {
        In in = new In(data, what);
        byte[] magic = in.raw(4);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new HavenException(ErrorCode.CORRUPT, what + " is not a tree");
        }
        int version = in.u8();
        if (version != VERSION) {
            throw new HavenException(ErrorCode.CORRUPT, what + " has unsupported tree version " + version);
        }
        long count = in.varint();
        if (count < 0 || count > data.length) {
            throw new HavenException(ErrorCode.CORRUPT, what + " claims " + Long.toUnsignedString(count) + " entries in " + data.length + " bytes");
        }
        List<Node> nodes = new ArrayList<>((int) Math.min(count, 1 << 16));
        for (long i = 0; i < count; i++) {
            NodeType type = NodeType.ofCode(in.u8());
            byte[] name = in.bytes();
            int mode = (int) in.varint();
            long uid = in.varint();
            long gid = in.varint();
            String user = new String(in.bytes(), StandardCharsets.UTF_8);
            String group = new String(in.bytes(), StandardCharsets.UTF_8);
            long mtime = unzigzag(in.varint());
            int mtimeNs = (int) in.varint();
            long ctime = unzigzag(in.varint());
            int ctimeNs = (int) in.varint();
            long inode = in.varint();
            long device = in.varint();
            long nlink = in.varint();
            long size = in.varint();
            List<BlobId> content = List.of();
            BlobId subtree = null;
            byte[] link = null;
            long rdev = 0;
            switch (type) {
                case FILE -> {
                    long chunks = in.varint();
                    if (chunks < 0 || chunks > data.length / BlobId.LENGTH) {
                        throw new HavenException(ErrorCode.CORRUPT, what + " is truncated");
                    }
                    List<BlobId> ids = new ArrayList<>((int) chunks);
                    for (long k = 0; k < chunks; k++) {
                        ids.add(BlobId.of(in.raw(BlobId.LENGTH)));
                    }
                    content = ids;
                }
                case DIR -> subtree = BlobId.of(in.raw(BlobId.LENGTH));
                case SYMLINK -> link = in.bytes();
                case CHAR_DEVICE, BLOCK_DEVICE -> rdev = in.varint();
                case FIFO, SOCKET -> {
                }
            }
            long nx = in.varint();
            List<Xattr> xattrs = new ArrayList<>();
            for (long k = 0; k < nx; k++) {
                xattrs.add(new Xattr(new String(in.bytes(), StandardCharsets.UTF_8), in.bytes()));
            }
            if (name.length == 0 || indexOf(name, (byte) '/') >= 0 || indexOf(name, (byte) 0) >= 0
                    || Arrays.equals(name, DOT) || Arrays.equals(name, DOTDOT)) {
                throw new HavenException(ErrorCode.UNSAFE_PATH, what + " holds an invalid entry name '" + Node.display(name) + "'");
            }
            nodes.add(new Node(type, name, mode, uid, gid, user, group, mtime, mtimeNs, ctime, ctimeNs, inode, device,
                    nlink, size, content, subtree, link, rdev, xattrs));
        }
        if (in.pos != data.length) {
            throw new HavenException(ErrorCode.CORRUPT, what + " has trailing bytes");
        }
        return new Tree(nodes);
    }

    private static int indexOf(byte[] a, byte b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    static long unzigzag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }

    private static final class Out extends ByteArrayOutputStream {
        Out(int size) {
            super(size);
        }

        void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            write((int) v);
        }

        void bytes(byte[] b) {
            varint(b.length);
            write(b, 0, b.length);
        }
    }

    private static final class In {
        final byte[] data;
        final String what;
        int pos;

        In(byte[] data, String what) {
            this.data = data;
            this.what = what;
        }

        int u8() {
            need(1);
            return data[pos++] & 0xff;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = u8();
                v |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            throw new HavenException(ErrorCode.CORRUPT, what + " holds an overlong number");
        }

        byte[] raw(int n) {
            need(n);
            byte[] out = Arrays.copyOfRange(data, pos, pos + n);
            pos += n;
            return out;
        }

        byte[] bytes() {
            long n = varint();
            if (n < 0 || n > data.length - pos) {
                throw new HavenException(ErrorCode.CORRUPT, what + " is truncated");
            }
            return raw((int) n);
        }

        void need(int n) {
            if (pos + n > data.length) {
                throw new HavenException(ErrorCode.CORRUPT, what + " is truncated");
            }
        }
    }
}
