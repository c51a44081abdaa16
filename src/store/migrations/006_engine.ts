// Pipeline engine (DESIGN §6): per-step session and failure, budget ledgers with reservations,
// and the fenced merge intents recorded before an irreversible merge (DESIGN §5 inv. 8).
export const name = 'engine';
export const sql = `
ALTER TABLE steps ADD COLUMN session_id TEXT;
ALTER TABLE steps ADD COLUMN failure_kind TEXT;
ALTER TABLE steps ADD COLUMN failure_message TEXT;
CREATE INDEX runs_task_idx ON runs (task_id, number);
CREATE INDEX runs_state_idx ON runs (state);

CREATE TABLE budget_ledgers (
  key TEXT PRIMARY KEY,
  used_tokens BIGINT NOT NULL DEFAULT 0,
  used_cost DOUBLE PRECISION NOT NULL DEFAULT 0,
  reserved_tokens BIGINT NOT NULL DEFAULT 0,
  reserved_cost DOUBLE PRECISION NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);

CREATE TABLE budget_reservations (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  step_row_id TEXT NOT NULL,
  keys TEXT NOT NULL,
  tokens BIGINT NOT NULL,
  cost_usd DOUBLE PRECISION NOT NULL,
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  settled_at BIGINT
);
CREATE INDEX budget_reservations_state_idx ON budget_reservations (state);

CREATE TABLE merge_intents (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks(id),
  run_id TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  base_branch TEXT NOT NULL,
  expected_base_sha TEXT NOT NULL,
  head_sha TEXT NOT NULL,
  state TEXT NOT NULL,
  merged_sha TEXT,
  reason TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX merge_intents_task_idx ON merge_intents (task_id, created_at);
`;
