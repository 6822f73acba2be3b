package io.haven.repository.cache;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.LocalBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/** Creating and opening site caches. */
public final class SiteCache {
    private SiteCache() {}

    /**
     * Makes {@code dir} a cache of the repository in {@code main}: copies its {@code config} and
     * key files (so the cache has the same id, chunker and master key, and its packs can be
     * uploaded byte for byte) and writes {@code cache.json}. The directory must be empty or absent.
     */
    public static CacheConfig init(Backend main, String mainLocation, Path dir, long maxSize, Instant now) {
        try {
            if (Files.exists(dir)) {
                if (!Files.isDirectory(dir)) {
                    throw new HavenException(ErrorCode.REPOSITORY_EXISTS, dir + " exists and is not a directory");
                }
                try (var entries = Files.list(dir)) {
                    if (entries.findAny().isPresent()) {
                        throw new HavenException(ErrorCode.REPOSITORY_EXISTS, dir + " is not empty; a cache needs an empty directory");
                    }
                }
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot create the cache directory " + dir + ": " + e.getMessage(), e);
        }
        if (main.stat("config").isEmpty()) {
            throw new HavenException(ErrorCode.REPOSITORY_NOT_FOUND, "no repository at " + mainLocation + " to cache");
        }
        LocalBackend local = new LocalBackend(dir);
        List<String> keys = main.list("keys");
        for (String k : keys) {
            local.write(k, main.read(k));
        }
        local.write("config", main.read("config"));
        CacheConfig c = new CacheConfig(1, mainLocation, maxSize, now.toString());
        c.write(dir);
        return c;
    }

    /** The backend of the cache in {@code dir}; {@code main} opens the main repository's backend when first needed. */
    public static CacheBackend open(Path dir, Supplier<Backend> main) {
        CacheConfig c = CacheConfig.read(dir);
        return new CacheBackend(new LocalBackend(dir), dir, main, new SyncState(dir), c.maxSize());
    }
}
