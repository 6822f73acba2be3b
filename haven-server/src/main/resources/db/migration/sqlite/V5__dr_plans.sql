-- Haven server schema, version 5: DR plans, every version kept (issue 6). The YAML text is the
-- plan as the operator wrote it (after validation); the newest version is the plan in force.
-- SQLite dialect of db/migration/postgresql/V5__dr_plans.sql: the same tables, with identities as
-- INTEGER PRIMARY KEY AUTOINCREMENT (an id is never handed out twice, even after a delete).
CREATE TABLE dr_plans (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       VARCHAR(64)  NOT NULL UNIQUE,
    version    INT          NOT NULL,
    created_at BIGINT       NOT NULL,
    updated_at BIGINT       NOT NULL
);

CREATE TABLE dr_plan_versions (
    plan_id    BIGINT           NOT NULL REFERENCES dr_plans (id),
    version    INT              NOT NULL,
    yaml       VARCHAR(1000000) NOT NULL,
    created_at BIGINT           NOT NULL,
    created_by VARCHAR(64),
    PRIMARY KEY (plan_id, version)
);
