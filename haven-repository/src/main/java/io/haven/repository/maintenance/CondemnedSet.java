package io.haven.repository.maintenance;

import java.util.List;

/**
 * Packs a prune has decided to delete, stored as {@code condemned/<id>} (docs/repository-format.md
 * §9). Deletion waits until every live writer has declared that it knows this set, so no
 * backup can come to rely on these packs; until then the packs stay readable.
 *
 * @param packs object names of indexed packs whose blobs no snapshot needed (after repacking the
 *     ones still needed)
 * @param orphans object names of packs no index file named when the set was made (left by killed
 *     backups); deleted only if still unindexed at deletion time
 */
public record CondemnedSet(int version, String created, String host, List<String> packs, List<String> orphans) {
    public CondemnedSet {
        packs = packs == null ? List.of() : List.copyOf(packs);
        orphans = orphans == null ? List.of() : List.copyOf(orphans);
    }
}
