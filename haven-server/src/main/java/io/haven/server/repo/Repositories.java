package io.haven.server.repo;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.LocalBackend;
import io.haven.server.inventory.Inventory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The repositories the server holds for its agents. Locations are directories on the server's
 * host (an S3 location is a later step: docs/server.md). The server opens a repository to list
 * snapshots and to run maintenance; agents reach it only through the REST backend
 * ({@link RepositoryHandler}), append-only. Backends are opened once and kept. Thread-safe.
 */
public final class Repositories implements AutoCloseable {
    private final Inventory inventory;
    private final InstantSource clock;
    private final SecureRandom random;
    private final int kdfMemoryKib;
    private final Map<String, Backend> backends = new ConcurrentHashMap<>();

    public Repositories(Inventory inventory, InstantSource clock, SecureRandom random, int kdfMemoryKib) {
        this.inventory = inventory;
        this.clock = clock;
        this.random = random;
        this.kdfMemoryKib = kdfMemoryKib;
    }

    /**
     * Registers a repository: creates it when the location is empty or missing, otherwise opens it
     * with the password to prove it is a repository the password opens.
     *
     * @return whether a new repository was created
     */
    public boolean register(String name, String location, String password) {
        if (password == null || password.length() < 8) {
            throw new HavenException(ErrorCode.USAGE, "a repository password needs at least 8 characters");
        }
        Path dir = directory(location);
        boolean create;
        try {
            create = !Files.exists(dir) || (Files.isDirectory(dir) && isEmpty(dir));
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot use " + dir + " for a repository: " + e.getMessage(), e);
        }
        Backend b = new LocalBackend(dir);
        try {
            if (create) {
                Repository.init(b, password.toCharArray(), kdfMemoryKib, new Repository.Actor("haven-server", "haven"), clock, random).close();
            } else {
                Repository.open(b, password.toCharArray(), clock, random).close();
            }
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        inventory.createRepository(name, dir.toString(), password);
        backends.put(name, b);
        return create;
    }

    private static boolean isEmpty(Path dir) throws java.io.IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static Path directory(String location) {
        if (location == null || location.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "'location' is required: a directory on the server's host");
        }
        String l = location.startsWith("local:") ? location.substring(6) : location;
        if (l.startsWith("s3:")) {
            throw new HavenException(ErrorCode.USAGE, "the server holds repositories in directories for now; "
                    + "S3 locations are not served to agents yet");
        }
        Path p = Path.of(l);
        if (!p.isAbsolute()) {
            throw new HavenException(ErrorCode.USAGE, "a repository location on the server is an absolute directory, not '" + location + "'");
        }
        return p.normalize();
    }

    /** The backend of a registered repository; NOT_FOUND when there is none of that name. */
    public Backend backend(String name) {
        return backends.computeIfAbsent(name, n -> new LocalBackend(Path.of(inventory.repository(n).location())));
    }

    /** Opens a registered repository (the caller closes it; the backend stays open). */
    public Repository open(String name) {
        Inventory.Repo r = inventory.repository(name);
        Backend b = backend(name);
        return Repository.open(new Unclosable(b), r.password().toCharArray(), clock, random);
    }

    /** The snapshots of a repository, newest last, optionally only those with {@code tag}. */
    public List<Repository.SnapshotEntry> snapshots(String name, String tag) {
        try (Repository repo = open(name)) {
            return repo.snapshots().stream().filter(e -> tag == null || e.snapshot().tags().contains(tag)).toList();
        }
    }

    @Override
    public void close() {
        backends.values().forEach(Backend::close);
        backends.clear();
    }

    /** A backend whose close does nothing: the registry owns it. */
    private static final class Unclosable extends io.haven.repository.backend.ForwardingBackend {
        Unclosable(Backend inner) {
            super(inner);
        }

        @Override
        public void close() {}
    }
}
