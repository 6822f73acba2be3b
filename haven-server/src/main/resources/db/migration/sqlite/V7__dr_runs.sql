-- Haven server schema, version 7: DR runs, fences and DR copies (issue 6).
-- SQLite dialect of db/migration/postgresql/V7__dr_runs.sql: the same tables, with identities as
-- INTEGER PRIMARY KEY AUTOINCREMENT (an id is never handed out twice, even after a delete).

-- One run of a plan (drill, failover, failback). state: the RunState as JSON (RunCodec), written
-- after every transition with revision + 1 (a conditional update, so two servers never both
-- apply an event to the same revision). lease_owner/lease_until: the server that carries out the
-- run's commands; another server takes the run over (and resumes it) once the lease has expired.
CREATE TABLE dr_runs (
    id           VARCHAR(64)      PRIMARY KEY,
    seq          INTEGER,
    plan_name    VARCHAR(64)      NOT NULL,
    plan_version INT              NOT NULL,
    kind         VARCHAR(16)      NOT NULL,
    phase        VARCHAR(16)      NOT NULL,
    ended        BOOLEAN          NOT NULL,
    state        VARCHAR(1000000) NOT NULL,
    revision     BIGINT           NOT NULL,
    report       VARCHAR(1000000),
    created_by   VARCHAR(64),
    created_at   BIGINT           NOT NULL,
    updated_at   BIGINT           NOT NULL,
    lease_owner  VARCHAR(64),
    lease_until  BIGINT
);

-- seq numbers runs in the order they were created (an identity column in PostgreSQL). SQLite has
-- one writer at a time, so MAX + 1 cannot hand out a number twice.
CREATE TRIGGER dr_runs_seq AFTER INSERT ON dr_runs FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE dr_runs SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM dr_runs) WHERE id = NEW.id;
END;

CREATE INDEX dr_runs_plan ON dr_runs (plan_name, seq);
CREATE INDEX dr_runs_open ON dr_runs (ended, lease_until);

-- A fenced site: its agents do not start this plan's workloads (no split brain).
CREATE TABLE dr_fences (
    plan_name  VARCHAR(64) NOT NULL,
    site_name  VARCHAR(64) NOT NULL,
    run_id     VARCHAR(64),
    created_at BIGINT      NOT NULL,
    PRIMARY KEY (plan_name, site_name)
);

-- Where each plan runs now (the site its workloads are served from), and its replication state.
-- next_drill_at: the next scheduled drill of a plan with a drill schedule (claimed by moving it forward).
CREATE TABLE dr_plan_state (
    plan_name      VARCHAR(64) PRIMARY KEY,
    active_site    VARCHAR(64) NOT NULL,
    next_drill_at  BIGINT,
    updated_at     BIGINT      NOT NULL
);

-- The newest recoverable point of each plan workload, per site that holds a copy (or 'repository'
-- for snapshots not yet applied anywhere), and the replication's own bookkeeping.
CREATE TABLE dr_copies (
    plan_name     VARCHAR(64)  NOT NULL,
    workload      VARCHAR(64)  NOT NULL,
    snapshot      VARCHAR(128),
    point_at      BIGINT,
    source_site   VARCHAR(64),
    copy_site     VARCHAR(64),
    copy_snapshot VARCHAR(128),
    copy_point_at BIGINT,
    next_due_at   BIGINT       NOT NULL,
    job_id        BIGINT,
    breach        BOOLEAN      DEFAULT FALSE NOT NULL,
    moved_at      BIGINT,
    message       VARCHAR(2048),
    updated_at    BIGINT       NOT NULL,
    PRIMARY KEY (plan_name, workload)
);

-- Jobs that carry out a run's command: the run and the command's id (stable across restarts).
ALTER TABLE jobs ADD COLUMN run_id VARCHAR(64);
ALTER TABLE jobs ADD COLUMN command_id VARCHAR(128);
CREATE INDEX jobs_run ON jobs (run_id, command_id);
