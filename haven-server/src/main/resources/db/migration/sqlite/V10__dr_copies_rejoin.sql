-- A PostgreSQL DR copy found promoted at the recovery site (by a run that was rolled back) is made a
-- standby again by the keeper's next round. The mark is kept here, not in one server's memory, so
-- that a restart, or another server taking the next round, still rejoins it (docs/runbooks.md).
ALTER TABLE dr_copies ADD COLUMN rejoin BOOLEAN DEFAULT FALSE NOT NULL;
