package io.haven.repository.tree;

import java.util.Arrays;

/** One extended attribute: full name (with namespace, e.g. {@code user.comment}) and value. */
public record Xattr(String name, byte[] value) {
    public Xattr {
        value = value.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Xattr x && x.name.equals(name) && Arrays.equals(x.value, value);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(value);
    }
}
