package io.haven.server.notify;

import java.time.Instant;

/**
 * The outcome of sending one event to one channel, as recorded in
 * {@code notification_deliveries}.
 *
 * @param channelId null once the channel is deleted
 * @param channel the channel's name when it was sent
 * @param at when the last attempt ended
 * @param attempts how many attempts were made (1 to the notifier's maximum)
 * @param error null when delivered; else the last attempt's failure
 */
public record Delivery(long id, Long channelId, String channel, Event.Kind event, String subject, Instant at, Status status,
        int attempts, String error) {
    /** {@code ok} or {@code failed}. */
    public enum Status {
        OK, FAILED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
