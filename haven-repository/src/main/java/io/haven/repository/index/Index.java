package io.haven.repository.index;

import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import io.haven.repository.pack.PackHeader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.StampedLock;

/**
 * The in-memory union of index files: where each blob is.
 *
 * <p>Design: memory per blob is what limits the size of a repository a host can back up into,
 * so entries are not objects. Every index entry (one blob in one pack) is six {@code long}s in
 * fixed-size pages that never move: the 32-byte id, then pack number and offset, then sealed
 * and raw length (for a member of a group, also where it starts in the group: see
 * {@link #MEMBER}) — 48 bytes. An open-addressing table of {@code int} entry numbers (load factor
 * at most 3/4) finds the entry of a blob; it adds 5.3 to 10.7 bytes per blob. Packs are
 * numbered in a small side table. docs/performance.md records the measured bytes per blob.
 *
 * <p>A blob stored in several packs has an entry for every copy (check and prune see them all);
 * lookups return one preferred copy: the first added, unless that one lies in a pack marked
 * <em>condemned</em> (scheduled for deletion by prune) and a later copy does not.
 *
 * <p>Thread safe: additions take a write lock, lookups a read lock ({@link #containsUsable} first
 * tries an optimistic read).
 */
public final class Index {
    /** Where a blob is stored. */
    public record Location(BlobId pack, BlobType type, int offset, int length, int rawLength, int member) {
        /** A blob stored alone. */
        public Location(BlobId pack, BlobType type, int offset, int length, int rawLength) {
            this(pack, type, offset, length, rawLength, -1);
        }

        public String packName() {
            return PackRecord.objectName(type, pack);
        }
    }

    private static final int PAGE_SHIFT = 16;
    private static final int PAGE_ENTRIES = 1 << PAGE_SHIFT;
    private static final int PAGE_MASK = PAGE_ENTRIES - 1;
    private static final int WORDS = 6;
    /**
     * Word 5 of an entry: a blob stored alone has its sealed length in bits 32–62 and its payload
     * length in bits 0–31; a group member has bit 63 set, then the group's sealed length (bits
     * 42–62), its offset in the group's payload (21–41) and its payload length (0–20). Groups are
     * at most {@link PackHeader#MAX_GROUP_PAYLOAD} (1 MiB), so 21 bits hold each.
     */
    private static final long MEMBER = 1L << 63;
    private static final long BITS21 = (1L << 21) - 1;

    private final StampedLock lock = new StampedLock();
    private long[][] pages = new long[0][];
    private int entries;
    /** Entry number + 1 of each blob's preferred copy; 0 is empty. */
    private int[] table = new int[1024];
    private int blobs;

    /** Pack ids as four words each, their types, and an open-addressing table of pack number + 1. */
    private long[] packWords = new long[4 * 64];
    private byte[] packTypes = new byte[64];
    private int packs;
    private int[] packTable = new int[128];
    private final java.util.BitSet condemned = new java.util.BitSet();
    private final java.util.BitSet avoided = new java.util.BitSet();

