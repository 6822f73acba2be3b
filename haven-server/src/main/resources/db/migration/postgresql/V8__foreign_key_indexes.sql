-- Haven server schema, version 8: indexes on the foreign keys that are looked up or cascaded
-- from and were not indexed (H2, the embedded database before SQLite, indexed every foreign key
-- by itself; SQLite and PostgreSQL do not). The task poll finds an agent's groups through
-- group_members (agent_id); deleting a channel sets its deliveries' channel_id to NULL; tokens
-- are looked up and revoked per user.
CREATE INDEX group_members_agent ON group_members (agent_id);
CREATE INDEX notification_deliveries_channel ON notification_deliveries (channel_id);
CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX workloads_agent ON workloads (agent_id);
CREATE INDEX workloads_pool_group ON workloads (pool_group_id);
CREATE INDEX policies_group ON policies (group_id);
