-- Haven server schema, version 6: agents renew their client certificates. The previous
-- certificate keeps working until the agent first uses the new one, so an agent that crashed
-- before saving its new certificate is not locked out.
ALTER TABLE agents ADD COLUMN prev_cert_serial VARCHAR(64);
