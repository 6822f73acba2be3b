package io.haven.repository.backend;

/**
 * The rule for object names that travel over the network ({@link RestBackend} and the server
 * that answers it check the same rule): relative, '/'-separated, at most {@value #MAX_LENGTH}
 * characters, no empty, {@code .} or {@code ..} segment, no backslash, no control character, no
 * {@code %}, and no {@code .tmp-} (the mark of the local backend's temporary files, which listings
 * skip). Every name the repository format uses passes. The {@code %} is refused because an encoded
 * percent sign ({@code %25}) in a URL path is ambiguous, and Jetty (like many proxies) refuses it.
 * Stateless and thread safe.
 */
public final class ObjectNames {
    /** The longest name accepted, in characters. */
    public static final int MAX_LENGTH = 1024;

    private ObjectNames() {}

    /** Whether {@code name} is a valid object name (see the class comment). */
    public static boolean valid(String name) {
        return problem(name) == null;
    }

    /**
     * What is wrong with {@code name}, or null when it is a valid object name. The reason is
     * written for a message: "has an empty segment", "contains a backslash"…
     */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "is empty";
        }
        if (name.length() > MAX_LENGTH) {
            return "is longer than " + MAX_LENGTH + " characters";
        }
        if (name.contains(LocalBackend.TMP_MARK)) {
            return "contains '" + LocalBackend.TMP_MARK + "', which marks temporary files";
        }
        int start = 0;
        for (int i = 0; i <= name.length(); i++) {
            char c = i < name.length() ? name.charAt(i) : '/';
            if (c == '/') {
                String segment = name.substring(start, i);
                if (segment.isEmpty()) {
                    return i == 0 ? "is absolute" : "has an empty segment";
                }
                if (segment.equals(".") || segment.equals("..")) {
                    return "has a '" + segment + "' segment";
                }
                start = i + 1;
            } else if (c == '\\') {
                return "contains a backslash";
            } else if (c == '%') {
                return "contains a '%'";
            } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                return "contains a control character";
            }
        }
        return null;
    }

    /**
     * {@code name} when it is valid.
     *
     * @throws IllegalArgumentException naming the problem (a caller's bug, as in the other backends)
     */
    public static String check(String name) {
        String p = problem(name);
        if (p != null) {
            throw new IllegalArgumentException("invalid object name '" + printable(name) + "': it " + p);
        }
        return name;
    }

    /** {@code name} with control characters shown as {@code \\uXXXX}, cut after 200 characters, for messages. */
    public static String printable(String name) {
        return printable(name, 200);
    }

    /** {@code text} with control characters shown as {@code \\uXXXX}, cut after {@code max} characters. */
    public static String printable(String text, int max) {
        if (text == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        int n = Math.min(text.length(), max);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return n < text.length() ? b.append("…").toString() : b.toString();
    }
}
