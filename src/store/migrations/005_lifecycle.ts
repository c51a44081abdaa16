// Lifecycle: per-session input queue, persisted reaction memory, and the notification outbox.
export const name = 'lifecycle';
export const sql = `
CREATE INDEX sessions_state_idx ON sessions (session_state);

CREATE TABLE session_inputs (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id),
  seq INTEGER NOT NULL,
  text TEXT NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  delivered_at BIGINT,
  delivered_generation INTEGER,
  acknowledged_at BIGINT,
  failed_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1,
  UNIQUE (session_id, seq)
);
CREATE INDEX session_inputs_open_idx ON session_inputs (state, session_id);

CREATE TABLE session_reactions (
  session_id TEXT NOT NULL REFERENCES sessions(id),
  reaction TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_signature TEXT,
  first_at BIGINT,
  last_at BIGINT,
  escalated_at BIGINT,
  rev INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (session_id, reaction)
);
CREATE INDEX session_reactions_state_idx ON session_reactions (state);

ALTER TABLE notifications ADD COLUMN project_id TEXT;
CREATE INDEX notifications_session_idx ON notifications (session_id, kind);

CREATE TABLE notification_deliveries (
  id TEXT PRIMARY KEY,
  notification_id TEXT NOT NULL REFERENCES notifications(id),
  channel TEXT NOT NULL,
  reason TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1,
  UNIQUE (notification_id, channel, reason)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (state, next_at);
`;
