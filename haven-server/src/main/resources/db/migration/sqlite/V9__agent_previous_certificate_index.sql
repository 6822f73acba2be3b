-- Haven server schema, version 9: an index on agents (prev_cert_serial). Every agent call finds
-- its agent by the client certificate's serial, current or previous (Agents.holderOf:
-- cert_serial = ? OR prev_cert_serial = ?). Without an index on the second column the OR
-- cannot use cert_serial's either, and each call scanned every agent: with 1,000 agents, about
-- 160 scans of the table a second in the control-plane benchmark.
CREATE INDEX agents_prev_cert_serial ON agents (prev_cert_serial);
