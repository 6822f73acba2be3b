package io.haven.repository.maintenance;

import io.haven.repository.Repository;
import io.haven.repository.archiver.Archiver;
import io.haven.repository.archiver.BackupOptions;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.LocalBackend;
import io.haven.repository.check.Checker;
import io.haven.repository.restorer.RestoreOptions;
import io.haven.repository.restorer.Restorer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/** A repository on local disk and helpers to back up, restore and compare trees in tests. */
public final class RepoFixture {
    public static final char[] PASSWORD = "pw".toCharArray();
    public final Path repoDir;

    public RepoFixture(Path repoDir) {
        this.repoDir = repoDir;
        Repository.init(new LocalBackend(repoDir), PASSWORD, 8192, new Repository.Actor("h", "u"), InstantSource.system(),
                new SecureRandom()).close();
    }

    public Repository open() {
        return open(new LocalBackend(repoDir));
    }

    public static Repository open(Backend backend) {
        Repository r = Repository.open(backend, PASSWORD, InstantSource.system(), new SecureRandom());
        r.staleAfter(Duration.ofSeconds(2));
        return r;
    }

    public static Archiver.Result backup(Repository repo, Path dir, Instant time, String... tags) {
        BackupOptions o = new BackupOptions(List.of(dir), "h", "u", 0, 0, List.of(tags), List.of(), false, time, 2, false, "test");
        return new Archiver(repo, o).run(null);
    }

    public static Archiver.Result backup(Path repoDir, Path dir, Instant time) {
        try (Repository repo = open(new LocalBackend(repoDir))) {
            return backup(repo, dir, time);
        }
    }

    public static void write(Path file, int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Relative path → content of every regular file below {@code dir}. */
    public static Map<String, String> contents(Path dir) {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Restores a snapshot into a fresh directory under {@code scratch} and returns the backed-up dir's contents. */
    public static Map<String, String> restore(Repository repo, Repository.SnapshotEntry s, Path scratch, Path original) {
        try {
            Path target = Files.createTempDirectory(scratch, "restore");
            new Restorer(repo, new RestoreOptions(target, null, List.of(), List.of(), false, false, 2)).run(s);
            return contents(target.resolve(original.toString().substring(1)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Checker.Result check(Repository repo) {
        repo.reloadIndex();
        return new Checker(repo, true, 2).run();
    }

    public static long storedBytes(Path repoDir) {
        try (Stream<Path> s = Files.walk(repoDir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
