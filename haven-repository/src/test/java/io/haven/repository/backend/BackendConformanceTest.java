package io.haven.repository.backend;

import static io.haven.repository.backend.FaultyBackend.Op.DELETE;
import static io.haven.repository.backend.FaultyBackend.Op.LIST;
import static io.haven.repository.backend.FaultyBackend.Op.READ;
import static io.haven.repository.backend.FaultyBackend.Op.READ_RANGE;
import static io.haven.repository.backend.FaultyBackend.Op.STAT;
import static io.haven.repository.backend.FaultyBackend.Op.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link Backend}, run against every implementation: a subclass supplies a fresh,
 * empty backend per test. Order of {@code list} results is unspecified, so lists are compared as
 * sets. A ranged read past the end of an object fails with CORRUPT (the caller asked for bytes an
 * index promised); a read of a missing object fails with NOT_FOUND naming it.
 */
public abstract class BackendConformanceTest {
    /** A fresh, empty backend; closed by the suite after each test. */
    protected abstract Backend newBackend();

    /** How far the backend's clock may be from this host's in {@link Backend#stat} times. */
    protected Duration clockTolerance() {
        return Duration.ofSeconds(5);
    }

    protected Backend backend;

    @BeforeEach
    void openBackend() {
        backend = newBackend();
    }

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    /** A realistic pack name: {@code data/xx/<64 hex>}. */
    protected static String packName(String dir, long seed) {
        byte[] id = bytes(32, seed);
        String hex = HexFormat.of().formatHex(id);
        return dir + "/" + hex.substring(0, 2) + "/" + hex;
    }

