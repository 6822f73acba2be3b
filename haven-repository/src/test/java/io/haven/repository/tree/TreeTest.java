package io.haven.repository.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TreeTest {
    private static final Random RANDOM = new Random(1);

    private static BlobId id(int seed) {
        byte[] b = new byte[32];
        new Random(seed).nextBytes(b);
        return BlobId.of(b);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A node with everything but the type-specific fields set to distinctive values. */
    private static Node node(NodeType type, byte[] name, List<BlobId> content, BlobId subtree, byte[] link, long rdev,
            long size) {
        return new Node(type, name, 0644, 1000, 1000, "ada", "staff", 1_700_000_000L, 123_456_789, 1_700_000_100L,
                987_654_321, 4242, 2049, 1, size, content, subtree, link, rdev, List.of());
    }

    private static Node file(String name) {
        return node(NodeType.FILE, utf8(name), List.of(id(1)), null, null, 0, 10);
    }

    private static void assertCode(ErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    /** A tree that uses every entry type and the awkward values of every field. */
    static Tree everyKindOfEntry() {
        List<Node> nodes = new ArrayList<>();
        nodes.add(node(NodeType.FILE, utf8("file.txt"), List.of(id(1), id(2), id(3), id(1)), null, null, 0, 3_000_000));
        nodes.add(node(NodeType.FILE, utf8("empty"), List.of(), null, null, 0, 0));
        nodes.add(node(NodeType.DIR, utf8("dir"), List.of(), id(4), null, 0, 0));
        nodes.add(node(NodeType.SYMLINK, utf8("link"), List.of(), null, new byte[] {'.', '.', '/', (byte) 0xff, 'x'}, 0, 0));
        nodes.add(node(NodeType.SYMLINK, utf8("abs-link"), List.of(), null, utf8("/etc/passwd"), 0, 0));
        nodes.add(node(NodeType.FIFO, utf8("pipe"), List.of(), null, null, 0, 0));
        nodes.add(node(NodeType.CHAR_DEVICE, utf8("null"), List.of(), null, null, (1L << 8) | 3, 0));
        nodes.add(node(NodeType.BLOCK_DEVICE, utf8("sda"), List.of(), null, null, 0x0000_0fff_0000_08_00L, 0));
        nodes.add(node(NodeType.SOCKET, utf8("sock"), List.of(), null, null, 0, 0));
        // a name that is not valid UTF-8
        nodes.add(node(NodeType.FILE, new byte[] {(byte) 0xff, (byte) 0xfe, 'a'}, List.of(id(5)), null, null, 0, 5));
        // before 1970, odd nanoseconds, setuid/setgid/sticky, large ids, unsigned 64-bit inode and device
        nodes.add(new Node(NodeType.FILE, utf8("old"), 07777, 4_294_967_294L, Long.MAX_VALUE, "", "", -86_400L * 365 * 30 - 1,
                999_999_999, Long.MIN_VALUE, 1, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40, List.of(id(6)), null,
                null, 0, List.of()));
        // extended attributes with binary and empty values
        byte[] binary = new byte[300];
        RANDOM.nextBytes(binary);
        nodes.add(new Node(NodeType.FILE, utf8("attrs"), 0600, 0, 0, "root", "root", 0, 0, 0, 0, 7, 8, 2, 0, List.of(),
                null, null, 0, List.of(new Xattr("user.binary", binary), new Xattr("user.empty", new byte[0]),
                        new Xattr("security.selinux", utf8("system_u:object_r:etc_t:s0\0")),
                        new Xattr("user.ünïcode", new byte[] {0, (byte) 0xff}))));
        return new Tree(nodes);
    }

    @Test
    void everyKindOfEntrySurvivesEncoding() {
        Tree tree = everyKindOfEntry();
        Tree back = Tree.decode(tree.encode(), "test tree");

        assertThat(back.nodes()).hasSameSizeAs(tree.nodes());
        for (int i = 0; i < tree.nodes().size(); i++) {
            Node want = tree.nodes().get(i);
            Node got = back.nodes().get(i);
            assertThat(got).as("entry %s", want.displayName()).isEqualTo(want);
            // Node.equals ignores nothing stored; check the raw fields that equals compares by content too
            assertThat(got.name()).isEqualTo(want.name());
            assertThat(got.linkTarget()).isEqualTo(want.linkTarget());
            assertThat(got.user()).isEqualTo(want.user());
            assertThat(got.group()).isEqualTo(want.group());
        }
        assertThat(back).isEqualTo(tree);
        assertThat(back.encode()).isEqualTo(tree.encode());
    }

    @Test
    void typeSpecificFieldsComeBack() {
        Tree back = Tree.decode(everyKindOfEntry().encode(), "test tree");
        assertThat(back.find(utf8("file.txt")).content()).containsExactly(id(1), id(2), id(3), id(1));
        assertThat(back.find(utf8("dir")).subtree()).isEqualTo(id(4));
        assertThat(back.find(utf8("link")).linkTarget()).containsExactly('.', '.', '/', 0xff, 'x');
        assertThat(back.find(utf8("null")).rdev()).isEqualTo(259);
        assertThat(back.find(utf8("sda")).rdev()).isEqualTo(0x0000_0fff_0000_08_00L);
        Node old = back.find(utf8("old"));
        assertThat(old.mtimeSeconds()).isEqualTo(-86_400L * 365 * 30 - 1);
        assertThat(old.mtimeNanos()).isEqualTo(999_999_999);
        assertThat(old.ctimeSeconds()).isEqualTo(Long.MIN_VALUE);
        assertThat(old.mode()).isEqualTo(07777);
        assertThat(old.uid()).isEqualTo(4_294_967_294L);
        assertThat(old.gid()).isEqualTo(Long.MAX_VALUE);
        assertThat(old.inode()).isEqualTo(-1L);
        assertThat(old.device()).isEqualTo(Long.MIN_VALUE);
        assertThat(back.find(utf8("attrs")).xattrs()).hasSize(4);
        assertThat(back.find(utf8("attrs")).xattrs().get(0).value()).hasSize(300);
        assertThat(back.find(new byte[] {(byte) 0xff, (byte) 0xfe, 'a'}).displayName()).isEqualTo("\\xff\\xfea");
    }

    @Test
    void aTypedNameFindsItsEntryAsItsBytesOrAsHavenLsShowsIt() {
        byte[] raw = {'a', (byte) 0xe9};
        byte[] literal = utf8("a\\xe9");
        Tree both = new Tree(List.of(node(NodeType.FILE, raw, List.of(), null, null, 0, 1),
                node(NodeType.FILE, literal, List.of(), null, null, 0, 2), file("b\\c")));
        // each by its own display form, which tells them apart
        assertThat(Node.display(raw)).isEqualTo("a\\xe9");
        assertThat(Node.display(literal)).isEqualTo("a\\\\xe9");
        assertThat(both.findTyped(utf8(Node.display(raw))).size()).isEqualTo(1);
        assertThat(both.findTyped(utf8(Node.display(literal))).size()).isEqualTo(2);
        // by its bytes
        assertThat(both.findTyped(raw).size()).isEqualTo(1);
        // a backslash that starts no escape, and a name typed as is that only the raw reading finds
        assertThat(both.findTyped(utf8("b\\c")).name()).isEqualTo(utf8("b\\c"));
        assertThat(both.findTyped(utf8("b\\\\c")).name()).isEqualTo(utf8("b\\c"));
        Tree onlyLiteral = new Tree(List.of(node(NodeType.FILE, literal, List.of(), null, null, 0, 2)));
        assertThat(onlyLiteral.findTyped(literal).size()).isEqualTo(2);
        assertThat(onlyLiteral.findTyped(utf8("a\\xe8"))).isNull();
        assertThat(onlyLiteral.findTyped(raw)).isNull();
        // an escape display never writes is no escape: 'a\x41' is the file of that name, not 'aA'
        Tree lookAlike = new Tree(List.of(node(NodeType.FILE, utf8("aA"), List.of(), null, null, 0, 3),
                node(NodeType.FILE, utf8("a\\x41"), List.of(), null, null, 0, 4)));
        assertThat(lookAlike.findTyped(utf8("a\\x41")).size()).isEqualTo(4);
        assertThat(lookAlike.findTyped(utf8("a\\\\x41")).size()).isEqualTo(4);
        assertThat(lookAlike.findTyped(utf8("aA")).size()).isEqualTo(3);
        // nor an upper-case one
        assertThat(both.findTyped(utf8("a\\xE9"))).isNull();
    }

    @Test
    void anEmptyTreeSurvivesEncoding() {
        Tree empty = new Tree(List.of());
        assertThat(Tree.decode(empty.encode(), "empty").nodes()).isEmpty();
    }

    @Test
    void encodingStartsWithMagicAndVersion() {
        byte[] enc = new Tree(List.of(file("a"))).encode();
        assertThat(Arrays.copyOf(enc, 6)).containsExactly('H', 'V', 'T', 'R', 1, 1);
        // the entry: type 1, name "a" as length-prefixed bytes, mode 0644 as LEB128
        assertThat(Arrays.copyOfRange(enc, 6, 11)).containsExactly(1, 1, 'a', 0xa4, 0x03);
    }

    @Test
    void entriesAreSortedByUnsignedNameBytes() {
        List<Node> nodes = new ArrayList<>(List.of(file("a"), file("B"), file("z"), file("é"), file("a.txt"),
                node(NodeType.FILE, new byte[] {(byte) 0xff, (byte) 0xfe}, List.of(), null, null, 0, 0), file("_"),
                file("0")));
        Collections.shuffle(nodes, new Random(3));
        Tree tree = new Tree(nodes);
        Tree back = Tree.decode(tree.encode(), "sorted");

        List<String> expected = List.of("0", "B", "_", "a", "a.txt", "z", "é", "\\xff\\xfe");
        assertThat(tree.nodes()).extracting(Node::displayName).containsExactlyElementsOf(expected);
        assertThat(back.nodes()).extracting(Node::displayName).containsExactlyElementsOf(expected);
        // and in the encoding: the name of the last entry is the last name written
        byte[] enc = tree.encode();
        assertThat(indexOf(enc, utf8("é"))).isLessThan(indexOf(enc, new byte[] {(byte) 0xff, (byte) 0xfe}));
        assertThat(indexOf(enc, utf8("z"))).isLessThan(indexOf(enc, utf8("é")));
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void findUsesTheSameOrder() {
        Tree tree = new Tree(List.of(file("a"), file("é"), file("B"),
                node(NodeType.FILE, new byte[] {(byte) 0xff}, List.of(), null, null, 0, 0)));
        assertThat(tree.find(utf8("é"))).isNotNull();
        assertThat(tree.find(new byte[] {(byte) 0xff})).isNotNull();
        assertThat(tree.find(utf8("B"))).isNotNull();
        assertThat(tree.find(utf8("b"))).isNull();
        assertThat(tree.find(utf8(""))).isNull();
    }

    @Test
    void duplicateNamesAreRefused() {
        assertCode(ErrorCode.CORRUPT, () -> new Tree(List.of(file("same"), file("other"), file("same"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "a/b", "/", "../etc", "x\0y"})
    void decodeRefusesUnsafeNames(String name) {
        byte[] enc = new Tree(List.of(file("fine"), file(name))).encode();
        assertCode(ErrorCode.UNSAFE_PATH, () -> Tree.decode(enc, "hostile tree"));
    }

    @Test
    void decodeAcceptsNamesThatOnlyLookLikeDots() {
        Tree tree = new Tree(List.of(file("..."), file(".hidden"), file("..x"), file(". ")));
        assertThat(Tree.decode(tree.encode(), "dots").nodes()).hasSize(4);
    }

    @Test
    void everyTruncationIsCorrupt() {
        byte[] enc = everyKindOfEntry().encode();
        for (int len = 0; len < enc.length; len++) {
            byte[] cut = Arrays.copyOf(enc, len);
            assertCode(ErrorCode.CORRUPT, () -> Tree.decode(cut, "truncated tree"));
        }
    }

    @Test
    void trailingBytesAreCorrupt() {
        byte[] enc = new Tree(List.of(file("a"))).encode();
        assertCode(ErrorCode.CORRUPT, () -> Tree.decode(Arrays.copyOf(enc, enc.length + 1), "long tree"));
    }

    @Test
    void wrongMagicOrVersionIsCorrupt() {
        byte[] enc = new Tree(List.of(file("a"))).encode();
        byte[] magic = enc.clone();
        magic[0] = 'X';
        assertCode(ErrorCode.CORRUPT, () -> Tree.decode(magic, "bad magic"));
        byte[] version = enc.clone();
        version[4] = 2;
        assertCode(ErrorCode.CORRUPT, () -> Tree.decode(version, "bad version"));
        byte[] type = enc.clone();
        type[6] = 8;
        assertCode(ErrorCode.CORRUPT, () -> Tree.decode(type, "bad type"));
    }

    // ---------------------------------------------------------------- forged lengths
    // Tree blobs are authenticated, but the format is public and decode promises CORRUPT for
    // anything it cannot read. A varint of 2^63 or more is a negative long in Java.

    private static final byte[] VARINT_MINUS_ONE = {-1, -1, -1, -1, -1, -1, -1, -1, -1, 1};

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p, 0, p.length);
        }
        return out.toByteArray();
    }

    @Test
    void aForgedEntryCountIsCorrupt() {
        byte[] enc = concat(utf8("HVTR"), new byte[] {1}, VARINT_MINUS_ONE);
        assertCode(ErrorCode.CORRUPT, () -> Tree.decode(enc, "forged count"));
    }

    @Test
    void aForgedNameLengthIsCorrupt() {
        byte[] enc = concat(utf8("HVTR"), new byte[] {1, 1, 1}, VARINT_MINUS_ONE, new byte[40]);
        assertCode(ErrorCode.CORRUPT, () -> Tree.decode(enc, "forged name length"));
    }

    @Test
    void aForgedChunkCountIsCorrupt() {
        byte[] prefix = new Tree(List.of(node(NodeType.FILE, utf8("f"), List.of(), null, null, 0, 0))).encode();
        // the encoding ends with: chunk count 0, xattr count 0; replace both
        byte[] enc = concat(Arrays.copyOf(prefix, prefix.length - 2), VARINT_MINUS_ONE, new byte[] {0});
        assertCode(ErrorCode.CORRUPT, () -> Tree.decode(enc, "forged chunk count"));
    }

    @Test
    void anOverlongVarintIsCorrupt() {
        byte[] enc = concat(utf8("HVTR"), new byte[] {1}, new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1});
        assertCode(ErrorCode.CORRUPT, () -> Tree.decode(enc, "overlong"));
    }

    @Test
    void randomDamageIsReportedAsAHavenException() {
        byte[] enc = everyKindOfEntry().encode();
        Random r = new Random(99);
        for (int i = 0; i < 2000; i++) {
            byte[] bad = enc.clone();
            bad[r.nextInt(bad.length)] = (byte) r.nextInt(256);
            try {
                Tree.decode(bad, "damaged");
            } catch (HavenException e) {
                assertThat(e.code()).isIn(ErrorCode.CORRUPT, ErrorCode.UNSAFE_PATH);
            }
        }
    }
}
