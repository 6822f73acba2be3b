package io.haven.server.repo;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.charset.StandardCharsets;

/**
 * What the path of a request to {@link RepositoryHandler} names: {@code /repo/v1/REPOSITORY/list}
 * or {@code /repo/v1/REPOSITORY/objects/NAME}, each segment percent-decoded as UTF-8. The name is
 * not checked here (the handler checks it after authorizing the caller).
 *
 * @param repository the repository's name
 * @param list whether the path is the listing
 * @param name the object's name, or null for the listing
 */
record RepositoryPath(String repository, boolean list, String name) {
    /**
     * Parses a raw (still encoded) path that starts with {@link RepositoryHandler#PREFIX}.
     *
     * @throws HavenException NOT_FOUND for another endpoint, USAGE for bad percent-encoding
     */
    static RepositoryPath parse(String rawPath) {
        String rest = rawPath.substring(RepositoryHandler.PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            throw noEndpoint(rawPath);
        }
        String repository = decode(rest.substring(0, slash));
        String after = rest.substring(slash + 1);
        if (after.equals("list")) {
            return new RepositoryPath(repository, true, null);
        }
        if (after.startsWith("objects/")) {
            return new RepositoryPath(repository, false, joinSegments(after.substring("objects/".length())));
        }
        throw noEndpoint(rawPath);
    }

    private static HavenException noEndpoint(String rawPath) {
        String p = RepositoryHandler.PREFIX;
        return new HavenException(ErrorCode.NOT_FOUND, "no such endpoint: " + rawPath + " (use " + p + "REPOSITORY/list or " + p
                + "REPOSITORY/objects/NAME)");
    }

    /** Decodes each '/'-separated segment of a raw path; a decoded '/' inside a segment stays a '/'. */
    private static String joinSegments(String raw) {
        String[] segments = raw.split("/", -1);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < segments.length; i++) {
            if (i > 0) {
                b.append('/');
            }
            b.append(decode(segments[i]));
        }
        return b.toString();
    }

    /** Strict percent-decoding of one path segment as UTF-8 ('+' is a plus). */
    static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        byte[] out = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    throw new HavenException(ErrorCode.USAGE, "bad percent-encoding in the path");
                }
                out[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (c < 0x80) {
                out[n++] = (byte) c;
            } else {
                throw new HavenException(ErrorCode.USAGE, "unencoded non-ASCII character in the path");
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }
}
