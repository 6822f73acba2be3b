-- Haven server schema, version 3: notification channels and the record of their deliveries.
-- Times are milliseconds since the epoch (UTC).
-- SQLite dialect of db/migration/postgresql/V3__notifications.sql: the same tables, with identities as
-- INTEGER PRIMARY KEY AUTOINCREMENT (an id is never handed out twice, even after a delete).

-- kind 'webhook' or 'email'; config is the channel's settings as JSON (secrets included: the API
-- masks them); events is a comma-separated list of event kinds, empty for all.
CREATE TABLE notification_channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       VARCHAR(64)   NOT NULL UNIQUE,
    kind       VARCHAR(16)   NOT NULL CHECK (kind IN ('webhook', 'email')),
    config     VARCHAR(8000) NOT NULL,
    events     VARCHAR(256)  DEFAULT '' NOT NULL,
    enabled    BOOLEAN       DEFAULT TRUE NOT NULL,
    created_at BIGINT        NOT NULL
);

-- One row per event and channel, written when the last attempt ends. Deleting a channel keeps
-- its deliveries (channel_id becomes NULL; channel_name stays).
CREATE TABLE notification_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id   BIGINT REFERENCES notification_channels (id) ON DELETE SET NULL,
    channel_name VARCHAR(64)   NOT NULL,
    event_kind   VARCHAR(32)   NOT NULL,
    subject      VARCHAR(256)  NOT NULL,
    occurred_at  BIGINT        NOT NULL,
    status       VARCHAR(16)   NOT NULL CHECK (status IN ('ok', 'failed')),
    attempts     INT           NOT NULL,
    error        VARCHAR(1000)
);

CREATE INDEX notification_deliveries_occurred_at ON notification_deliveries (occurred_at);
