// The first schema. Portable SQL: SERIAL_PK is the only dialect token (see migrate.ts).
// Every mutable row carries `rev` for compare-and-set; timestamps are epoch ms from the store clock.
export const name = 'initial';
export const sql = `
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  default_branch TEXT NOT NULL,
  config TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  agent TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  capabilities TEXT NOT NULL DEFAULT '[]',
  stage TEXT NOT NULL,
  blocked_reason TEXT,
  idempotency_key TEXT UNIQUE,
  payload_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  lease_epoch BIGINT NOT NULL DEFAULT 0,
  lease_factory_id TEXT,
  lease_expires_at BIGINT,
  checkpoint TEXT,
  affinity_factory_id TEXT,
  current_run_id TEXT,
  failure_kind TEXT,
  failure_message TEXT,
  quarantined INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  queued_at BIGINT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tasks_stage_idx ON tasks (stage, priority, queued_at);
CREATE INDEX tasks_project_idx ON tasks (project_id, created_at);
CREATE INDEX tasks_lease_idx ON tasks (lease_factory_id);

CREATE TABLE task_deps (
  task_id TEXT NOT NULL REFERENCES tasks(id),
  depends_on TEXT NOT NULL REFERENCES tasks(id),
  PRIMARY KEY (task_id, depends_on)
);
CREATE INDEX task_deps_rev_idx ON task_deps (depends_on);

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks(id),
  number INTEGER NOT NULL,
  pipeline TEXT NOT NULL,
  state TEXT NOT NULL,
  current_step INTEGER NOT NULL DEFAULT 0,
  waiting TEXT,
  failure_kind TEXT,
  failure_message TEXT,
  started_at BIGINT,
  finished_at BIGINT,
  paused_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1,
  UNIQUE (task_id, number)
);

CREATE TABLE steps (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id),
  idx INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  output TEXT,
  kind_state TEXT,
  started_at BIGINT,
  finished_at BIGINT,
  updated_at BIGINT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1,
  UNIQUE (run_id, idx)
);

CREATE TABLE leases (
  task_id TEXT NOT NULL REFERENCES tasks(id),
  epoch BIGINT NOT NULL,
  factory_id TEXT NOT NULL,
  granted_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  released_at BIGINT,
  outcome TEXT,
  PRIMARY KEY (task_id, epoch)
);

CREATE TABLE factories (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  capabilities TEXT NOT NULL DEFAULT '[]',
  health TEXT NOT NULL DEFAULT '{}',
  load TEXT NOT NULL DEFAULT '{}',
  slots INTEGER NOT NULL DEFAULT 1,
  drain INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'enrolled',
  last_heartbeat_at BIGINT,
  created_at BIGINT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  task_id TEXT REFERENCES tasks(id),
  run_id TEXT,
  step_row_id TEXT,
  agent TEXT NOT NULL,
  agent_session_id TEXT,
  factory_id TEXT,
  workspace TEXT,
  runtime TEXT NOT NULL DEFAULT '{}',
  activity TEXT NOT NULL DEFAULT '{}',
  session_state TEXT NOT NULL DEFAULT 'not_started',
  session_reason TEXT,
  change_state TEXT NOT NULL DEFAULT 'none',
  detecting TEXT,
  launch_generation INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX sessions_task_idx ON sessions (task_id);

CREATE TABLE checkpoints (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks(id),
  seq INTEGER NOT NULL,
  ref TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  parent_sha TEXT,
  step TEXT,
  reason TEXT NOT NULL,
  files_changed INTEGER NOT NULL DEFAULT 0,
  lines_added INTEGER NOT NULL DEFAULT 0,
  lines_removed INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE (task_id, seq)
);

-- id: insertion order (nextval, taken before commit, so causally ordered).
-- seq: the global delivery order; assigned when the event is committed and sequenced
-- (inline on SQLite, by the sequencer on PostgreSQL). NULL = committed, not yet sequenced.
CREATE TABLE events (
  id SERIAL_PK,
  seq BIGINT UNIQUE,
  type TEXT NOT NULL,
  task_id TEXT,
  run_id TEXT,
  session_id TEXT,
  payload TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX events_task_idx ON events (task_id, seq);
CREATE INDEX events_unsequenced_idx ON events (id) WHERE seq IS NULL;

CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  task_id TEXT,
  run_id TEXT,
  session_id TEXT,
  kind TEXT NOT NULL,
  priority TEXT NOT NULL,
  state TEXT NOT NULL,
  title TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}',
  signature TEXT UNIQUE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  acknowledged_at BIGINT,
  resolved_at BIGINT,
  escalated_at BIGINT,
  rev INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX notifications_state_idx ON notifications (state, created_at);

CREATE TABLE usage (
  id TEXT PRIMARY KEY,
  project_id TEXT,
  task_id TEXT,
  run_id TEXT,
  step_row_id TEXT,
  session_id TEXT,
  tokens_in BIGINT NOT NULL DEFAULT 0,
  tokens_out BIGINT NOT NULL DEFAULT 0,
  cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
  at BIGINT NOT NULL
);
CREATE INDEX usage_task_idx ON usage (task_id);

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  factory_id TEXT,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT
);
`;
