// Fleet additions (DESIGN §5): claim bookkeeping on factories, the report kept with each lease,
// the quarantine ledger operators triage, and indexes the reaper and scheduler scan.
export const name = 'fleet';
export const sql = `
ALTER TABLE factories ADD COLUMN last_claim_at BIGINT;
ALTER TABLE leases ADD COLUMN report TEXT;
ALTER TABLE leases ADD COLUMN renewed_at BIGINT;
CREATE INDEX tasks_lease_expiry_idx ON tasks (lease_expires_at);
CREATE INDEX tasks_queue_idx ON tasks (stage, priority DESC, queued_at, id);
CREATE INDEX tasks_affinity_idx ON tasks (affinity_factory_id);
CREATE INDEX leases_factory_idx ON leases (factory_id, released_at);
CREATE TABLE fleet_quarantines (
  task_id TEXT NOT NULL REFERENCES tasks(id),
  epoch BIGINT NOT NULL,
  factory_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  reported_at BIGINT NOT NULL,
  PRIMARY KEY (task_id, epoch, factory_id)
);
`;
