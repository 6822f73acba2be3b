package io.haven.repository.crypto;

import io.haven.repository.BlobId;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 of stored bytes: the name of every object but {@code config}. */
public final class ObjectHash {
    private ObjectHash() {}

    public static BlobId of(byte[] data) {
        return of(data, 0, data.length);
    }

    public static BlobId of(byte[] data, int offset, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, offset, length);
            return BlobId.of(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
