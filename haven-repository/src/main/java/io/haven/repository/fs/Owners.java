package io.haven.repository.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.util.concurrent.ConcurrentHashMap;

/**
 * User and group names of numeric ids, looked up once per id (through the first file that has
 * it, as Java offers no id-to-name call). Thread safe.
 */
public final class Owners {
    private final ConcurrentHashMap<Long, String> users = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, String> groups = new ConcurrentHashMap<>();

    public String user(long uid, Path example) {
        String n = users.get(uid);
        if (n == null) {
            try {
                n = ((UserPrincipal) Files.getAttribute(example, "unix:owner", LinkOption.NOFOLLOW_LINKS)).getName();
            } catch (IOException | RuntimeException e) {
                n = "";
            }
            if (n.equals(Long.toString(uid))) {
                n = "";
            }
            users.put(uid, n);
        }
        return n;
    }

    public String group(long gid, Path example) {
        String n = groups.get(gid);
        if (n == null) {
            try {
                n = ((GroupPrincipal) Files.getAttribute(example, "unix:group", LinkOption.NOFOLLOW_LINKS)).getName();
            } catch (IOException | RuntimeException e) {
                n = "";
            }
            if (n.equals(Long.toString(gid))) {
                n = "";
            }
            groups.put(gid, n);
        }
        return n;
    }
}
