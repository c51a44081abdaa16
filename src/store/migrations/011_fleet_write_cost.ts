// What a lease cycle (claim → fenced PATCH → release) writes, cut to what it needs (bench/fleet).
// - A claim locks its factory row instead of rewriting it: gantry_claim() wrote last_claim_at on every
//   claim, a new row version per claim (WAL, dead tuples on a hot 16-row table). The lock alone orders
//   concurrent claims of one factory, as the UPDATE did; last_claim_at is now kept to the second (written
//   when a claim finds it a second or more old) — it is shown to operators, never decides anything.
// - Indexes only rows that their readers look for. PostgreSQL writes an entry into every index of the
//   table on each update that changes an indexed column (the stage always does), so a released task no
//   longer gets entries in the lease indexes (the seat count, the stale-factory reaper and the expiry
//   reaper all look for set values), and leases_factory_idx, which no query reads, is gone.
// - PostgreSQL only: an event is inserted unsequenced and rewritten once by the sequencer; until then
//   no reader can see it (every read filters on seq), so its seq and task indexes skip the NULL row.
// - PostgreSQL only: gantry_patch() and gantry_release() serve a batch of fenced PATCHes / releases in
//   one round trip and one commit (as gantry_claim() serves claims). Each request is the same fenced
//   UPDATE as a lone call, with its event in the same transaction; one that matches nothing (stale, or
//   a replay) returns no row and the caller explains it. Rows are taken in task-id order, so batches
//   lock tasks in one order.
export const name = 'fleet_write_cost';
export const sql = `
DROP INDEX tasks_lease_idx;
CREATE INDEX tasks_lease_idx ON tasks (lease_factory_id, stage) WHERE lease_factory_id IS NOT NULL;
DROP INDEX tasks_lease_expiry_idx;
CREATE INDEX tasks_lease_expiry_idx ON tasks (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
DROP INDEX leases_factory_idx;
`;

