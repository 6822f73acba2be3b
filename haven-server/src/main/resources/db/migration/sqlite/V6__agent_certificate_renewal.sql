-- Haven server schema, version 6: agents renew their client certificates. The previous
-- certificate keeps working until the agent first uses the new one, so an agent that crashed
-- before saving its new certificate is not locked out.
-- SQLite dialect of db/migration/postgresql/V6__agent_certificate_renewal.sql: the same tables, with identities as
-- INTEGER PRIMARY KEY AUTOINCREMENT (an id is never handed out twice, even after a delete).
ALTER TABLE agents ADD COLUMN prev_cert_serial VARCHAR(64);
