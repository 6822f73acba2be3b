package io.haven.server.notify;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A webhook: an HTTP(S) URL that receives each event as a JSON POST, and an optional shared
 * secret that signs the body ({@code X-Haven-Signature: sha256=HEX}, HMAC-SHA256).
 *
 * @param url {@code https://…} or {@code http://…} with a host; no user info, no fragment
 * @param secret null for no signature; otherwise 16 to 256 characters
 */
public record WebhookConfig(String url, String secret) implements ChannelConfig {
    public WebhookConfig {
        if (url == null || url.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "a webhook needs a 'url' (https://… or http://…)");
        }
        url = url.strip();
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new HavenException(ErrorCode.USAGE, "the webhook url is not a valid URL: " + e.getMessage());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw new HavenException(ErrorCode.USAGE, "the webhook url must start with https:// or http://, not '"
                    + (u.getScheme() == null ? url : u.getScheme() + ":") + "'");
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            throw new HavenException(ErrorCode.USAGE, "the webhook url has no host name");
        }
        if (u.getRawUserInfo() != null) {
            throw new HavenException(ErrorCode.USAGE, "the webhook url must not carry a user name or password; use 'secret' to sign requests");
        }
        if (u.getRawFragment() != null) {
            throw new HavenException(ErrorCode.USAGE, "the webhook url must not have a #fragment");
        }
        if (secret != null && (secret.length() < 16 || secret.length() > 256)) {
            throw new HavenException(ErrorCode.USAGE, "the webhook secret must have 16 to 256 characters, not " + secret.length());
        }
    }

    public URI uri() {
        return URI.create(url);
    }

    /**
     * The URL without its path and query ({@code https://hooks.example.com/…}): chat services put
     * their token in the path, so only the origin is shown or written into error messages.
     */
    public String maskedUrl() {
        URI u = uri();
        String origin = u.getScheme() + "://" + u.getRawAuthority();
        boolean more = (u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/")) || u.getRawQuery() != null;
        return more ? origin + "/…" : origin + "/";
    }

    @Override
    public String kindLabel() {
        return "webhook";
    }

    @Override
    public Map<String, Object> masked() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("url", maskedUrl());
        m.put("secret", secret == null ? null : MASK);
        return m;
    }

    @Override
    public String toString() {
        return "WebhookConfig[" + maskedUrl() + (secret == null ? "" : ", signed") + "]";
    }
}