/** Run whole (not split on semicolons), PostgreSQL only. */
export const postgres = [
  'ALTER TABLE events DROP CONSTRAINT events_seq_key',
  'CREATE UNIQUE INDEX events_seq_key ON events (seq) WHERE seq IS NOT NULL',
  'DROP INDEX events_task_idx',
  'CREATE INDEX events_task_idx ON events (task_id, seq) WHERE seq IS NOT NULL',
  `CREATE OR REPLACE FUNCTION gantry_claim(fids text[], groups text[], ttls bigint[], stales bigint[])
  RETURNS TABLE (req integer, outcome text, task_id text, task text, deps text)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  r record;
  f record;
  t record;
  g text[];
  busy bigint;
  now_ms bigint;
BEGIN
  FOR r IN
    SELECT (o - 1)::integer AS i, fid, groups[o] AS grp, ttls[o] AS ttl, stales[o] AS stale
    FROM unnest(fids) WITH ORDINALITY AS u(fid, o)
    ORDER BY fid, o
  LOOP
    req := r.i;
    task_id := NULL;
    task := NULL;
    deps := NULL;
    now_ms := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
    -- The lock an UPDATE would take, without a new row version: concurrent claims of this factory wait
    -- here, so the seat count below is exact.
    SELECT slots, drain, last_heartbeat_at, last_claim_at INTO f FROM factories
      WHERE id = r.fid AND last_heartbeat_at IS NOT NULL FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      outcome := 'unregistered';
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF f.last_claim_at IS NULL OR f.last_claim_at <= now_ms - 1000 THEN
      UPDATE factories SET last_claim_at = now_ms WHERE id = r.fid;
    END IF;
    IF f.drain <> 0 OR f.last_heartbeat_at < now_ms - r.stale THEN
      outcome := 'idle';
      RETURN NEXT;
      CONTINUE;
    END IF;
    SELECT COUNT(*) INTO busy FROM tasks h WHERE h.lease_factory_id = r.fid AND h.stage IN ('assigned', 'building', 'review', 'testing');
    IF busy >= f.slots THEN
      outcome := 'idle';
      RETURN NEXT;
      CONTINUE;
    END IF;
    g := string_to_array(r.grp, ' ');
    -- The head first, by primary key (the kept window makes it almost always still free); the rest of
    -- the group, in rank order, only if it was taken or is locked by a concurrent claim.
    UPDATE tasks SET stage = 'assigned', blocked_reason = NULL, lease_epoch = lease_epoch + 1, lease_factory_id = r.fid,
        lease_expires_at = now_ms + r.ttl, updated_at = now_ms, rev = rev + 1
      WHERE id = (SELECT x.id FROM tasks x
                  WHERE x.id = g[1] AND x.stage = 'queued'
                    AND NOT EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = x.id AND dt.stage <> 'shipped')
                  FOR UPDATE SKIP LOCKED)
        AND stage = 'queued'
      RETURNING * INTO t;
    IF NOT FOUND AND cardinality(g) > 1 THEN
      UPDATE tasks SET stage = 'assigned', blocked_reason = NULL, lease_epoch = lease_epoch + 1, lease_factory_id = r.fid,
          lease_expires_at = now_ms + r.ttl, updated_at = now_ms, rev = rev + 1
        WHERE id = (SELECT x.id FROM unnest(g[2:]) WITH ORDINALITY AS c(id, ord) JOIN tasks x ON x.id = c.id
                    WHERE x.stage = 'queued'
                      AND NOT EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = x.id AND dt.stage <> 'shipped')
                    ORDER BY c.ord LIMIT 1 FOR UPDATE OF x SKIP LOCKED)
          AND stage = 'queued'
        RETURNING * INTO t;
    END IF;
    IF NOT FOUND THEN
      outcome := 'missed';
      RETURN NEXT;
      CONTINUE;
    END IF;
    INSERT INTO leases (task_id, epoch, factory_id, granted_at, expires_at) VALUES (t.id, t.lease_epoch, r.fid, now_ms, t.lease_expires_at);
    INSERT INTO events (type, task_id, payload, at) VALUES ('lease.granted', t.id,
      json_build_object('factoryId', r.fid, 'epoch', t.lease_epoch, 'expiresAt', t.lease_expires_at, 'stage', 'assigned', 'attempts', t.attempts)::text, now_ms);
    outcome := 'granted';
    task_id := t.id;
    task := row_to_json(t)::text;
    deps := COALESCE((SELECT json_agg(d.depends_on ORDER BY d.depends_on) FROM task_deps d WHERE d.task_id = t.id)::text, '[]');
    RETURN NEXT;
  END LOOP;
END
$fn$`,
  `CREATE FUNCTION gantry_patch(ids text[], epochs bigint[], holders text[], stages text[], checkpoints text[], payloads text[])
  RETURNS TABLE (req integer, task text, deps text)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  r record;
  t record;
  now_ms bigint;
BEGIN
  FOR r IN
    SELECT (o - 1)::integer AS i, tid, epochs[o] AS epoch, holders[o] AS holder, stages[o] AS stage, checkpoints[o] AS cp, payloads[o] AS payload
    FROM unnest(ids) WITH ORDINALITY AS u(tid, o)
    ORDER BY tid, o
  LOOP
    now_ms := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
    -- The fence of a lone PATCH (holder NULL: an operator acting by epoch alone).
    UPDATE tasks SET stage = r.stage, checkpoint = COALESCE(r.cp, checkpoint), updated_at = now_ms, rev = rev + 1
      WHERE id = r.tid AND lease_epoch = r.epoch AND (r.holder IS NULL OR lease_factory_id = r.holder)
        AND stage IN ('assigned', 'building', 'review', 'testing') AND lease_expires_at > now_ms
      RETURNING * INTO t;
    IF NOT FOUND THEN
      CONTINUE;
    END IF;
    INSERT INTO events (type, task_id, payload, at)
      VALUES ('task.stage_changed', t.id, (r.payload::jsonb || jsonb_build_object('factoryId', t.lease_factory_id))::text, now_ms);
    req := r.i;
    task := row_to_json(t)::text;
    deps := COALESCE((SELECT json_agg(d.depends_on ORDER BY d.depends_on) FROM task_deps d WHERE d.task_id = t.id)::text, '[]');
    RETURN NEXT;
  END LOOP;
END
$fn$`,
  `CREATE FUNCTION gantry_release(ids text[], epochs bigint[], holders text[], outcomes text[], checkpoints text[], kinds text[], messages text[], reports text[])
  RETURNS TABLE (req integer, task text, deps text, unblocked text)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  r record;
  t record;
  now_ms bigint;
BEGIN
  FOR r IN
    SELECT (o - 1)::integer AS i, tid, epochs[o] AS epoch, holders[o] AS holder, outcomes[o] AS outcome, checkpoints[o] AS cp,
           kinds[o] AS kind, messages[o] AS message, reports[o] AS report
    FROM unnest(ids) WITH ORDINALITY AS u(tid, o)
    ORDER BY tid, o
  LOOP
    now_ms := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
    -- What each outcome does to the task row (fleet-leases.ts RELEASE_SET), behind the fence of a lone release.
    IF r.outcome = 'done' THEN
      UPDATE tasks SET checkpoint = COALESCE(r.cp, checkpoint), stage = 'shipped', blocked_reason = NULL, affinity_factory_id = NULL,
          lease_factory_id = NULL, lease_expires_at = NULL, updated_at = now_ms, rev = rev + 1
        WHERE id = r.tid AND lease_epoch = r.epoch AND (r.holder IS NULL OR lease_factory_id = r.holder)
          AND stage IN ('assigned', 'building', 'review', 'testing') AND lease_expires_at > now_ms
        RETURNING * INTO t;
    ELSIF r.outcome = 'parked' THEN
      UPDATE tasks SET checkpoint = COALESCE(r.cp, checkpoint), stage = 'blocked', blocked_reason = 'awaiting_human',
          affinity_factory_id = lease_factory_id, lease_factory_id = NULL, lease_expires_at = NULL, updated_at = now_ms, rev = rev + 1
        WHERE id = r.tid AND lease_epoch = r.epoch AND (r.holder IS NULL OR lease_factory_id = r.holder)
          AND stage IN ('assigned', 'building', 'review', 'testing') AND lease_expires_at > now_ms
        RETURNING * INTO t;
    ELSIF r.outcome = 'failed' THEN
      UPDATE tasks SET checkpoint = COALESCE(r.cp, checkpoint), stage = 'failed', lease_factory_id = NULL, lease_expires_at = NULL,
          updated_at = now_ms, rev = rev + 1, failure_kind = r.kind, failure_message = r.message
        WHERE id = r.tid AND lease_epoch = r.epoch AND (r.holder IS NULL OR lease_factory_id = r.holder)
          AND stage IN ('assigned', 'building', 'review', 'testing') AND lease_expires_at > now_ms
        RETURNING * INTO t;
    ELSIF r.outcome = 'abandoned' THEN
      -- Back to the queue (invariant 5): dead letter past max_attempts, blocked if a dependency regressed.
      UPDATE tasks SET checkpoint = COALESCE(r.cp, checkpoint), affinity_factory_id = lease_factory_id,
          stage = CASE WHEN attempts + 1 >= max_attempts THEN 'dead_letter'
                       WHEN EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = tasks.id AND dt.stage <> 'shipped') THEN 'blocked'
                       ELSE 'queued' END,
          blocked_reason = CASE WHEN attempts + 1 >= max_attempts THEN NULL
                       WHEN EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = tasks.id AND dt.stage <> 'shipped') THEN 'dependencies'
                       ELSE NULL END,
          attempts = attempts + 1, lease_factory_id = NULL, lease_expires_at = NULL, queued_at = now_ms, updated_at = now_ms, rev = rev + 1
        WHERE id = r.tid AND lease_epoch = r.epoch AND (r.holder IS NULL OR lease_factory_id = r.holder)
          AND stage IN ('assigned', 'building', 'review', 'testing') AND lease_expires_at > now_ms
        RETURNING * INTO t;
    ELSE
      RAISE EXCEPTION 'unknown release outcome %', r.outcome;
    END IF;
    IF NOT FOUND THEN
      CONTINUE;
    END IF;
    UPDATE leases SET released_at = now_ms, outcome = r.outcome, report = r.report WHERE task_id = t.id AND epoch = r.epoch;
    INSERT INTO events (type, task_id, payload, at) VALUES ('lease.released', t.id,
      jsonb_build_object('factoryId', COALESCE(r.holder, t.affinity_factory_id), 'epoch', r.epoch, 'outcome', r.outcome, 'stage', t.stage, 'report', r.report::jsonb)::text,
      now_ms);
    unblocked := '[]';
    IF t.stage = 'shipped' THEN
      -- Dependents whose last unmet dependency this was go back to the queue, each with its event.
      WITH d AS (UPDATE tasks x SET stage = 'queued', blocked_reason = NULL, queued_at = now_ms, updated_at = now_ms, rev = x.rev + 1
                 WHERE x.stage = 'blocked' AND x.blocked_reason = 'dependencies'
                   AND x.id IN (SELECT dep.task_id FROM task_deps dep WHERE dep.depends_on = t.id)
                   AND NOT EXISTS (SELECT 1 FROM task_deps dd JOIN tasks t2 ON t2.id = dd.depends_on WHERE dd.task_id = x.id AND t2.stage <> 'shipped')
                 RETURNING x.id),
           e AS (INSERT INTO events (type, task_id, payload, at)
                 SELECT 'task.unblocked', d.id, jsonb_build_object('stage', 'queued', 'after', t.id)::text, now_ms FROM d ORDER BY d.id)
      SELECT COALESCE(json_agg(d.id ORDER BY d.id)::text, '[]') INTO unblocked FROM d;
    END IF;
    req := r.i;
    task := row_to_json(t)::text;
    deps := COALESCE((SELECT json_agg(x.depends_on ORDER BY x.depends_on) FROM task_deps x WHERE x.task_id = t.id)::text, '[]');
    RETURN NEXT;
  END LOOP;
END
$fn$`,
];
