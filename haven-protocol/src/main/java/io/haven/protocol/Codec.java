package io.haven.protocol;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;

/**
 * JSON for {@link Messages}. Unknown fields are ignored, so an older agent keeps working with a
 * newer server that adds fields (and the other way round). Thread-safe.
 */
public final class Codec {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private Codec() {}

    public static ObjectMapper mapper() {
        return JSON;
    }

    public static byte[] write(Object message) {
        try {
            return JSON.writeValueAsBytes(message);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot encode " + message.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Decodes {@code json}; USAGE when it is not a {@code type}. */
    public static <T> T read(byte[] json, Class<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.USAGE, "not a valid " + type.getSimpleName() + " message: " + e.getMessage(), e);
        }
    }
}
