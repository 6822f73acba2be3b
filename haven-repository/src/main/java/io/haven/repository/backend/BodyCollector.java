package io.haven.repository.backend;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Receives an HTTP answer's body into one array, for {@link RestBackend}: straight into an
 * array of the announced {@code Content-Length} when there is one (so a 16 MiB pack is copied
 * once, not gathered in pieces and joined), growing otherwise. {@link #received()} counts the
 * bytes so far, so the caller can tell a slow answer from a stalled one.
 *
 * <p>A body longer than {@code limit} either fails the answer with an {@link Oversized} (for
 * objects) or is cut at the limit and the rest discarded (for error messages, {@code truncate}).
 * A body that ends before its announced length fails with an {@link IOException}. Used by the
 * HTTP client's threads; {@link #received()} and {@link #abort()} may be called from any thread.
 */
final class BodyCollector implements HttpResponse.BodySubscriber<byte[]> {
    /** The answer is longer than the caller accepts. */
    static final class Oversized extends IOException {
        final long length;

        Oversized(long length) {
            super("the answer is longer than expected (" + (length < 0 ? "more" : length) + " bytes)");
            this.length = length;
        }
    }

    private final long expected;
    private final int limit;
    private final boolean truncate;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private volatile Flow.Subscription subscription;
    private volatile long received;
    private byte[] buffer;
    private int size;

    /**
     * @param expected the announced length, or -1
     * @param limit the most bytes kept
     * @param truncate whether to cut a longer body at {@code limit} (true) or fail (false)
     */
    BodyCollector(long expected, int limit, boolean truncate) {
        this.expected = expected;
        this.limit = limit;
        this.truncate = truncate;
        if (expected > limit && !truncate) {
            result.completeExceptionally(new Oversized(expected));
            this.buffer = new byte[0];
        } else {
            this.buffer = new byte[(int) Math.min(expected >= 0 ? expected : 8192, limit)];
        }
    }

    /** Bytes received so far (including any discarded beyond the limit). */
    long received() {
        return received;
    }

    /** Stops receiving (the caller gave up waiting). */
    void abort() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        result.completeExceptionally(new IOException("the answer was abandoned"));
    }

    @Override
    public CompletionStage<byte[]> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (result.isDone()) {
            s.cancel();
        } else {
            s.request(1);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        if (result.isDone()) {
            subscription.cancel();
            return;
        }
        for (ByteBuffer b : items) {
            int n = b.remaining();
            received += n;
            int keep = Math.min(n, limit - size);
            if (keep < n && !truncate) {
                subscription.cancel();
                result.completeExceptionally(new Oversized(expected));
                return;
            }
            if (size + keep > buffer.length) {
                buffer = Arrays.copyOf(buffer, (int) Math.min(limit, Math.max((long) size + keep, 2L * buffer.length)));
            }
            b.get(buffer, size, keep);
            size += keep;
        }
        subscription.request(1);
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        if (expected >= 0 && received != expected) {
            result.completeExceptionally(new IOException("the answer ended after " + received + " of " + expected + " bytes"));
        } else {
            result.complete(size == buffer.length ? buffer : Arrays.copyOf(buffer, size));
        }
    }
}
