-- Haven server schema, version 4: tokens can be revoked (logout, or an admin revoking an API
-- token); a revoked token stays as a row, so the audit log's "token:N" keeps meaning something.
-- SQLite dialect of db/migration/postgresql/V4__token_revocation.sql: the same tables, with identities as
-- INTEGER PRIMARY KEY AUTOINCREMENT (an id is never handed out twice, even after a delete).
ALTER TABLE tokens ADD COLUMN revoked_at BIGINT;
