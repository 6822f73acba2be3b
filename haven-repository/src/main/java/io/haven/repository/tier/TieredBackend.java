package io.haven.repository.tier;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.backend.Backend;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A repository's warm backend and its cold tier seen as one backend: listings and {@code stat}
 * include cold packs (so check, prune and repair know they exist), and reading a pack that is cold
 * and not thawed fails with {@link ErrorCode#COLD} naming the pack and what to run, instead of
 * "not found". Deleting a pack deletes it in both places.
 */
public final class TieredBackend implements Backend {
    /** The only directory whose objects go cold. */
    public static final String COLD_DIRECTORY = "data";

    private final Backend warm;
    private final ColdTier cold;
    private volatile Set<String> coldNames;

    public TieredBackend(Backend warm, ColdTier cold) {
        this.warm = warm;
        this.cold = cold;
    }

    public Backend warm() {
        return warm;
    }

    public ColdTier cold() {
        return cold;
    }

    /** The names of all packs in the cold tier (listed once, then kept up to date by this process). */
    public Set<String> coldNames() {
        Set<String> c = coldNames;
        if (c == null) {
            c = ConcurrentHashMap.newKeySet();
            c.addAll(cold.list(COLD_DIRECTORY));
            coldNames = c;
        }
        return c;
    }

    /**
     * {@link #coldNames()}, or null when the cold tier cannot be listed now (an archive volume
     * that is not mounted): for callers that can do without, such as a backup.
     */
    public Set<String> coldNamesIfListed() {
        try {
            return coldNames();
        } catch (HavenException e) {
            return null;
        }
    }

    public boolean isCold(String name) {
        return coldNames().contains(name);
    }

    /** Whether a read of {@code name} needs a thaw first: it is cold and has no readable copy. */
    public boolean needsThaw(String name) {
        return isCold(name) && cold.status(name, warm).state() != ColdTier.State.READY;
    }

    /** Moves a pack to the cold tier. */
    public void freeze(String name) {
        cold.freeze(name, warm);
        coldNames().add(name);
    }

    /**
     * Makes a cold pack warm for good once it is readable; false while it is not (ask for a thaw
     * and try again). See {@link ColdTier#unfreeze}.
     */
    public boolean unfreeze(String name) {
        if (!cold.unfreeze(name, warm)) {
            return false;
        }
        coldNames().remove(name);
        return true;
    }

    @Override
    public String location() {
        return warm.location();
    }

    @Override
    public boolean local() {
        return warm.local();
    }

    @Override
    public <T extends Backend> Optional<T> find(Class<T> type) {
        return type.isInstance(this) ? Optional.of(type.cast(this)) : warm.find(type);
    }

    @Override
    public List<String> list(String directory) {
        String d = directory.endsWith("/") ? directory.substring(0, directory.length() - 1) : directory;
        List<String> names = warm.list(directory);
        if (!d.isEmpty() && !d.equals(COLD_DIRECTORY) && !d.startsWith(COLD_DIRECTORY + "/")) {
            return names;
        }
        Set<String> fresh = ConcurrentHashMap.newKeySet();
        fresh.addAll(cold.list(COLD_DIRECTORY));
        coldNames = fresh;
        Set<String> all = new LinkedHashSet<>(names);
        for (String c : fresh) {
            if (d.isEmpty() || c.startsWith(d + "/")) {
                all.add(c);
            }
        }
        return new ArrayList<>(all);
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        Optional<ObjectInfo> w = warm.stat(name);
        if (w.isPresent() || !name.startsWith(COLD_DIRECTORY + "/")) {
            return w;
        }
        return cold.info(name);
    }

    @Override
    public byte[] read(String name) {
        try {
            return warm.read(name);
        } catch (HavenException e) {
            throw coldOr(name, e);
        }
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        try {
            return warm.read(name, offset, length);
        } catch (HavenException e) {
            throw coldOr(name, e);
        }
    }

    /**
     * A read of a cold pack fails as the warm backend says: NOT_FOUND where the cold tier is a
     * separate location, COLD (S3's {@code InvalidObjectState}) where the pack is archived in place.
     * Either way the caller gets a COLD error naming the pack and what to run.
     */
    private HavenException coldOr(String name, HavenException e) {
        boolean cold = e.code() == ErrorCode.COLD;
        if ((cold || e.code() == ErrorCode.NOT_FOUND) && isCold(name)) {
            return new HavenException(ErrorCode.COLD, "pack " + name + " is in the cold tier (" + this.cold.describe()
                    + ") and not thawed; run 'haven thaw SNAPSHOT --wait' for the snapshot that needs it", e);
        }
        return e; // a COLD the listing did not know about keeps the backend's message, which names the object
    }

    @Override
    public void write(String name, byte[] data, int length) {
        warm.write(name, data, length);
    }

    @Override
    public void delete(String name) {
        warm.delete(name);
        if (name.startsWith(COLD_DIRECTORY + "/") && isCold(name)) {
            cold.delete(name);
            coldNames().remove(name);
        }
    }

    @Override
    public void close() {
        try {
            warm.close();
        } finally {
            cold.close();
        }
    }
}
