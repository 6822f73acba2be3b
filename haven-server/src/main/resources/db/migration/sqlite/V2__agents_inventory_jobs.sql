-- Haven server schema, version 2: agents and their enrolment, inventory (sites, groups,
-- repositories, policies, workloads), jobs and their logs.
-- JSON documents are kept as text in VARCHAR(1000000) (as in the PostgreSQL schema).
-- SQLite dialect of db/migration/postgresql/V2__agents_inventory_jobs.sql: the same tables, with identities as
-- INTEGER PRIMARY KEY AUTOINCREMENT (an id is never handed out twice, even after a delete).

CREATE TABLE sites (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        VARCHAR(64)  NOT NULL UNIQUE,
    description VARCHAR(256),
    created_at  BIGINT       NOT NULL
);

-- One-time enrolment tokens; only SHA-256 of the secret is kept.
CREATE TABLE enrollment_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  VARCHAR(64)  NOT NULL UNIQUE,
    site_id     BIGINT REFERENCES sites (id),
    labels      VARCHAR(4096),
    created_by  VARCHAR(64),
    created_at  BIGINT       NOT NULL,
    expires_at  BIGINT       NOT NULL,
    used_at     BIGINT,
    agent_id    BIGINT
);

-- state: active, disabled (refused until enabled again) or revoked (its certificate is dead for good)
CREATE TABLE agents (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             VARCHAR(128) NOT NULL UNIQUE,
    site_id          BIGINT REFERENCES sites (id),
    labels           VARCHAR(4096),
    state            VARCHAR(16)  NOT NULL,
    cert_serial      VARCHAR(64)  NOT NULL UNIQUE,
    cert_expires_at  BIGINT       NOT NULL,
    enrolled_at      BIGINT       NOT NULL,
    last_seen_at     BIGINT,
    instance         VARCHAR(64),
    version          VARCHAR(32),
    facts            VARCHAR(1000000),
    max_tasks        INT          DEFAULT 2 NOT NULL,
    offline_notified BOOLEAN      DEFAULT FALSE NOT NULL
);

CREATE TABLE host_groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        VARCHAR(64)  NOT NULL UNIQUE,
    description VARCHAR(256),
    created_at  BIGINT       NOT NULL
);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES host_groups (id),
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    PRIMARY KEY (group_id, agent_id)
);

-- location: a directory on the server or s3:…; the password opens the repository (the server
-- hands it to agents inside their tasks, over mutual TLS).
CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       VARCHAR(64)   NOT NULL UNIQUE,
    location   VARCHAR(1024) NOT NULL,
    password   VARCHAR(1024) NOT NULL,
    created_at BIGINT        NOT NULL
);

-- spec: schedule, time zone, retention, excludes, bandwidth limit, maintenance schedule (JSON).
-- next_backup_at / next_maintenance_at: the planned tick, claimed by exactly one server.
CREATE TABLE policies (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                VARCHAR(64)  NOT NULL UNIQUE,
    group_id            BIGINT       NOT NULL REFERENCES host_groups (id),
    repository_id       BIGINT       NOT NULL REFERENCES repositories (id),
    spec                VARCHAR(1000000) NOT NULL,
    next_backup_at      BIGINT,
    next_maintenance_at BIGINT,
    created_at          BIGINT       NOT NULL,
    updated_at          BIGINT       NOT NULL
);

-- A file-set workload: paths and excludes on one host (agent_id) or on any agent of a pool group.
CREATE TABLE workloads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          VARCHAR(128) NOT NULL UNIQUE,
    kind          VARCHAR(32)  NOT NULL,
    agent_id      BIGINT REFERENCES agents (id),
    pool_group_id BIGINT REFERENCES host_groups (id),
    spec          VARCHAR(1000000) NOT NULL,
    created_at    BIGINT       NOT NULL
);

-- state: queued, running, succeeded, partial, failed, cancelled, missed.
-- agent_instance: the agent process that runs it; lease_owner/lease_until: the server that runs
-- a server-side job (maintenance) and until when its claim holds.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    type             VARCHAR(16)  NOT NULL,
    state            VARCHAR(16)  NOT NULL,
    origin           VARCHAR(16)  NOT NULL,
    requested_by     VARCHAR(64),
    workload_id      BIGINT,
    policy_id        BIGINT,
    repository_id    BIGINT,
    agent_id         BIGINT,
    agent_instance   VARCHAR(64),
    spec             VARCHAR(1000000) NOT NULL,
    created_at       BIGINT       NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    updated_at       BIGINT       NOT NULL,
    bytes_done       BIGINT       DEFAULT 0 NOT NULL,
    bytes_total      BIGINT       DEFAULT 0 NOT NULL,
    files_done       BIGINT       DEFAULT 0 NOT NULL,
    files_total      BIGINT       DEFAULT 0 NOT NULL,
    message          VARCHAR(2048),
    result           VARCHAR(1000000),
    cancel_requested BOOLEAN      DEFAULT FALSE NOT NULL,
    lease_owner      VARCHAR(64),
    lease_until      BIGINT
);

CREATE INDEX jobs_state ON jobs (state, created_at);
CREATE INDEX jobs_agent ON jobs (agent_id, state);
CREATE INDEX jobs_workload ON jobs (workload_id, created_at);

CREATE TABLE job_logs (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id BIGINT        NOT NULL REFERENCES jobs (id),
    at     BIGINT        NOT NULL,
    level  VARCHAR(8)    NOT NULL,
    line   VARCHAR(4096) NOT NULL
);

CREATE INDEX job_logs_job ON job_logs (job_id, id);
