package io.haven.repository.cache;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What makes a repository directory a site cache: {@code cache.json} beside {@code config}, in
 * plaintext (it holds no secret): the main repository's location and the size limit.
 */
public record CacheConfig(int version, String main, @JsonProperty("max_size") long maxSize, String created) {
    public static final String FILE = "cache.json";

    public static boolean isCache(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    public static CacheConfig read(Path dir) {
        try {
            CacheConfig c = Json.read(Files.readAllBytes(dir.resolve(FILE)), CacheConfig.class, "cache configuration");
            if (c.version != 1 || c.main == null || c.main.isBlank()) {
                throw new HavenException(ErrorCode.CORRUPT, dir.resolve(FILE) + " is not a cache configuration this version reads");
            }
            return c;
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot read " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    public void write(Path dir) {
        try {
            Path tmp = dir.resolve(FILE + ".tmp");
            Files.write(tmp, Json.write(this));
            Files.move(tmp, dir.resolve(FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot write " + dir.resolve(FILE) + ": " + io.haven.core.IoReasons.of(e), e);
        }
    }
}
