package io.haven.repository.restorer;

import io.haven.repository.backend.Backend;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Passes everything to a real backend and records the ranged reads (pack reads), for tests of what a restore reads. */
final class RecordingBackend extends io.haven.repository.backend.ForwardingBackend {
    record Read(String name, long offset, int length) {
        boolean covers(String pack, long at) {
            return name.equals(pack) && at >= offset && at < offset + length;
        }
    }

    final List<Read> reads = Collections.synchronizedList(new ArrayList<>());

    RecordingBackend(Backend inner) {
        super(inner);
    }

    /** The ranged reads of objects under {@code directory} so far. */
    List<Read> readsUnder(String directory) {
        synchronized (reads) {
            return reads.stream().filter(r -> r.name().startsWith(directory + "/")).toList();
        }
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        reads.add(new Read(name, offset, length));
        return inner.read(name, offset, length);
    }
}
