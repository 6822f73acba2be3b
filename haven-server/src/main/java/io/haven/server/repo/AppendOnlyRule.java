package io.haven.server.repo;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * What an append-only caller (an agent) may do, so that a compromised host cannot destroy or
 * alter what is stored: it may read everything and add objects in the directories a backup
 * writes ({@code data/}, {@code tree/}, {@code index/}, {@code snapshots/}, {@code writers/}),
 * and store an existing object again only with the same bytes; it may not delete.
 *
 * <p>The one exception is what a backup removes itself: its <em>writer marker</em>
 * {@code writers/<32 hex digits>}, which a writer rewrites every {@code stale-after / 6} (with new
 * bytes: a new heartbeat, a new nonce) and deletes when it is done (see
 * {@code WriterRegistration}). Markers hold no backup data; they only tell a prune which writers
 * are alive. Within this process, a marker may then be rewritten or deleted by an append-only
 * caller only if the same actor created it; a marker whose creator this process does not know
 * (created before a restart, or through another server) may be rewritten or deleted by any
 * append-only caller. Markers are told apart by the backend's location and their name. docs/backends.md explains the rule and what it leaves open.
 *
 * <p>Refused: deletes of anything else (403), writes outside those directories, such as
 * {@code config}, {@code keys/}, {@code condemned/} or {@code tier/} (403: a forged condemned set
 * or tier policy would make the next prune or tier move remove data), and a different body for an
 * existing name (409, decided by the handler, which compares the bytes).
 *
 * <p>Thread safe.
 */
final class AppendOnlyRule {
    /** The directories a backup writes into. */
    static final List<String> WRITABLE = List.of("data/", "tree/", "index/", "snapshots/", "writers/");
    private static final Pattern MARKER = Pattern.compile("writers/[0-9a-f]{32}");
    /** Beyond this many known markers the table starts again (markers of killed writers are never deleted). */
    private static final int MAX_KNOWN_MARKERS = 100_000;

    /** backend location + '\n' + marker name → the actor that created it. */
    private final Map<String, String> markerOwners = new ConcurrentHashMap<>();

    /** Whether {@code name} is a writer marker, the one kind of object a backup rewrites and deletes. */
    static boolean isWriterMarker(String name) {
        return MARKER.matcher(name).matches();
    }

    /** Why {@code actor} may not write {@code name}, or null when it may (overwrites are checked by the handler). */
    String refuseWrite(String store, String name, String actor) {
        if (WRITABLE.stream().noneMatch(name::startsWith)) {
            return "append-only access (" + actor + ") may add objects only under " + String.join(", ", WRITABLE)
                    + "; not " + name;
        }
        if (name.startsWith("writers/") && !isWriterMarker(name)) {
            return "append-only access (" + actor + ") may write only writer markers writers/<32 hex digits> under writers/; not "
                    + name;
        }
        return refuseOthersMarker(store, name, actor, "rewrite");
    }

    /** Why {@code actor} may not delete {@code name}, or null when it may. */
    String refuseDelete(String store, String name, String actor) {
        if (!isWriterMarker(name)) {
            return "append-only access (" + actor + ") may not delete " + name
                    + ": agents can add to the repository, but only an administrator can remove data";
        }
        return refuseOthersMarker(store, name, actor, "delete");
    }

    private String refuseOthersMarker(String store, String name, String actor, String verb) {
        if (!isWriterMarker(name)) {
            return null;
        }
        String owner = markerOwners.get(key(store, name));
        if (owner != null && !owner.equals(actor)) {
            return "append-only access (" + actor + ") may not " + verb + " the writer marker " + name + " of " + owner;
        }
        return null;
    }

    /** Records that {@code actor} created the marker {@code name} (call after a write of a new marker). */
    void created(String store, String name, String actor) {
        if (!isWriterMarker(name)) {
            return;
        }
        if (markerOwners.size() >= MAX_KNOWN_MARKERS) {
            markerOwners.clear();
        }
        markerOwners.put(key(store, name), actor);
    }

    /** Forgets the owner of a deleted marker. */
    void deleted(String store, String name) {
        if (isWriterMarker(name)) {
            markerOwners.remove(key(store, name));
        }
    }

    private static String key(String store, String name) {
        return store + "\n" + name;
    }
}
