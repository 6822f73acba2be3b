package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A test fake that wraps a real backend and makes chosen operations misbehave: fail with a
 * transient or permanent error, lose the answer after doing the work, return fewer bytes than
 * asked, or answer late. Faults come from a per-operation plan (consumed in order, one per call)
 * and, once a plan is used up, from an optional seeded random rate.
 *
 * <p>Strict: a truncation planned for an operation that returns no bytes is refused when
 * planned; {@link #unusedPlan()} lets a test check that every planned fault was reached.
 * Thread safe.
 */
public final class FaultyBackend implements Backend {
    /** The operations of {@link Backend}. */
    public enum Op { LIST, STAT, READ, READ_RANGE, WRITE, DELETE }

    /** What happens to one call. */
    public sealed interface Fault {
        /** Throw a {@link TransientBackendException} without calling the real backend. */
        record Transient() implements Fault {}

        /** Call the real backend, then throw a {@link TransientBackendException}: the work was done, the answer lost. */
        record LostAnswer() implements Fault {}

        /** Throw a permanent {@link HavenException} with this code without calling the real backend. */
        record Permanent(ErrorCode code) implements Fault {}

        /** Return only the first {@code keep} bytes of what a read returned. */
        record Truncate(int keep) implements Fault {}

        /** Wait (through the sleeper), then behave. */
        record Delay(Duration delay) implements Fault {}

        /** Behave. */
        record Pass() implements Fault {}
    }

    public static Fault transientError() {
        return new Fault.Transient();
    }

    public static Fault lostAnswer() {
        return new Fault.LostAnswer();
    }

    public static Fault permanent(ErrorCode code) {
        return new Fault.Permanent(code);
    }

    public static Fault truncate(int keep) {
        return new Fault.Truncate(keep);
    }

    public static Fault delay(Duration delay) {
        return new Fault.Delay(delay);
    }

    public static Fault pass() {
        return new Fault.Pass();
    }

    private final Backend inner;
    private final RetryingBackend.Sleeper sleeper;
    private final Map<Op, Queue<Fault>> plan = new EnumMap<>(Op.class);
    private final Map<Op, Integer> calls = new EnumMap<>(Op.class);
    private Random random;
    private double rate;
    private Fault randomFault;
    private Set<Op> randomOps = EnumSet.noneOf(Op.class);
    private int injected;

    /** Delays really sleep. */
    public FaultyBackend(Backend inner) {
        this(inner, RetryingBackend.Sleeper.REAL);
    }

    public FaultyBackend(Backend inner, RetryingBackend.Sleeper sleeper) {
        this.inner = inner;
        this.sleeper = sleeper;
        for (Op op : Op.values()) {
            plan.put(op, new ArrayDeque<>());
            calls.put(op, 0);
        }
    }

    /** Queues faults for the next calls of {@code op}, one per call, after those already queued. */
    public synchronized FaultyBackend plan(Op op, Fault... faults) {
        for (Fault f : faults) {
            if (f instanceof Fault.Truncate && op != Op.READ && op != Op.READ_RANGE) {
                throw new IllegalArgumentException("only reads can be truncated, not " + op);
            }
            plan.get(op).add(f);
        }
        return this;
    }

    /**
     * After the plan of an operation is used up, each call of one of {@code ops} meets
     * {@code fault} with probability {@code rate}, drawn from a generator seeded with {@code seed}.
     */
    public synchronized FaultyBackend failRandomly(long seed, double rate, Fault fault, Op... ops) {
        if (fault instanceof Fault.Truncate && Arrays.stream(ops).anyMatch(o -> o != Op.READ && o != Op.READ_RANGE)) {
            throw new IllegalArgumentException("only reads can be truncated");
        }
        this.random = new Random(seed);
        this.rate = rate;
        this.randomFault = fault;
        this.randomOps = ops.length == 0 ? EnumSet.noneOf(Op.class) : EnumSet.copyOf(Arrays.asList(ops));
        return this;
    }

    /** How many calls of {@code op} this backend has seen, failed or not. */
    public synchronized int calls(Op op) {
        return calls.get(op);
    }

    /** How many faults (other than {@link Fault.Pass}) have been injected. */
    public synchronized int injected() {
        return injected;
    }

    /** The planned faults not yet reached, per operation (empty when all were). */
    public synchronized Map<Op, List<Fault>> unusedPlan() {
        Map<Op, List<Fault>> out = new EnumMap<>(Op.class);
        plan.forEach((op, q) -> {
            if (!q.isEmpty()) {
                out.put(op, List.copyOf(q));
            }
        });
        return out;
    }

    private synchronized Fault next(Op op) {
        calls.merge(op, 1, Integer::sum);
        Fault f = plan.get(op).poll();
        if (f == null) {
            f = random != null && randomOps.contains(op) && random.nextDouble() < rate ? randomFault : pass();
        }
        if (!(f instanceof Fault.Pass)) {
            injected++;
        }
        return f;
    }

    private <T> T call(Op op, String name, Supplier<T> real) {
        Fault f = next(op);
        return switch (f) {
            case Fault.Transient t -> throw new TransientBackendException("injected transient failure of " + op + " " + name
                    + " at " + inner.location());
            case Fault.Permanent p -> throw new HavenException(p.code(), "injected permanent failure (" + p.code() + ") of "
                    + op + " " + name + " at " + inner.location());
            case Fault.LostAnswer l -> {
                real.get();
                throw new TransientBackendException("injected lost answer of " + op + " " + name + " at " + inner.location());
            }
            case Fault.Truncate tr -> {
                byte[] b = (byte[]) real.get();
                @SuppressWarnings("unchecked")
                T cut = (T) Arrays.copyOf(b, Math.min(tr.keep(), b.length));
                yield cut;
            }
            case Fault.Delay d -> {
                try {
                    sleeper.sleep(d.delay());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HavenException(ErrorCode.IO, "interrupted during an injected delay", e);
                }
                yield real.get();
            }
            case Fault.Pass p -> real.get();
        };
    }

    @Override
    public String location() {
        return inner.location();
    }

    @Override
    public List<String> list(String directory) {
        return call(Op.LIST, directory, () -> inner.list(directory));
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        return call(Op.STAT, name, () -> inner.stat(name));
    }

    @Override
    public byte[] read(String name) {
        return call(Op.READ, name, () -> inner.read(name));
    }

    @Override
    public byte[] read(String name, long offset, int length) {
        return call(Op.READ_RANGE, name, () -> inner.read(name, offset, length));
    }

    @Override
    public void write(String name, byte[] data, int length) {
        call(Op.WRITE, name, () -> {
            inner.write(name, data, length);
            return null;
        });
    }

    @Override
    public void delete(String name) {
        call(Op.DELETE, name, () -> {
            inner.delete(name);
            return null;
        });
    }

    @Override
    public void close() {
        inner.close();
    }
}
