package io.haven.server.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.Locale;
import java.util.Map;

/**
 * How a channel delivers: its kind and settings, validated when made. Stored as JSON in the
 * {@code notification_channels.config} column, secrets included (see {@link #masked()} for what
 * the API shows).
 */
public sealed interface ChannelConfig permits WebhookConfig, EmailConfig {
    /** Shown instead of a secret or password. */
    String MASK = "***";

    /** {@code webhook} or {@code email}. */
    String kindLabel();

    /** The settings as the API shows them: secrets and passwords replaced by {@link #MASK}. */
    Map<String, Object> masked();

    /**
     * Reads the settings of a channel of the given kind.
     *
     * @throws HavenException USAGE for an unknown kind or invalid settings, naming the field
     * @throws com.fasterxml.jackson.core.JacksonException for unknown fields or wrong types
     */
    static ChannelConfig read(String kind, JsonNode config, ObjectMapper json) throws java.io.IOException {
        Class<? extends ChannelConfig> type = switch (kind == null ? "" : kind.toLowerCase(Locale.ROOT)) {
            case "webhook" -> WebhookConfig.class;
            case "email" -> EmailConfig.class;
            default -> throw new HavenException(ErrorCode.USAGE, "unknown channel kind '" + kind + "'; use webhook or email");
        };
        if (config == null || !config.isObject()) {
            throw new HavenException(ErrorCode.USAGE, "a " + kind + " channel needs a 'config' object");
        }
        try {
            return json.treeToValue(config, type);
        } catch (ValueInstantiationException e) {
            // the record's own validation: keep its message rather than Jackson's wrapping
            if (e.getCause() instanceof HavenException h) {
                throw h;
            }
            throw e;
        }
    }
}
