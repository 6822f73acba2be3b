-- Haven server schema, version 1: users, their tokens, the audit log.
-- Times are milliseconds since the epoch (UTC).
-- SQLite dialect of db/migration/postgresql/V1__users_tokens_audit.sql: the same tables, with identities as
-- INTEGER PRIMARY KEY AUTOINCREMENT (an id is never handed out twice, even after a delete).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      VARCHAR(64)  NOT NULL UNIQUE,
    password_hash VARCHAR(256) NOT NULL,
    role_name     VARCHAR(16)  NOT NULL,
    created_at    BIGINT       NOT NULL,
    disabled      BOOLEAN      DEFAULT FALSE NOT NULL
);

-- Session tokens (from a login) and API tokens (for scripts). Only SHA-256 of a token is kept.
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT       NOT NULL REFERENCES users (id),
    kind         VARCHAR(16)  NOT NULL,
    name         VARCHAR(128),
    token_hash   VARCHAR(64)  NOT NULL UNIQUE,
    created_at   BIGINT       NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at BIGINT        NOT NULL,
    actor       VARCHAR(64),
    action      VARCHAR(128)  NOT NULL,
    target      VARCHAR(256),
    address     VARCHAR(64),
    status      INT           NOT NULL
);

CREATE INDEX audit_occurred_at ON audit (occurred_at);
