package io.haven.repository.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.BlobId;
import io.haven.repository.BlobType;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The scale target, measured on the real heap: an index of 10 million blobs (in packs of
 * 20) built inside a JVM limited to 1 GiB, with lookups working. Opt-in (about a minute):
 * {@code ./build -- -pl haven-repository -am test -Dtest=IndexScaleTest -Dhaven.scale=true
 * "-Dhaven.test.argLine=--add-opens java.base/sun.nio.fs=ALL-UNNAMED -XX:+UseSerialGC -Xmx1g"
 * -Dsurefire.failIfNoSpecifiedTests=false}. The printed line goes to docs/performance.md.
 */
@EnabledIfSystemProperty(named = "haven.scale", matches = "true")
class IndexScaleTest {
    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static BlobId id(SplittableRandom r) {
        return BlobId.ofWords(r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong());
    }

    @Test
    void tenMillionBlobsFitInOneGibibyte() {
        int blobs = Integer.getInteger("haven.scale.blobs", 10_000_000);
        long before = usedHeap();
        Index index = new Index();
        SplittableRandom r = new SplittableRandom(1);
        for (int p = 0; p < blobs / 20; p++) {
            List<PackRecord.Entry> entries = new ArrayList<>(20);
            for (int k = 0; k < 20; k++) {
                entries.add(new PackRecord.Entry(id(r), k * 1000, 1000, 2000));
            }
            index.add(new PackRecord(id(r), BlobType.DATA, entries));
        }
        long after = usedHeap();
        double measured = (double) (after - before) / index.blobCount();
        double counted = (double) index.memoryBytes() / index.blobCount();
        System.out.printf("index of %,d blobs: %.1f bytes/blob on the heap, %.1f counted; max heap %d MiB%n",
                index.blobCount(), measured, counted, Runtime.getRuntime().maxMemory() >> 20);
        SplittableRandom again = new SplittableRandom(1);
        for (int i = 0; i < 1000; i++) {
            BlobId blob = id(again);
            if (i % 21 != 20) {
                assertThat(index.contains(blob)).isTrue();
            }
        }
        assertThat(measured).isLessThanOrEqualTo(64.0);
    }
}
