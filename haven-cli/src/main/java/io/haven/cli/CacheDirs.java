package io.haven.cli;

import io.haven.core.FileTrees;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;

/**
 * Housekeeping of the per-repository cache folders ({@code <cache>/repos/<repository id>}: the
 * index copy, and a remote repository's cached metadata). A command that uses its repository's
 * folder stamps it ({@value #STAMP}); folders of other repositories whose stamp is older than
 * {@link #UNUSED_FOR} are deleted. Everything in them can be rebuilt from the repository, and a
 * repository that nobody on this machine opened for a month most likely moved or is gone:
 * without this its copies (57 bytes per blob for the index copy, more for remote metadata) stay
 * forever. Only folders named like repository ids are touched. A folder without a stamp (made
 * before stamps existed) counts from its newest file.
 */
final class CacheDirs {
    static final String STAMP = "last-used";
    static final Duration UNUSED_FOR = Duration.ofDays(30);

    private CacheDirs() {}

    /**
     * Stamps {@code root/id} as used now and deletes the folders of other repositories unused
     * for {@link #UNUSED_FOR}. Never fails the command: a cache that cannot be tidied is left.
     *
     * @return how many folders were deleted
     */
    static int use(Path root, String id, Instant now) {
        try {
            Path dir = Files.createDirectories(root.resolve(id));
            Path stamp = dir.resolve(STAMP);
            if (!Files.exists(stamp)) {
                Files.createFile(stamp);
            }
            Files.setLastModifiedTime(stamp, FileTime.from(now));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        int dropped = 0;
        Instant before = now.minus(UNUSED_FOR);
        try (var dirs = Files.newDirectoryStream(root, p -> p.getFileName().toString().matches("[0-9a-f]{8,128}"))) {
            for (Path other : dirs) {
                if (!other.getFileName().toString().equals(id) && Files.isDirectory(other)
                        && lastUsed(other).isBefore(before) && delete(other)) {
                    dropped++;
                }
            }
        } catch (IOException | RuntimeException e) {
            // leave the cache as it is
        }
        return dropped;
    }

    /** The stamp's time, or for a folder without one the newest modification inside it. */
    static Instant lastUsed(Path dir) throws IOException {
        Path stamp = dir.resolve(STAMP);
        try {
            return Files.getLastModifiedTime(stamp).toInstant();
        } catch (NoSuchFileException e) {
            Instant[] newest = {Files.getLastModifiedTime(dir).toInstant()};
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    Instant t = attrs.lastModifiedTime().toInstant();
                    if (t.isAfter(newest[0])) {
                        newest[0] = t;
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
            return newest[0];
        }
    }

    private static boolean delete(Path dir) {
        try {
            FileTrees.deleteTree(dir);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
