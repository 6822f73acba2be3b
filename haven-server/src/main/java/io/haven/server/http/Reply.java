package io.haven.server.http;

import java.nio.charset.StandardCharsets;

/** What an endpoint answers: a status, a content type and the body bytes. */
public record Reply(int status, String contentType, byte[] body) {
    public static Reply text(int status, String contentType, String text) {
        return new Reply(status, contentType, text.getBytes(StandardCharsets.UTF_8));
    }
}
