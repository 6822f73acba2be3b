package io.haven.repository.cache;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a cache knows is safe in its main repository: packs the main repository holds (uploaded,
 * or found there) and snapshots synced. Kept in {@code sync-state} in the cache directory, one
 * line per fact ({@code P data/ab/ab12…}, {@code S <snapshot id>}), appended as each fact
 * becomes true, so a sync killed half-way loses at most the line it was writing and redoes
 * only that.
 */
public final class SyncState {
    public static final String FILE = "sync-state";

    private final Path file;
    private final Set<String> packs = ConcurrentHashMap.newKeySet();
    private final Set<String> snapshots = ConcurrentHashMap.newKeySet();

    public SyncState(Path cacheDir) {
        this.file = cacheDir.resolve(FILE);
        if (Files.exists(file)) {
            try {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                for (String l : lines) {
                    if (l.startsWith("P ")) {
                        packs.add(l.substring(2).trim());
                    } else if (l.startsWith("S ")) {
                        snapshots.add(l.substring(2).trim());
                    }
                    // anything else is a torn last line: ignored
                }
            } catch (IOException e) {
                throw new HavenException(ErrorCode.IO, "cannot read " + file + ": " + e.getMessage(), e);
            }
        }
    }

    /** Whether the main repository holds this pack, so the cache may evict it. */
    public boolean packSafe(String name) {
        return packs.contains(name);
    }

    public boolean snapshotSynced(String id) {
        return snapshots.contains(id);
    }

    /** The packs the main repository holds, as far as this cache knows. */
    public Set<String> packs() {
        return java.util.Collections.unmodifiableSet(packs);
    }

    public int packCount() {
        return packs.size();
    }

    public void pack(String name) {
        if (packs.add(name)) {
            append("P " + name);
        }
    }

    public void snapshot(String id) {
        if (snapshots.add(id)) {
            append("S " + id);
        }
    }

    private synchronized void append(String line) {
        try {
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot record sync progress in " + file + ": " + e.getMessage(), e);
        }
    }
}
