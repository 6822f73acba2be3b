package io.haven.repository.backend;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A {@link RetryingBackend.Sleeper} that returns at once and remembers each delay it was asked for. */
public final class RecordingSleeper implements RetryingBackend.Sleeper {
    private final List<Duration> delays = new ArrayList<>();

    @Override
    public synchronized void sleep(Duration delay) {
        delays.add(delay);
    }

    /** The delays asked for so far, in order. */
    public synchronized List<Duration> delays() {
        return List.copyOf(delays);
    }
}
