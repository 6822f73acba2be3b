-- Haven server schema, version 4: tokens can be revoked (logout, or an admin revoking an API
-- token); a revoked token stays as a row, so the audit log's "token:N" keeps meaning something.
ALTER TABLE tokens ADD COLUMN revoked_at BIGINT;
