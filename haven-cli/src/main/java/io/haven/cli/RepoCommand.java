package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.backend.Backend;
import io.haven.repository.backend.CachingBackend;
import io.haven.repository.backend.LocalBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Shared plumbing of commands that work on a repository: location, password, output. */
abstract class RepoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    Main main() {
        return (Main) spec.root().userObject();
    }

    Env env() {
        return main().env;
    }

    boolean json() {
        return main().json;
    }

    void println(String s) {
        env().out().println(s);
    }

    /** Shows progress only on a terminal, never with --json or --quiet. */
    boolean showProgress() {
        return env().terminal() && !json() && !main().quiet;
    }

    String location() {
        String loc = main().repo != null ? main().repo : env().get("HAVEN_REPO");
        if (loc == null) {
            throw new HavenException(ErrorCode.USAGE, "no repository given: use --repo LOCATION or set HAVEN_REPO");
        }
        if (loc.isEmpty()) {
            // (an empty HAVEN_REPO counts as unset: Env.get)
            throw new HavenException(ErrorCode.USAGE, "the repository location is empty (--repo ''); give a directory or an s3: location");
        }
        return loc;
    }

    Backend backend() {
        Backend b = backendFor(location());
        if (b instanceof LocalBackend l && io.haven.repository.cache.CacheConfig.isCache(l.root())) {
            // a site cache: reads it lacks go to its main repository (opened only when needed)
            Path dir = l.root();
            String mainLoc = io.haven.repository.cache.CacheConfig.read(dir).main();
            return io.haven.repository.cache.SiteCache.open(dir, () -> withCache(backendFor(mainLoc)));
        }
        return b;
    }

    /** {@link #openRepository()}, refusing a site cache (for commands that change what the main repository must match). */
    Repository openRepositoryNotCache(String what) {
        Repository repo = openRepository();
        try {
            refuseOnCache(repo.backend(), what);
        } catch (RuntimeException e) {
            repo.close();
            throw e;
        }
        return repo;
    }

    /** Refuses to run on a site cache, whose objects must stay as its main repository has them. */
    void refuseOnCache(Backend b, String what) {
        if (b instanceof io.haven.repository.cache.CacheBackend c) {
            throw new HavenException(ErrorCode.USAGE, c.location() + " is a site cache of "
                    + io.haven.repository.cache.CacheConfig.read(c.directory()).main() + "; " + what
                    + " runs on the main repository (the cache's space is managed by 'haven cache sync' and its size limit)");
        }
    }

    Backend backendFor(String loc) {
        if (loc.startsWith("s3:")) {
            return S3Repositories.open(loc, env());
        }
        if (loc.matches("^[a-z][a-z0-9+]*:.*") && !loc.startsWith("local:")) {
            throw new HavenException(ErrorCode.USAGE, "repository location '" + loc
                    + "' names a backend this version does not have; use a directory path, local:PATH or s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]");
        }
        if (loc.startsWith("local:")) {
            loc = loc.substring("local:".length());
        }
        return new LocalBackend(env().resolve(loc));
    }

    /** The password: $HAVEN_PASSWORD, --password-file / $HAVEN_PASSWORD_FILE, or a prompt on a terminal. */
    char[] password(boolean confirm) {
        String file = main().passwordFile != null ? main().passwordFile : env().get("HAVEN_PASSWORD_FILE");
        if (file != null) {
            return readPasswordFile(file);
        }
        String pw = env().vars().get("HAVEN_PASSWORD");
        if (pw != null) {
            if (pw.isEmpty()) {
                throw new HavenException(ErrorCode.USAGE, "HAVEN_PASSWORD is set but empty");
            }
            return pw.toCharArray();
        }
        return prompt("repository password", confirm);
    }

    char[] readPasswordFile(String file) {
        Path p = env().resolve(file);
        try {
            String s = Files.readString(p, StandardCharsets.UTF_8);
            int nl = s.indexOf('\n');
            s = nl >= 0 ? s.substring(0, nl) : s;
            s = s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            if (s.isEmpty()) {
                throw new HavenException(ErrorCode.USAGE, "password file " + p + " is empty");
            }
            return s.toCharArray();
        } catch (IOException e) {
            throw new HavenException(ErrorCode.USAGE, "cannot read password file " + p + ": " + io.haven.core.IoReasons.of(e), e);
        }
    }

    char[] prompt(String what, boolean confirm) {
        return prompt(what, confirm, "set HAVEN_PASSWORD or HAVEN_PASSWORD_FILE, or use --password-file");
    }

    /** {@code whereElse}: how to give it without a terminal, for the error when there is none. */
    char[] prompt(String what, boolean confirm, String whereElse) {
        var console = System.console();
        if (console == null || !env().terminal()) {
            throw new HavenException(ErrorCode.USAGE, "no " + what + ": " + whereElse + " (no terminal to ask on)");
        }
        char[] pw = console.readPassword("Enter %s: ", what);
        if (pw == null || pw.length == 0) {
            throw new HavenException(ErrorCode.USAGE, "empty " + what);
        }
        if (confirm) {
            char[] again = console.readPassword("Enter %s again: ", what);
            if (again == null || !java.util.Arrays.equals(pw, again)) {
                throw new HavenException(ErrorCode.USAGE, "the two passwords differ");
            }
        }
        return pw;
    }

    Repository openRepository() {
        Backend b = backend();
        char[] pw;
        try {
            // fail on a missing repository before asking for a password
            if (b.stat("config").isEmpty()) {
                throw Repository.notFound(b);
            }
            pw = password(false);
            b = withCache(b);
            Repository repo = Repository.open(b, pw, InstantSource.system(), new SecureRandom());
            String stale = env().get("HAVEN_STALE_AFTER");
            if (stale != null) {
                try {
                    repo.staleAfter(java.time.Duration.ofSeconds(Long.parseLong(stale.trim())));
                } catch (NumberFormatException e) {
                    throw new HavenException(ErrorCode.USAGE, "HAVEN_STALE_AFTER must be a number of seconds, not '" + stale + "'");
                }
            }
            return Tiers.withColdTier(repo, env());
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    /**
     * A remote repository's metadata (index, snapshots, keys, tree packs) is kept in a local cache:
     * {@code $HAVEN_CACHE_DIR/repos/ID}, else {@code $XDG_CACHE_HOME/haven/repos/ID}, else
     * {@code ~/.cache/haven/repos/ID}. A local repository needs none; {@code --no-cache} or
     * {@code HAVEN_NO_CACHE=1} turn it off. Folders of repositories unused for 30 days are
     * deleted ({@link CacheDirs}).
     */
    Backend withCache(Backend b) {
        if (b.local() || cacheOff()) {
            return b;
        }
        Path root = cacheRoot();
        if (root == null) {
            return b;
        }
        String id = io.haven.repository.Json.read(b.read("config"), io.haven.repository.Config.class, "repository config").id();
        CachingBackend cached = CachingBackend.forRepository(b, root, id);
        useCacheDir(root, id);
        return cached;
    }

    /**
     * {@link #openRepository()}, keeping a local copy of the loaded index in
     * {@code <cache root>/<repository id>/index-copy} (see {@code IndexCache}), for commands that
     * read the index to find data (backup, restore, ls, diff). Not for check or prune: they read
     * the repository's own index files. {@code --no-cache} and {@code HAVEN_NO_CACHE=1} turn it
     * off.
     */
    Repository openRepositoryWithIndexCache() {
        Repository repo = openRepository();
        if (!cacheOff()) {
            Path root = cacheRoot();
            String id = repo.config().id();
            if (root != null && id.matches("[0-9a-f]{8,128}")) {
                repo.indexCache(root.resolve(id).resolve("index-copy"));
                useCacheDir(root, id);
            }
        }
        return repo;
    }

    private boolean cacheDirUsed;

    /** Stamps the repository's cache folder and tidies the others ({@link CacheDirs}), once per command. */
    private void useCacheDir(Path root, String id) {
        if (!cacheDirUsed) {
            cacheDirUsed = true;
            CacheDirs.use(root, id, java.time.Instant.now());
        }
    }

    /** {@code --no-cache} or {@code HAVEN_NO_CACHE=1}: no local copies of repository metadata. */
    private boolean cacheOff() {
        return main().noCache || "1".equals(env().get("HAVEN_NO_CACHE"));
    }

    Path cacheRoot() {
        String base = env().get("HAVEN_CACHE_DIR");
        if (base == null) {
            String xdg = env().get("XDG_CACHE_HOME");
            String home = env().get("HOME");
            if (xdg != null && !xdg.isBlank()) {
                base = xdg + "/haven";
            } else if (home != null && !home.isBlank()) {
                base = home + "/.cache/haven";
            } else {
                return null;
            }
        }
        return env().resolve(base).resolve("repos");
    }

    Repository.Actor actor() {
        return new Repository.Actor(SystemFacts.hostname(), SystemFacts.username());
    }

    /**
     * Worker threads: one per core (at least 2), but no more than the heap holds: each backup
     * worker keeps about 16 MiB of buffers besides the shared pack buffers.
     */
    int threads() {
        long heapMib = Runtime.getRuntime().maxMemory() >> 20;
        int byHeap = (int) Math.max(1, (heapMib - 128) / 24);
        return Math.max(1, Math.min(Math.max(2, Runtime.getRuntime().availableProcessors()), byHeap));
    }
}
