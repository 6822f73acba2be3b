package io.haven.repository.maintenance;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/** Reads of many packs (their headers, or whole) on a few threads, for repair and for check's unindexed packs. */
final class ParallelReads {
    private ParallelReads() {}

    /**
     * {@code read} applied to every name on {@code threads} threads; the results in the order of
     * {@code names}. The first failure is thrown as it is (a HavenException) or as IO.
     */
    static <T> List<T> each(List<String> names, int threads, String threadName, Function<String, T> read) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads),
                Thread.ofPlatform().daemon().name(threadName, 0).factory());
        try {
            List<Future<T>> fs = new ArrayList<>(names.size());
            for (String name : names) {
                fs.add(pool.submit(() -> read.apply(name)));
            }
            List<T> out = new ArrayList<>(names.size());
            for (Future<T> f : fs) {
                out.add(f.get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HavenException(ErrorCode.IO, "interrupted while reading pack headers");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof HavenException he) {
                throw he;
            }
            throw new HavenException(ErrorCode.IO, "reading pack headers failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }
}
