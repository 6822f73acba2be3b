package io.haven.repository.fs;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;

/**
 * Include or exclude patterns (globs). A pattern without '/' matches an entry's name anywhere in
 * the tree ({@code *.tmp}, {@code node_modules}); a pattern that starts with '/' matches the whole
 * absolute path ({@code /home/* /.cache}); any other pattern with '/' matches a path's end
 * ({@code .cache/thumbnails} is {@code **}{@code /.cache/thumbnails}). A trailing '/' is ignored.
 */
public final class PathPatterns {
    private final List<PathMatcher> byName = new ArrayList<>();
    private final List<PathMatcher> byPath = new ArrayList<>();

    public PathPatterns(List<String> patterns) {
        for (String p : patterns) {
            if (p.isBlank()) {
                continue;
            }
            String glob = p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
            if (glob.contains("/") && !glob.startsWith("/") && !glob.startsWith("**")) {
                glob = "**/" + glob;
            }
            try {
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
                (glob.contains("/") ? byPath : byName).add(m);
            } catch (IllegalArgumentException e) {
                throw new HavenException(ErrorCode.USAGE, "invalid pattern '" + p + "': " + e.getMessage());
            }
        }
    }

    public boolean isEmpty() {
        return byName.isEmpty() && byPath.isEmpty();
    }

    /** Whether {@code path} (absolute, its last name {@code name}) matches a pattern. */
    public boolean matches(Path path, Path name) {
        for (PathMatcher m : byName) {
            if (m.matches(name)) {
                return true;
            }
        }
        for (PathMatcher m : byPath) {
            if (m.matches(path)) {
                return true;
            }
        }
        return false;
    }
}
