package io.haven.repository.maintenance;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import io.haven.repository.Repository;
import io.haven.repository.index.Index;
import io.haven.repository.index.PackRecord;
import io.haven.repository.pack.PackHeader;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Packs that no index file names, and whether they hold blobs that snapshots miss.
 *
 * <p>An unindexed pack is usually left by an interrupted backup and is garbage. But when index
 * files were lost, the unindexed packs hold the data the snapshots miss, and {@code repair index}
 * brings it back. So before anything treats missing data as lost ({@code repair snapshots}) or
 * deletes unindexed packs ({@code prune}), the headers of the unindexed packs are read (two
 * ranged reads each) to see whether they hold a missing blob.
 */
public final class UnindexedPacks {
    private UnindexedPacks() {}

    /**
     * What the headers of unindexed packs say. {@code holding}: packs whose header lists a blob
     * that snapshots miss ({@code blobsFound} of them); {@code unreadable}: packs whose header
     * cannot be read (damaged, or cold), with the reason: {@code repair index} cannot index them
     * either; {@code unrelated}: packs that hold none of the missing blobs.
     */
    public record Scan(List<String> holding, int blobsFound, List<String> unreadable, List<String> unrelated) {}

    /** The packs under {@code data/} and {@code tree/} that {@code index} does not name, sorted. */
    public static List<String> list(Repository repo, Index index) {
        Set<String> indexed = new HashSet<>();
        for (int p = 0; p < index.packCount(); p++) {
            indexed.add(index.packName(p));
        }
        List<String> out = new ArrayList<>();
        for (String dir : List.of("data", "tree")) {
            for (String name : repo.backend().list(dir)) {
                if (!indexed.contains(name) && Repository.isPackName(name)) {
                    out.add(name);
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** Reads the header of each of {@code packs} and tells which hold a blob in {@code missing}. */
    public static Scan scan(Repository repo, Collection<String> packs, Set<BlobId> missing, int threads) {
        List<String> holding = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        List<String> unrelated = new ArrayList<>();
        int found = 0;
        List<String> names = new ArrayList<>(packs);
        var tiered = repo.backend() instanceof io.haven.repository.tier.TieredBackend t ? t : null;
        List<Object> results = ParallelReads.each(names, threads, "haven-unindexed-", name -> {
            if (tiered != null && tiered.needsThaw(name)) {
                return "in the cold tier: its header cannot be read without a thaw";
            }
            try {
                var info = repo.backend().stat(name);
                if (info.isEmpty()) {
                    return null; // deleted meanwhile
                }
                BlobId id = BlobId.parse(name.substring(name.lastIndexOf('/') + 1));
                return PackHeader.readTail(repo.key(), id, repo.backend(), name, info.get().size());
            } catch (HavenException e) {
                if (e.code() == ErrorCode.NOT_FOUND) {
                    return null;
                }
                if (e.code() != ErrorCode.CORRUPT) {
                    throw e;
                }
                return e.getMessage();
            }
        });
        for (int i = 0; i < results.size(); i++) {
            Object r = results.get(i);
            String name = names.get(i);
            if (r instanceof String reason) {
                unreadable.add(name + ": " + reason);
            } else if (r instanceof PackRecord rec) {
                int n = 0;
                for (PackRecord.Entry e : rec.blobs()) {
                    if (missing.contains(e.id())) {
                        n++;
                    }
                }
                if (n > 0) {
                    holding.add(name);
                    found += n;
                } else {
                    unrelated.add(name);
                }
            }
        }
        return new Scan(List.copyOf(holding), found, List.copyOf(unreadable), List.copyOf(unrelated));
    }
}
