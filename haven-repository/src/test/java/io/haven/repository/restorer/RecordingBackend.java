package io.haven.repository.restorer;

import io.haven.repository.backend.Backend;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/** Passes everything to a real backend and records the ranged reads (pack reads), for tests of what a restore reads. */
final class RecordingBackend implements Backend {
    record Read(String name, long offset, int length) {
        boolean covers(String pack, long at) {
            return name.equals(pack) && at >= offset && at < offset + length;
        }
    }

    private final Backend inner;
    final List<Read> reads = Collections.synchronizedList(new ArrayList<>());

    RecordingBackend(Backend inner) {
        this.inner = inner;
    }

    /** The ranged reads of objects under {@code directory} so far. */
    List<Read> readsUnder(String directory) {
        synchronized (reads) {
            return reads.stream().filter(r -> r.name().startsWith(directory + "/")).toList();
        }
    }

    @Override
    public boolean local() {
        return inner.local();
    }

    @Override
    public String location() {
        return inner.location();
    }

    @Override
    public List<String> list(String directory) {
        return inner.list(directory);
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        return inner.stat(name);
    }

    @Override
    public byte[] read(String name) {
        return inner.read(name);
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        reads.add(new Read(name, offset, length));
        return inner.read(name, offset, length);
    }

    @Override
    public void write(String name, byte[] data, int length) {
        inner.write(name, data, length);
    }

    @Override
    public void delete(String name) {
        inner.delete(name);
    }

    @Override
    public void close() {
        inner.close();
    }
}