    protected static byte[] bytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void assertCode(ErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    // listing

    @Test
    void listReturnsEveryObjectBelowADirectoryRecursivelyWithNamesRelativeToTheRepository() {
        String a = packName("data", 1);
        String b = packName("data", 2);
        String t = packName("tree", 3);
        for (String n : List.of(a, b, t, "index/" + "1".repeat(64), "config")) {
            backend.write(n, bytes(10, n.hashCode()));
        }
        assertThat(backend.list("data")).containsExactlyInAnyOrder(a, b);
        assertThat(backend.list("tree")).containsExactly(t);
        assertThat(backend.list("index")).containsExactly("index/" + "1".repeat(64));
        assertThat(backend.list("data/" + a.substring(5, 7))).contains(a);
    }

    @Test
    void listOfTheRootReturnsEveryObject() {
        String a = packName("data", 1);
        backend.write(a, bytes(5, 1));
        backend.write("config", bytes(5, 2));
        assertThat(backend.list("")).containsExactlyInAnyOrder(a, "config");
    }

    @Test
    void listOfAMissingOrEmptiedDirectoryIsEmpty() {
        assertThat(backend.list("snapshots")).isEmpty();
        String s = "snapshots/" + "2".repeat(64);
        backend.write(s, bytes(5, 1));
        backend.delete(s);
        assertThat(backend.list("snapshots")).isEmpty();
    }

    @Test
    void listDoesNotConfuseADirectoryWithANameThatStartsLikeIt() {
        backend.write("keys/k1", bytes(5, 1));
        backend.write("keys2/k2", bytes(5, 2));
        backend.write("keysake", bytes(5, 3));
        assertThat(backend.list("keys")).containsExactly("keys/k1");
    }

    // reads

    @Test
    void wholeReadReturnsExactlyTheStoredBytesIncludingAnEmptyObject() {
        byte[] data = bytes(300_000, 7);
        backend.write("data/00/big", data);
        backend.write("keys/empty", new byte[0]);
        assertThat(backend.read("data/00/big")).isEqualTo(data);
        assertThat(backend.read("keys/empty")).isEmpty();
    }

    @Test
    void rangedReadsReturnTheBytesAtTheStartTheMiddleAndTheEnd() {
        byte[] data = bytes(100_000, 8);
        String n = packName("data", 8);
        backend.write(n, data);
        assertThat(backend.read(n, 0, 100)).isEqualTo(Arrays.copyOfRange(data, 0, 100));
        assertThat(backend.read(n, 40_000, 12_345)).isEqualTo(Arrays.copyOfRange(data, 40_000, 52_345));
        assertThat(backend.read(n, 99_999, 1)).isEqualTo(new byte[] {data[99_999]});
        assertThat(backend.read(n, 0, data.length)).isEqualTo(data);
    }

    @Test
    void rangedReadPastTheEndOfAnObjectFailsAsCorrupt() {
        String n = packName("data", 9);
        backend.write(n, bytes(1000, 9));
        assertCode(ErrorCode.CORRUPT, () -> backend.read(n, 900, 101));
        assertCode(ErrorCode.CORRUPT, () -> backend.read(n, 1000, 1));
        assertCode(ErrorCode.CORRUPT, () -> backend.read(n, 5000, 10));
    }

    @Test
    void readingAMissingObjectFailsAsNotFoundNamingTheObject() {
        String n = packName("data", 10);
        for (ThrowingCallable call : List.<ThrowingCallable>of(() -> backend.read(n), () -> backend.read(n, 0, 10))) {
            assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                assertThat(e.getMessage()).contains(n);
            });
        }
    }

    // stat

    @Test
    void statGivesTheSizeAndTheBackendsModificationTimeAndNothingForAMissingObject() {
        Instant before = Instant.now();
        backend.write("config", bytes(1234, 11));
        Instant after = Instant.now();
        Optional<Backend.ObjectInfo> info = backend.stat("config");
        assertThat(info).isPresent();
        assertThat(info.get().size()).isEqualTo(1234);
        assertThat(info.get().modified()).isBetween(before.minus(clockTolerance()), after.plus(clockTolerance()));
        assertThat(backend.stat("snapshots/" + "3".repeat(64))).isEmpty();
        assertThat(backend.stat("nowhere/at/all")).isEmpty();
    }

    // writes and deletes

    @Test
    void writeStoresOnlyTheFirstLengthBytesOfTheBuffer() {
        byte[] buffer = bytes(10_000, 12);
        backend.write("data/01/part", buffer, 4321);
        assertThat(backend.read("data/01/part")).isEqualTo(Arrays.copyOf(buffer, 4321));
        assertThat(backend.stat("data/01/part")).get().extracting(Backend.ObjectInfo::size).isEqualTo(4321L);
    }

    @Test
    void writingAnObjectAgainWithTheSameContentSucceeds() {
        byte[] data = bytes(5000, 13);
        String n = packName("data", 13);
        backend.write(n, data);
        backend.write(n, data);
        assertThat(backend.read(n)).isEqualTo(data);
        assertThat(backend.list("data")).containsExactly(n);
    }

    @Test
    void deleteRemovesAnObjectAndAcceptsAnAbsentOne() {
        String n = packName("data", 14);
        backend.write(n, bytes(10, 14));
        backend.delete(n);
        assertThat(backend.stat(n)).isEmpty();
        assertCode(ErrorCode.NOT_FOUND, () -> backend.read(n));
        backend.delete(n);
        backend.delete("data/ff/never-written");
    }

    // concurrency

    @Test
    void readersPollingDuringLargeWritesSeeEachObjectWhollyOrNotAtAll() throws Exception {
        int size = 4 << 20;
        List<String> names = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            names.add(packName("data", 100 + i));
            contents.add(bytes(size, 100 + i));
        }
        Set<String> allowed = Set.copyOf(names);
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger sawWhole = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                readers.add(pool.submit(() -> {
                    boolean last = false;
                    while (!last) {
                        last = done.get();
                        assertThat(backend.list("data")).allSatisfy(n -> assertThat(allowed).contains(n));
                        for (int i = 0; i < names.size(); i++) {
                            Optional<Backend.ObjectInfo> info = backend.stat(names.get(i));
                            if (info.isPresent()) {
                                assertThat(info.get().size()).isEqualTo(size);
                                byte[] got = backend.read(names.get(i), size - 16, 16);
                                assertThat(got).isEqualTo(Arrays.copyOfRange(contents.get(i), size - 16, size));
                                sawWhole.incrementAndGet();
                            } else {
                                try {
                                    byte[] got = backend.read(names.get(i));
                                    assertThat(Arrays.equals(got, contents.get(i))).as("a whole read of " + names.get(i)).isTrue();
                                } catch (HavenException e) {
                                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            for (int i = 0; i < names.size(); i++) {
                backend.write(names.get(i), contents.get(i));
            }
            done.set(true);
            for (Future<?> f : readers) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(sawWhole.get()).isPositive();
        for (int i = 0; i < names.size(); i++) {
            assertThat(backend.read(names.get(i))).isEqualTo(contents.get(i));
        }
    }

    @Test
    void manyThreadsWritingDifferentObjectsAllSucceed() throws Exception {
        int threads = 8;
        int perThread = 6;
        Set<String> written = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        long seed = 1000L * thread + i;
                        String n = packName("data", seed);
                        backend.write(n, bytes(20_000 + i, seed));
                        written.add(n);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(backend.list("data")).containsExactlyInAnyOrderElementsOf(written);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                long seed = 1000L * t + i;
                assertThat(backend.read(packName("data", seed))).isEqualTo(bytes(20_000 + i, seed));
            }
        }
    }

    @Test
    void severalThreadsWritingTheSameNameWithTheSameContentLeaveThatContent() throws Exception {
        byte[] data = bytes(1 << 20, 15);
        String n = packName("data", 15);
        int threads = 6;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                fs.add(pool.submit(() -> {
                    start.await();
                    backend.write(n, data);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(backend.read(n)).isEqualTo(data);
        assertThat(backend.list("data")).containsExactly(n);
    }

    // retries (through RetryingBackend and FaultyBackend)

    private final RecordingSleeper sleeper = new RecordingSleeper();

    private RetryingBackend retrying(FaultyBackend faulty) {
        return new RetryingBackend(faulty, RetryPolicy.DEFAULT, sleeper, new Random(1));
    }

    @Test
    void transientFailuresFollowedBySuccessAreRetriedAndTheDataArrives() {
        FaultyBackend faulty = new FaultyBackend(backend)
                .plan(WRITE, FaultyBackend.transientError(), FaultyBackend.lostAnswer())
                .plan(READ, FaultyBackend.transientError(), FaultyBackend.transientError())
                .plan(READ_RANGE, FaultyBackend.truncate(10))
                .plan(LIST, FaultyBackend.transientError())
                .plan(STAT, FaultyBackend.transientError())
                .plan(DELETE, FaultyBackend.lostAnswer());
        RetryingBackend r = retrying(faulty);
        byte[] data = bytes(50_000, 16);
        String n = packName("data", 16);

        r.write(n, data);
        assertThat(r.read(n)).isEqualTo(data);
        assertThat(r.read(n, 1000, 2000)).isEqualTo(Arrays.copyOfRange(data, 1000, 3000));
        assertThat(r.list("data")).containsExactly(n);
        assertThat(r.stat(n)).get().extracting(Backend.ObjectInfo::size).isEqualTo(50_000L);
        r.delete(n);

        assertThat(backend.stat(n)).isEmpty();
        assertThat(faulty.unusedPlan()).isEmpty();
        assertThat(r.retries()).isEqualTo(8);
        assertThat(sleeper.delays()).hasSize(8);
    }

    @Test
    void permanentFailuresAreNotRetried() {
        String n = packName("data", 17);
        backend.write(n, bytes(100, 17));
        FaultyBackend faulty = new FaultyBackend(backend).plan(READ, FaultyBackend.permanent(ErrorCode.CORRUPT));
        RetryingBackend r = retrying(faulty);

        assertCode(ErrorCode.CORRUPT, () -> r.read(n));
        assertCode(ErrorCode.NOT_FOUND, () -> r.read(packName("data", 18)));
        assertCode(ErrorCode.CORRUPT, () -> r.read(n, 50, 100));

        assertThat(faulty.calls(READ)).isEqualTo(2);
        assertThat(faulty.calls(READ_RANGE)).isEqualTo(1);
        assertThat(r.retries()).isZero();
        assertThat(sleeper.delays()).isEmpty();
    }

    @Test
    void transientFailuresThatLastBeyondTheAttemptsEndInAnIoErrorNamingTheObject() {
        String n = packName("data", 19);
        FaultyBackend faulty = new FaultyBackend(backend);
        for (int i = 0; i < RetryPolicy.DEFAULT.maxAttempts(); i++) {
            faulty.plan(WRITE, FaultyBackend.transientError());
        }
        RetryingBackend r = retrying(faulty);

        assertThatThrownBy(() -> r.write(n, bytes(10, 19))).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e).isNotInstanceOf(TransientBackendException.class);
            assertThat(e.code()).isEqualTo(ErrorCode.IO);
            assertThat(e.getMessage()).contains(n, backend.location(), "gave up after 6 attempts");
        });
        assertThat(faulty.calls(WRITE)).isEqualTo(6);
        assertThat(r.retries()).isEqualTo(5);
        assertThat(backend.stat(n)).isEmpty();
    }
}
