package io.haven.runbook.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;

/**
 * JSON for run states, events, commands and reports: what the executor stores after every
 * transition and reads back after a restart. Times are ISO-8601 instants, durations ISO-8601
 * ({@code PT30S}); sealed types carry a type property ({@code op} for commands, {@code event},
 * {@code kind} for steps, {@code type} for probes). Unknown fields are ignored, so a state written
 * by an older server reads in a newer one. Reading runs the records' validation. Thread-safe.
 */
public final class RunCodec {
    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private RunCodec() {}

    public static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot write " + value.getClass().getSimpleName() + " as JSON: " + e.getMessage(), e);
        }
    }

    /** @throws HavenException CORRUPT when {@code json} is not a valid {@code type} */
    public static <T> T read(String json, Class<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new HavenException(ErrorCode.CORRUPT, "not a valid stored " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    public static String writeState(RunState state) {
        return write(state);
    }

    public static RunState readState(String json) {
        return read(json, RunState.class);
    }
}
