package io.haven.cli;

import io.haven.core.DataSize;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.Repository;
import io.haven.repository.backend.Backend;
import io.haven.repository.cache.CacheBackend;
import io.haven.repository.cache.CacheConfig;
import io.haven.repository.cache.CacheSync;
import io.haven.repository.cache.RateLimiter;
import io.haven.repository.cache.SiteCache;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "cache", mixinStandardHelpOptions = true,
        description = {"A site cache: a repository in front of the main one, where backups land at LAN speed.",
            "'cache sync' uploads them; restores read the cache first, and the main repository for what it evicted."},
        subcommands = {CacheCommand.Init.class, CacheCommand.Sync.class, CacheCommand.Status.class})
final class CacheCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "choose a subcommand: init, sync or status");
    }

    static CacheBackend cacheOf(Repository repo) {
        if (repo.backend() instanceof CacheBackend c) {
            return c;
        }
        throw new HavenException(ErrorCode.USAGE, repo.backend().location()
                + " is not a site cache (make one with 'haven cache init --for MAIN_REPO PATH', then use --repo PATH)");
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Make PATH a cache of the main repository (--repo or HAVEN_REPO is not used).")
    static final class Init extends RepoCommand {
        @Option(names = "--for", required = true, paramLabel = "MAIN_REPO", description = "The main repository's location.")
        String mainLocation;

        @Option(names = "--max-size", paramLabel = "SIZE",
                description = "Evict data already in the main repository above this size (e.g. 200GiB; default: no limit).")
        String maxSize;

        @Parameters(index = "0", paramLabel = "PATH", description = "An empty or new directory on the site's disk.")
        String path;

        @Override
        public Integer call() {
            long limit = maxSize == null ? 0 : DataSize.parse(maxSize).bytes();
            if (maxSize != null && limit <= 0) {
                throw new HavenException(ErrorCode.USAGE, "--max-size must be more than 0 (leave it out for no limit)");
            }
            Path dir = env().resolve(path);
            // stored absolute: sync runs from cron, from any working directory
            if (!mainLocation.matches("^[a-z][a-z0-9+]*:.*") || mainLocation.startsWith("local:")) {
                mainLocation = "local:" + env().resolve(mainLocation.startsWith("local:") ? mainLocation.substring(6) : mainLocation);
            }
            // the password must open the main repository: the cache shares its keys
            Repository.open(backendFor(mainLocation), password(false), java.time.InstantSource.system(),
                    new java.security.SecureRandom()).close();
            try (Backend main = withCache(backendFor(mainLocation))) {
                CacheConfig c = SiteCache.init(main, mainLocation, dir, limit, Instant.now());
                if (json()) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("cache", dir.toString());
                    out.put("main", c.main());
                    out.put("max_size", c.maxSize());
                    println(Output.toJson(out));
                } else {
                    println("created a cache of " + mainLocation + " at " + dir
                            + (limit > 0 ? " (size limit " + DataSize.format(limit) + ")" : ""));
                    println("back up with --repo " + dir + ", then run 'haven cache sync --repo " + dir + "'");
                }
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "sync", mixinStandardHelpOptions = true,
            description = {"Upload the cache's snapshots the main repository lacks, data first, then index, then the snapshot.",
                "Safe to interrupt: the next sync continues."})
    static final class Sync extends RepoCommand {
        @Option(names = "--bwlimit", paramLabel = "RATE", description = "Upload at most this many bytes per second (e.g. 20MiB/s, 500k).")
        String bwlimit;

        @Override
        public Integer call() {
            RateLimiter limiter = null;
            if (bwlimit != null) {
                String r = bwlimit.endsWith("/s") ? bwlimit.substring(0, bwlimit.length() - 2) : bwlimit;
                long rate = DataSize.parse(r).bytes();
                if (rate < 1024) {
                    throw new HavenException(ErrorCode.USAGE, "--bwlimit must be at least 1KiB/s");
                }
                limiter = new RateLimiter(rate);
            }
            try (Repository repo = openRepository()) {
                CacheBackend cache = cacheOf(repo);
                boolean show = showProgress();
                CacheSync.Result r = new CacheSync(repo, cache.main(), limiter, SystemFacts.hostname(), m -> {
                    if (show) {
                        env().err().println("haven: " + m);
                    }
                }).run();
                if (json()) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("snapshots_synced", r.snapshotsSynced());
                    out.put("snapshots_already_there", r.snapshotsAlreadyThere());
                    out.put("packs_uploaded", r.packsUploaded());
                    out.put("bytes_uploaded", r.bytesUploaded());
                    out.put("index_files", r.indexFiles());
                    out.put("bytes_evicted", r.bytesEvicted());
                    out.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
                    out.put("bytes_per_second", Math.round(r.bytesPerSecond()));
                    println(Output.toJson(out));
                } else {
                    println(String.format("synced %d snapshot(s) (%d already there): %d pack(s), %s in %s (%s/s)%s",
                            r.snapshotsSynced(), r.snapshotsAlreadyThere(), r.packsUploaded(), DataSize.format(r.bytesUploaded()),
                            Output.duration(r.seconds()), DataSize.format((long) r.bytesPerSecond()),
                            r.bytesEvicted() > 0 ? "; evicted " + DataSize.format(r.bytesEvicted()) : ""));
                }
            }
            return Main.EXIT_OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show the cache's main repository, size and what is not uploaded yet.")
    static final class Status extends RepoCommand {
        @Override
        public Integer call() {
            try (Repository repo = openRepository()) {
                CacheBackend cache = cacheOf(repo);
                CacheConfig c = CacheConfig.read(cache.directory());
                int pending = 0;
                int total = 0;
                for (Repository.SnapshotEntry s : repo.snapshots()) {
                    total++;
                    if (!cache.state().snapshotSynced(s.id().hex())) {
                        pending++;
                    }
                }
                long used = cache.usedBytes();
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("cache", cache.directory().toString());
                out.put("main", c.main());
                out.put("max_size", c.maxSize());
                out.put("used_bytes", used);
                out.put("snapshots", total);
                out.put("snapshots_not_synced", pending);
                out.put("packs_safe_in_main", cache.state().packCount());
                if (json()) {
                    println(Output.toJson(out));
                } else {
                    println("cache:        " + cache.directory());
                    println("main:         " + c.main());
                    println("size:         " + DataSize.format(used) + (c.maxSize() > 0 ? " of " + DataSize.format(c.maxSize()) : " (no limit)"));
                    println("snapshots:    " + total + ", " + pending + " not yet in the main repository");
                }
            }
            return Main.EXIT_OK;
        }
    }
}