    /** Runs {@code read} under the read lock. */
    private <T> T read(java.util.function.Supplier<T> read) {
        long stamp = lock.readLock();
        try {
            return read.get();
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** Runs {@code read} under the read lock, without boxing. */
    private int readInt(java.util.function.IntSupplier read) {
        long stamp = lock.readLock();
        try {
            return read.getAsInt();
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** Adds a pack's blobs. */
    public void add(PackRecord pack) {
        add(pack, false);
    }

    /**
     * Adds a pack's blobs; a {@code condemned} pack's copies are used only when no other copy
     * exists. Adding a pack that is already present adds nothing.
     */
    public void add(PackRecord pack, boolean condemnedPack) {
        long stamp = lock.writeLock();
        try {
            if (findPackLocked(pack.packId()) >= 0) {
                return;
            }
            // checked before anything changes: a pack the index cannot hold is not half added
            long[] lengths = new long[pack.blobs().size()];
            for (int i = 0; i < lengths.length; i++) {
                lengths[i] = lengths(pack.blobs().get(i));
            }
            int packNo = addPack(pack.packId(), pack.type());
            if (condemnedPack) {
                condemned.set(packNo);
            }
            for (int i = 0; i < lengths.length; i++) {
                PackRecord.Entry e = pack.blobs().get(i);
                int entry = append(e, packNo, lengths[i]);
                insert(e.id(), entry);
            }
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    private int addPack(BlobId id, BlobType type) {
        int n = packs;
        if (n == packTypes.length) {
            packTypes = Arrays.copyOf(packTypes, n * 2);
            packWords = Arrays.copyOf(packWords, n * 8);
        }
        for (int w = 0; w < 4; w++) {
            packWords[n * 4 + w] = id.word(w);
        }
        packTypes[n] = (byte) type.code();
        packs = n + 1;
        if (packs > packTable.length / 2) {
            int[] t = new int[packTable.length * 2];
            for (int slot : packTable) {
                if (slot != 0) {
                    placePack(t, slot - 1);
                }
            }
            packTable = t;
        }
        placePack(packTable, n);
        return n;
    }

    private void placePack(int[] t, int packNo) {
        int mask = t.length - 1;
        int i = spread(packWords[packNo * 4]) & mask;
        while (t[i] != 0) {
            i = (i + 1) & mask;
        }
        t[i] = packNo + 1;
    }

    private int findPackLocked(BlobId id) {
        int[] t = packTable;
        int mask = t.length - 1;
        int i = spread(id.word(0)) & mask;
        while (true) {
            int slot = t[i];
            if (slot == 0) {
                return -1;
            }
            int b = (slot - 1) * 4;
            if (packWords[b] == id.word(0) && packWords[b + 1] == id.word(1) && packWords[b + 2] == id.word(2)
                    && packWords[b + 3] == id.word(3)) {
                return slot - 1;
            }
            i = (i + 1) & mask;
        }
    }

    private BlobId packIdLocked(int packNo) {
        if (packNo < 0 || packNo >= packs) {
            throw new IndexOutOfBoundsException(packNo);
        }
        int b = packNo * 4;
        return BlobId.ofWords(packWords[b], packWords[b + 1], packWords[b + 2], packWords[b + 3]);
    }

    private BlobType packTypeLocked(int packNo) {
        if (packNo < 0 || packNo >= packs) {
            throw new IndexOutOfBoundsException(packNo);
        }
        return BlobType.ofCode(packTypes[packNo]);
    }

    private int append(PackRecord.Entry e, int packNo, long lengths) {
        int n = entries;
        int page = n >>> PAGE_SHIFT;
        if (page == pages.length) {
            pages = Arrays.copyOf(pages, page + 1);
            pages[page] = new long[PAGE_ENTRIES * WORDS];
        }
        long[] p = pages[page];
        int base = (n & PAGE_MASK) * WORDS;
        BlobId id = e.id();
        p[base] = id.word(0);
        p[base + 1] = id.word(1);
        p[base + 2] = id.word(2);
        p[base + 3] = id.word(3);
        p[base + 4] = (long) packNo << 32 | (e.offset() & 0xffffffffL);
        p[base + 5] = lengths;
        entries = n + 1;
        return n;
    }

    /** Word 5 of an entry (see {@link #MEMBER}). */
    private static long lengths(PackRecord.Entry e) {
        if (!e.grouped()) {
            return ((long) e.length() & 0x7fffffffL) << 32 | (e.rawLength() & 0xffffffffL);
        }
        if (e.length() < 0 || e.length() > BITS21 || e.member() > BITS21 || e.rawLength() < 0 || e.rawLength() > BITS21) {
            throw new io.haven.core.HavenException(io.haven.core.ErrorCode.CORRUPT, "blob " + e.id().shortHex()
                    + " lies in a group larger than the format allows (1 MiB)");
        }
        return MEMBER | (long) e.length() << 42 | (long) e.member() << 21 | e.rawLength();
    }

    private static int lengthOf(long w5) {
        return w5 < 0 ? (int) (w5 >>> 42 & BITS21) : (int) (w5 >>> 32);
    }

    private static int rawLengthOf(long w5) {
        return w5 < 0 ? (int) (w5 & BITS21) : (int) w5;
    }

    private static int memberOf(long w5) {
        return w5 < 0 ? (int) (w5 >>> 21 & BITS21) : -1;
    }

    private void insert(BlobId id, int entry) {
        int mask = table.length - 1;
        int i = spread(id.word(0)) & mask;
        while (true) {
            int slot = table[i];
            if (slot == 0) {
                table[i] = entry + 1;
                blobs++;
                if (blobs > table.length / 4 * 3) {
                    grow();
                }
                return;
            }
            if (sameId(slot - 1, id)) {
                if (lastChoice(packOf(slot - 1)) && !lastChoice(packOf(entry))) {
                    table[i] = entry + 1;
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    private void grow() {
        int[] old = table;
        int[] t = new int[old.length * 2];
        int mask = t.length - 1;
        for (int slot : old) {
            if (slot != 0) {
                int i = spread(word(slot - 1, 0)) & mask;
                while (t[i] != 0) {
                    i = (i + 1) & mask;
                }
                t[i] = slot;
            }
        }
        table = t;
    }

    private static int spread(long w0) {
        long h = w0 * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32);
    }

    private long word(int entry, int w) {
        return pages[entry >>> PAGE_SHIFT][(entry & PAGE_MASK) * WORDS + w];
    }

    private boolean sameId(int entry, BlobId id) {
        long[] p = pages[entry >>> PAGE_SHIFT];
        int base = (entry & PAGE_MASK) * WORDS;
        return p[base] == id.word(0) && p[base + 1] == id.word(1) && p[base + 2] == id.word(2) && p[base + 3] == id.word(3);
    }

    private int packOf(int entry) {
        return (int) (word(entry, 4) >>> 32);
    }

    /** Entry number of the preferred copy of a blob, or -1; caller holds a lock. */
    private int findLocked(BlobId id) {
        int[] t = table;
        int mask = t.length - 1;
        int i = spread(id.word(0)) & mask;
        while (true) {
            int slot = t[i];
            if (slot == 0) {
                return -1;
            }
            if (sameId(slot - 1, id)) {
                return slot - 1;
            }
            i = (i + 1) & mask;
        }
    }

    /**
     * Marks packs condemned after they were added: their copies become the last choice, and
     * {@link #containsUsable} is false for blobs that have no other copy. Takes time linear in
     * the number of entries.
     */
    public void condemn(java.util.Collection<Integer> packNos) {
        markLastChoice(condemned, packNos);
    }

    private void markLastChoice(java.util.BitSet set, java.util.Collection<Integer> packNos) {
        long stamp = lock.writeLock();
        try {
            for (int p : packNos) {
                set.set(p);
            }
            repoint();
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /** Condemned and avoided packs' copies are the last choice of {@link #find}. */
    private boolean lastChoice(int pack) {
        return condemned.get(pack) || avoided.get(pack);
    }

    /** Points every blob whose preferred copy is a last choice at another copy, when it has one. */
    private void repoint() {
        for (int e = 0; e < entries; e++) {
            if (lastChoice(packOf(e))) {
                continue;
            }
            BlobId id = BlobId.ofWords(word(e, 0), word(e, 1), word(e, 2), word(e, 3));
            int mask = table.length - 1;
            int i = spread(word(e, 0)) & mask;
            while (table[i] != 0 && !sameId(table[i] - 1, id)) {
                i = (i + 1) & mask;
            }
            if (table[i] != 0 && lastChoice(packOf(table[i] - 1))) {
                table[i] = e + 1;
            }
        }
    }

    /** The entry number of the blob's preferred copy, or -1 when the index does not know it. */
    public int find(BlobId id) {
        long stamp = lock.readLock();
        try {
            return findLocked(id);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    public Location lookup(BlobId id) {
        long stamp = lock.readLock();
        try {
            int e = findLocked(id);
            return e < 0 ? null : locationLocked(e);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    public boolean contains(BlobId id) {
        return find(id) >= 0;
    }

    /**
     * Marks packs whose blobs new snapshots should not reuse although they are not condemned:
     * packs in the cold tier (a new snapshot would need a thaw), and packs a site cache evicted
     * (the main repository may drop them). Writers store such blobs again.
     */
    public void avoid(java.util.Collection<Integer> packNos) {
        markLastChoice(avoided, packNos);
    }

    /**
     * Whether the blob has a copy outside condemned and avoided packs: a writer may rely on it.
     * Asked once per chunk by every backup thread, so it first reads without locking (no
     * compare-and-set on the lock's shared state per lookup) and keeps the answer if no writer
     * changed the index meanwhile ({@link StampedLock#validate}); a read torn by a concurrent
     * addition may throw or answer wrongly, and is then repeated under the read lock. While a
     * pack's entries are being added, lookups still wait for the lock (in a kernel backup
     * about 0.07 s of thread time, mostly while the table grows).
     */
    public boolean containsUsable(BlobId id) {
        long optimistic = lock.tryOptimisticRead();
        if (optimistic != 0L) {
            try {
                boolean usable = usableLocked(id);
                if (lock.validate(optimistic)) {
                    return usable;
                }
            } catch (RuntimeException torn) {
                // arrays replaced under the read: fall through to the locked read
            }
        }
        long stamp = lock.readLock();
        try {
            return usableLocked(id);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** {@link #containsUsable}'s answer; caller holds a lock or validates an optimistic read. */
    private boolean usableLocked(BlobId id) {
        int e = findLocked(id);
        return e >= 0 && !lastChoice(packOf(e));
    }

    /** Distinct blobs. */
    public int blobCount() {
        return readInt(() -> blobs);
    }

    /** Entries: one per copy of a blob; numbered 0 to {@code entryCount() - 1} in order of addition. */
    public int entryCount() {
        return readInt(() -> entries);
    }

    public int packCount() {
        return readInt(() -> packs);
    }

    /** The number of a pack, or -1. */
    public int packNumber(BlobId packId) {
        return readInt(() -> findPackLocked(packId));
    }

    public BlobId packId(int packNo) {
        return read(() -> packIdLocked(packNo));
    }

    public BlobType packType(int packNo) {
        return read(() -> packTypeLocked(packNo));
    }

    public String packName(int packNo) {
        return PackRecord.objectName(packType(packNo), packId(packNo));
    }

    public boolean isCondemned(int packNo) {
        return read(() -> condemned.get(packNo));
    }

    /** One entry, by number. */
    public record Entry(int number, BlobId id, int pack, int offset, int length, int rawLength, int member) {
        /** Whether the blob is a member of a group (docs/repository-format.md §5). */
        public boolean grouped() {
            return member >= 0;
        }
    }

    public Entry entry(int e) {
        long stamp = lock.readLock();
        try {
            if (e < 0 || e >= entries) {
                throw new IndexOutOfBoundsException(e);
            }
            long[] p = pages[e >>> PAGE_SHIFT];
            int base = (e & PAGE_MASK) * WORDS;
            long w5 = p[base + 5];
            return new Entry(e, BlobId.ofWords(p[base], p[base + 1], p[base + 2], p[base + 3]), (int) (p[base + 4] >>> 32),
                    (int) p[base + 4], lengthOf(w5), rawLengthOf(w5), memberOf(w5));
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /**
     * For each pack number, the bytes its listed blobs take in it: a group's sealed bytes count
     * once, however many of its members are listed.
     */
    public long[] bytesByPack() {
        long stamp = lock.readLock();
        try {
            long[] bytes = new long[packs];
            java.util.Set<Long> groupsSeen = new java.util.HashSet<>();
            for (int e = 0; e < entries; e++) {
                long w4 = word(e, 4);
                long w5 = word(e, 5);
                if (w5 >= 0 || groupsSeen.add(w4)) { // w4: pack number and the group's offset
                    bytes[packOf(e)] += lengthOf(w5);
                }
            }
            return bytes;
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** The pack number of an entry, without building the entry. */
    public int entryPack(int e) {
        return readInt(() -> packOf(e));
    }

    /** The sealed length of an entry, without building the entry. */
    public int entryLength(int e) {
        return readInt(() -> lengthOf(word(e, 5)));
    }

    public Location location(int e) {
        return read(() -> locationLocked(e));
    }

    private Location locationLocked(int e) {
        long w4 = word(e, 4);
        long w5 = word(e, 5);
        int packNo = (int) (w4 >>> 32);
        return new Location(packIdLocked(packNo), packTypeLocked(packNo), (int) w4, lengthOf(w5), rawLengthOf(w5), memberOf(w5));
    }

    /** For each pack number, the numbers of its entries in order of addition. */
    public int[][] entriesByPack() {
        long stamp = lock.readLock();
        try {
            int[] counts = new int[packs];
            for (int e = 0; e < entries; e++) {
                counts[packOf(e)]++;
            }
            int[][] out = new int[counts.length][];
            for (int p = 0; p < counts.length; p++) {
                out[p] = new int[counts[p]];
            }
            int[] fill = new int[counts.length];
            for (int e = 0; e < entries; e++) {
                int p = packOf(e);
                out[p][fill[p]++] = e;
            }
            return out;
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** A pack and its blobs as an index file lists them. */
    public PackRecord packRecord(int packNo, int[] packEntries) {
        List<PackRecord.Entry> list = new ArrayList<>(packEntries.length);
        for (int e : packEntries) {
            Entry x = entry(e);
            list.add(new PackRecord.Entry(x.id(), x.offset(), x.length(), x.rawLength(), x.member()));
        }
        return new PackRecord(packId(packNo), packType(packNo), list);
    }

    /**
     * Every pack with its blobs. Builds objects for every entry: for tests and small
     * repositories; large walks use {@link #entriesByPack()}.
     */
    public Collection<PackRecord> packs() {
        int[][] byPack = entriesByPack();
        List<PackRecord> out = new ArrayList<>(byPack.length);
        for (int p = 0; p < byPack.length; p++) {
            out.add(packRecord(p, byPack[p]));
        }
        return out;
    }

    public Set<BlobId> packIds() {
        long stamp = lock.readLock();
        try {
            Set<BlobId> out = new LinkedHashSet<>();
            for (int p = 0; p < packs; p++) {
                out.add(packIdLocked(p));
            }
            return out;
        } finally {
            lock.unlockRead(stamp);
        }
    }

    // ---------------------------------------------------------------- state, for IndexCache

    /** Receives the state in pieces: a buffer ready to be read, which it must consume. */
    interface StateOut {
        void write(java.nio.ByteBuffer piece) throws java.io.IOException;
    }

    /**
     * Writes the index's arrays (for {@link IndexCache}): counts, the blob table, the pack
     * table, pack ids and types, then the entries, through a 1 MiB buffer (an index of ten
     * million blobs is 570 MB; no second copy of it is made). Condemned and avoided marks are
     * not kept: a cache is written only for an index that has none, or they are applied again
     * after reading.
     */
    void writeState(StateOut out) throws java.io.IOException {
        long stamp = lock.readLock();
        try {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 << 20);
            b.putInt(entries).putInt(blobs).putInt(packs).putInt(table.length).putInt(packTable.length);
            putInts(b, table, table.length, out);
            putInts(b, packTable, packTable.length, out);
            putLongs(b, packWords, 4 * packs, out);
            for (int i = 0; i < packs; i++) {
                if (!b.hasRemaining()) {
                    drain(b, out);
                }
                b.put(packTypes[i]);
            }
            for (int page = 0; page * PAGE_ENTRIES < entries; page++) {
                putLongs(b, pages[page], Math.min(PAGE_ENTRIES, entries - page * PAGE_ENTRIES) * WORDS, out);
            }
            drain(b, out);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    private static void putInts(java.nio.ByteBuffer b, int[] a, int n, StateOut out) throws java.io.IOException {
        putAll(b, n, 4, (buf, from, count) -> buf.asIntBuffer().put(a, from, count), out);
    }

    private static void putLongs(java.nio.ByteBuffer b, long[] a, int n, StateOut out) throws java.io.IOException {
        putAll(b, n, 8, (buf, from, count) -> buf.asLongBuffer().put(a, from, count), out);
    }

    /** Puts elements {@code [from, from+count)} of an array at the buffer's position. */
    private interface Slice {
        void put(java.nio.ByteBuffer b, int from, int count);
    }

    /** Puts {@code n} elements of {@code width} bytes, draining the buffer whenever it is full. */
    private static void putAll(java.nio.ByteBuffer b, int n, int width, Slice slice, StateOut out) throws java.io.IOException {
        for (int i = 0; i < n; ) {
            int k = Math.min(n - i, b.remaining() / width);
            if (k == 0) {
                drain(b, out);
                continue;
            }
            slice.put(b, i, k);
            b.position(b.position() + width * k);
            i += k;
        }
    }

    private static void drain(java.nio.ByteBuffer b, StateOut out) throws java.io.IOException {
        b.flip();
        out.write(b);
        b.clear();
    }

    /**
     * An index from {@link #writeState}'s bytes (a heap or mapped buffer).
     *
     * @throws IllegalArgumentException when the bytes are not a consistent state
     */
    static Index ofState(java.nio.ByteBuffer b) {
        Index idx = new Index();
        int entries = b.getInt();
        int blobs = b.getInt();
        int packs = b.getInt();
        int tableLength = b.getInt();
        int packTableLength = b.getInt();
        if (entries < 0 || blobs < 0 || blobs > entries || packs < 0 || Integer.bitCount(tableLength) != 1
                || Integer.bitCount(packTableLength) != 1 || blobs > tableLength / 4 * 3 || packs > packTableLength / 2
                || (long) 4 * tableLength + 4L * packTableLength + 33L * packs + 48L * entries != b.remaining()) {
            throw new IllegalArgumentException("inconsistent index state");
        }
        idx.table = new int[tableLength];
        b.asIntBuffer().get(idx.table);
        b.position(b.position() + 4 * tableLength);
        idx.packTable = new int[packTableLength];
        b.asIntBuffer().get(idx.packTable);
        b.position(b.position() + 4 * packTableLength);
        int packCapacity = Math.max(64, Integer.highestOneBit(Math.max(1, packs)) * 2);
        idx.packWords = new long[4 * packCapacity];
        b.asLongBuffer().get(idx.packWords, 0, 4 * packs);
        b.position(b.position() + 32 * packs);
        idx.packTypes = new byte[packCapacity];
        b.get(idx.packTypes, 0, packs);
        int pageCount = (entries + PAGE_ENTRIES - 1) / PAGE_ENTRIES;
        idx.pages = new long[pageCount][];
        for (int page = 0; page < pageCount; page++) {
            idx.pages[page] = new long[PAGE_ENTRIES * WORDS];
            int n = Math.min(PAGE_ENTRIES, entries - page * PAGE_ENTRIES) * WORDS;
            b.asLongBuffer().get(idx.pages[page], 0, n);
            b.position(b.position() + 8 * n);
        }
        idx.entries = entries;
        idx.blobs = blobs;
        idx.packs = packs;
        for (int slot : idx.table) {
            if (slot < 0 || slot > entries) {
                throw new IllegalArgumentException("inconsistent index state");
            }
        }
        for (int slot : idx.packTable) {
            if (slot < 0 || slot > packs) {
                throw new IllegalArgumentException("inconsistent index state");
            }
        }
        for (int e = 0; e < entries; e++) {
            int p = idx.packOf(e);
            if (p < 0 || p >= packs) {
                throw new IllegalArgumentException("inconsistent index state");
            }
        }
        return idx;
    }

    /**
     * Bytes the entry pages, the blob table and the pack table occupy: what
     * {@code docs/performance.md} reports as index memory.
     */
    public long memoryBytes() {
        long stamp = lock.readLock();
        try {
            long pageBytes = (long) pages.length * (16 + (long) PAGE_ENTRIES * WORDS * 8);
            long tableBytes = 16 + 4L * table.length;
            long packBytes = 8L * packWords.length + packTypes.length + 4L * packTable.length + condemned.size() / 8;
            return pageBytes + tableBytes + packBytes;
        } finally {
            lock.unlockRead(stamp);
        }
    }
}
