package io.haven.repository;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;

/** The one JSON mapper of the repository format: snake_case names, unknown fields ignored. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .setSerializationInclusion(JsonInclude.Include.ALWAYS)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Json() {}

    public static byte[] write(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.INTERNAL, "cannot encode " + value.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    public static <T> T read(byte[] data, Class<T> type, String what) {
        try {
            return MAPPER.readValue(data, type);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof HavenException h) { // a record's own check, such as the chunker parameters
                    throw new HavenException(ErrorCode.CORRUPT, what + " is not valid: " + h.getMessage(), e);
                }
            }
            String where = "";
            if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()) {
                StringBuilder b = new StringBuilder();
                for (var ref : m.getPath()) {
                    b.append(ref.getFieldName() != null ? (b.isEmpty() ? "" : ".") + ref.getFieldName() : "[" + ref.getIndex() + "]");
                }
                where = " at '" + b + "'";
            }
            String msg = e.getOriginalMessage();
            if (msg.contains("`io.haven.") || msg.contains("`java.")) {
                msg = "a value is missing or has the wrong type"; // not Jackson's class names
            }
            throw new HavenException(ErrorCode.CORRUPT, what + " is not valid" + where + ": " + msg, e);
        } catch (IOException e) {
            throw new HavenException(ErrorCode.CORRUPT, what + " cannot be read: " + e.getMessage(), e);
        }
    }
}
