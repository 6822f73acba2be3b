package io.haven.repository.pack;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.crypto.MasterKey;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Opens sealed blobs read from packs: authenticates and decompresses them and checks each blob's
 * id. A member of a group (docs/repository-format.md §5) is cut out of its group's payload. The
 * payloads of the last groups opened are kept, so reading the members of one group one after
 * another (a restore of a folder of small files, a check of a pack) opens the group once.
 *
 * <p>Thread safe: two threads that need the same group at once may both open it.
 */
public final class BlobOpener {
    /** A group's place: its pack and its offset there. */
    private record GroupKey(BlobId pack, int offset) {}

    private final MasterKey key;
    private final Map<GroupKey, byte[]> groups;

    /** An opener that keeps the payloads of up to {@code groupsKept} groups. */
    public BlobOpener(MasterKey key, int groupsKept) {
        this.key = key;
        this.groups = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<GroupKey, byte[]> eldest) {
                return size() > groupsKept;
            }
        };
    }

    /**
     * The payload of blob {@code id}. The sealed bytes of the blob, or of its group when
     * {@code member} ≥ 0, are {@code length} bytes at {@code bufferOffset} in {@code buffer}, read
     * from {@code offset} in pack {@code pack}. A member's payload is {@code rawLength} bytes at
     * {@code member} in the group's payload.
     *
     * @param what names the blob in errors, e.g. "data blob 1a2b3c4d in pack 5e6f7a8b"
     * @throws HavenException CORRUPT when authentication fails, a member lies outside its group,
     *     or the payload does not match the id
     */
    public byte[] open(BlobId id, BlobId pack, int offset, int length, int rawLength, int member, byte[] buffer,
            int bufferOffset, String what) {
        if (member < 0) {
            byte[] payload = key.open(buffer, bufferOffset, length, rawLength, what);
            verify(id, payload, 0, payload.length, what);
            return payload;
        }
        GroupKey place = new GroupKey(pack, offset);
        byte[] group = kept(place);
        if (group == null) {
            group = key.open(buffer, bufferOffset, length, -1, what + " (in the group at offset " + offset + ")");
            if (group.length > PackHeader.MAX_GROUP_PAYLOAD) {
                throw new HavenException(ErrorCode.CORRUPT, what + " lies in a group of impossible size " + group.length);
            }
        }
        byte[] payload = cut(id, group, member, rawLength, what);
        synchronized (groups) {
            groups.put(place, group);
        }
        return payload;
    }

    /**
     * The payload of group member {@code id} when its group is among those kept, so the caller
     * need not read the group again; else null.
     *
     * @throws HavenException CORRUPT as {@link #open}
     */
    public byte[] openKept(BlobId id, BlobId pack, int offset, int rawLength, int member, String what) {
        byte[] group = member < 0 ? null : kept(new GroupKey(pack, offset));
        return group == null ? null : cut(id, group, member, rawLength, what);
    }

    private byte[] kept(GroupKey place) {
        synchronized (groups) {
            return groups.get(place);
        }
    }

    /** Member {@code id}'s payload, {@code rawLength} bytes at {@code member} in its group's, checked against its id. */
    private byte[] cut(BlobId id, byte[] group, int member, int rawLength, String what) {
        if (rawLength < 0 || (long) member + rawLength > group.length) {
            throw new HavenException(ErrorCode.CORRUPT, what + " lies outside its group (" + member + "+" + rawLength + " of "
                    + group.length + " bytes)");
        }
        verify(id, group, member, rawLength, what);
        return Arrays.copyOfRange(group, member, member + rawLength);
    }

    private void verify(BlobId id, byte[] payload, int from, int length, String what) {
        if (!key.blobId(payload, from, length).equals(id)) {
            throw new HavenException(ErrorCode.CORRUPT, what + " does not match its id: the pack was modified or damaged");
        }
    }
}
