// PostgreSQL only, what a lease cycle costs the server (bench/fleet):
// - One sequencing pass (pg-sequencer.ts) is one call of gantry_sequence(), in autocommit: the
//   advisory lock that makes one sequencer at a time, the numbering and the NOTIFY, in one round trip
//   and with a plan kept by the function. It was two round trips and a multi-statement text planned
//   afresh on every pass (a third of the pass's server time under a steady stream of fleet writes).
// - gantry_claim(), gantry_patch() and gantry_release() do what they did (migrations 007, 011) in
//   fewer statements: the task UPDATE, its lease row, its event and its dependencies are one statement
//   (data-modifying CTEs) where they were four. Inside a function every statement pays its own start
//   and end (plan revalidation, relation locks, executor set-up, snapshot): at ×16 that overhead was
//   about half of a claim's time in the function. What each request decides, and in which snapshot,
//   is unchanged: the seat count still runs after the factory row lock, in a statement of its own
//   snapshot (now the grant's); the factory rows of a batch are locked by one statement at its start.
export const name = 'fleet_statements';
export const sql = '';

/** Run whole, PostgreSQL only. The lock id and channel are the sequencer's (pg-sequencer.ts, event-append.ts). */
export const postgres = [
  `CREATE FUNCTION gantry_sequence(lock_id bigint, batch integer, channel text) RETURNS integer
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_id);
  -- A statement after the lock: its snapshot sees every pass committed before this one.
  WITH base AS (SELECT COALESCE(MAX(seq), 0) AS b FROM events),
       pending AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM events WHERE seq IS NULL ORDER BY id LIMIT batch),
       upd AS (UPDATE events e SET seq = base.b + pending.rn FROM pending, base WHERE e.id = pending.id RETURNING e.seq)
  SELECT COUNT(*) INTO n FROM upd;
  IF n > 0 THEN
    PERFORM pg_notify(channel, '');
  END IF;
  RETURN n;
END
$fn$`,
  `CREATE OR REPLACE FUNCTION gantry_claim(fids text[], groups text[], ttls bigint[], stales bigint[])
  RETURNS TABLE (req integer, outcome text, task_id text, task text, deps text)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column
DECLARE
  r record;
  g text[];
  busy bigint;
  now_ms bigint;
BEGIN
  -- Every factory of the batch, locked once and in id order (concurrent batches lock factories in one
  -- order): the lock an UPDATE would take, without a new row version. Concurrent claims of a factory wait
  -- here, so each request's seat count below (in its grant statement: a snapshot taken after the lock)
  -- is exact. The loop reads the rows after the lock.
  PERFORM 1 FROM factories WHERE id = ANY(fids) AND last_heartbeat_at IS NOT NULL ORDER BY id FOR NO KEY UPDATE;
  FOR r IN
    SELECT (o - 1)::integer AS i, u.fid, groups[o] AS grp, ttls[o] AS ttl, stales[o] AS stale,
           f.id AS registered, f.slots, f.drain, f.last_heartbeat_at, f.last_claim_at
    FROM unnest(fids) WITH ORDINALITY AS u(fid, o)
    LEFT JOIN factories f ON f.id = u.fid AND f.last_heartbeat_at IS NOT NULL
    ORDER BY u.fid, o
  LOOP
    req := r.i;
    task_id := NULL;
    task := NULL;
    deps := NULL;
    now_ms := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
    IF r.registered IS NULL THEN
      outcome := 'unregistered';
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF r.last_claim_at IS NULL OR r.last_claim_at <= now_ms - 1000 THEN
      UPDATE factories SET last_claim_at = now_ms WHERE id = r.fid AND (last_claim_at IS NULL OR last_claim_at <= now_ms - 1000);
    END IF;
    IF r.drain <> 0 OR r.last_heartbeat_at < now_ms - r.stale THEN
      outcome := 'idle';
      RETURN NEXT;
      CONTINUE;
    END IF;
    g := string_to_array(r.grp, ' ');
    -- The seat count (in this statement's snapshot, taken after the lock above: exact), then the head
    -- first, by primary key (the kept window makes it almost always still free), its lease row and its
    -- event: one statement. The rest of the group, in rank order, only if the head was taken or is locked
    -- by a concurrent claim.
    WITH b AS (SELECT COUNT(*) AS n FROM tasks h WHERE h.lease_factory_id = r.fid AND h.stage IN ('assigned', 'building', 'review', 'testing')),
    t AS (
      UPDATE tasks SET stage = 'assigned', blocked_reason = NULL, lease_epoch = lease_epoch + 1, lease_factory_id = r.fid,
          lease_expires_at = now_ms + r.ttl, updated_at = now_ms, rev = rev + 1
        WHERE (SELECT b.n FROM b) < r.slots
          AND id = (SELECT x.id FROM tasks x
                    WHERE x.id = g[1] AND x.stage = 'queued'
                      AND NOT EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = x.id AND dt.stage <> 'shipped')
                    FOR UPDATE SKIP LOCKED)
          AND stage = 'queued'
        RETURNING *),
    l AS (INSERT INTO leases (task_id, epoch, factory_id, granted_at, expires_at) SELECT t.id, t.lease_epoch, r.fid, now_ms, t.lease_expires_at FROM t),
    e AS (INSERT INTO events (type, task_id, payload, at) SELECT 'lease.granted', t.id,
            json_build_object('factoryId', r.fid, 'epoch', t.lease_epoch, 'expiresAt', t.lease_expires_at, 'stage', 'assigned', 'attempts', t.attempts)::text, now_ms FROM t)
    SELECT b.n, t.id, row_to_json(t)::text, COALESCE((SELECT json_agg(d.depends_on ORDER BY d.depends_on) FROM task_deps d WHERE d.task_id = t.id)::text, '[]')
      INTO busy, task_id, task, deps FROM b LEFT JOIN t ON true;
    IF busy >= r.slots THEN
      outcome := 'idle';
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF task_id IS NULL AND cardinality(g) > 1 THEN
      WITH t AS (
        UPDATE tasks SET stage = 'assigned', blocked_reason = NULL, lease_epoch = lease_epoch + 1, lease_factory_id = r.fid,
            lease_expires_at = now_ms + r.ttl, updated_at = now_ms, rev = rev + 1
          WHERE id = (SELECT x.id FROM unnest(g[2:]) WITH ORDINALITY AS c(id, ord) JOIN tasks x ON x.id = c.id
                      WHERE x.stage = 'queued'
                        AND NOT EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = x.id AND dt.stage <> 'shipped')
                      ORDER BY c.ord LIMIT 1 FOR UPDATE OF x SKIP LOCKED)
            AND stage = 'queued'
          RETURNING *),
      l AS (INSERT INTO leases (task_id, epoch, factory_id, granted_at, expires_at) SELECT t.id, t.lease_epoch, r.fid, now_ms, t.lease_expires_at FROM t),
      e AS (INSERT INTO events (type, task_id, payload, at) SELECT 'lease.granted', t.id,
              json_build_object('factoryId', r.fid, 'epoch', t.lease_epoch, 'expiresAt', t.lease_expires_at, 'stage', 'assigned', 'attempts', t.attempts)::text, now_ms FROM t)
      SELECT t.id, row_to_json(t)::text, COALESCE((SELECT json_agg(d.depends_on ORDER BY d.depends_on) FROM task_deps d WHERE d.task_id = t.id)::text, '[]')
        INTO task_id, task, deps FROM t;
    END IF;
    IF task_id IS NULL THEN
      outcome := 'missed';
      RETURN NEXT;
      CONTINUE;
    END IF;
    outcome := 'granted';
    RETURN NEXT;
  END LOOP;
END
$fn$`,
  `CREATE OR REPLACE FUNCTION gantry_patch(ids text[], epochs bigint[], holders text[], stages text[], checkpoints text[], payloads text[])
  RETURNS TABLE (req integer, task text, deps text)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column
DECLARE
  r record;
  now_ms bigint;
BEGIN
  FOR r IN
    SELECT (o - 1)::integer AS i, tid, epochs[o] AS epoch, holders[o] AS holder, stages[o] AS stage, checkpoints[o] AS cp, payloads[o] AS payload
    FROM unnest(ids) WITH ORDINALITY AS u(tid, o)
    ORDER BY tid, o
  LOOP
    now_ms := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
    -- The fence of a lone PATCH (holder NULL: an operator acting by epoch alone), its event and the
    -- task's dependencies: one statement.
    WITH t AS (
      UPDATE tasks SET stage = r.stage, checkpoint = COALESCE(r.cp, checkpoint), updated_at = now_ms, rev = rev + 1
        WHERE id = r.tid AND lease_epoch = r.epoch AND (r.holder IS NULL OR lease_factory_id = r.holder)
          AND stage IN ('assigned', 'building', 'review', 'testing') AND lease_expires_at > now_ms
        RETURNING *),
    e AS (INSERT INTO events (type, task_id, payload, at)
            SELECT 'task.stage_changed', t.id, (r.payload::jsonb || jsonb_build_object('factoryId', t.lease_factory_id))::text, now_ms FROM t)
    SELECT row_to_json(t)::text, COALESCE((SELECT json_agg(d.depends_on ORDER BY d.depends_on) FROM task_deps d WHERE d.task_id = t.id)::text, '[]')
      INTO task, deps FROM t;
    IF NOT FOUND THEN
      CONTINUE;
    END IF;
    req := r.i;
    RETURN NEXT;
  END LOOP;
END
$fn$`,
  `CREATE OR REPLACE FUNCTION gantry_release(ids text[], epochs bigint[], holders text[], outcomes text[], checkpoints text[], kinds text[], messages text[], reports text[])
  RETURNS TABLE (req integer, task text, deps text, unblocked text)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $fn$
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
    IF r.outcome NOT IN ('done', 'parked', 'failed', 'abandoned') THEN
      RAISE EXCEPTION 'unknown release outcome %', r.outcome;
    END IF;
    -- What each outcome does to the task row (fleet-leases.ts RELEASE_SET), behind the fence of a lone
    -- release; \`abandoned\` goes back to the queue (invariant 5): dead letter past max_attempts, blocked if
    -- a dependency regressed.
    UPDATE tasks SET checkpoint = COALESCE(r.cp, checkpoint),
        stage = CASE r.outcome WHEN 'done' THEN 'shipped' WHEN 'parked' THEN 'blocked' WHEN 'failed' THEN 'failed'
                  ELSE CASE WHEN attempts + 1 >= max_attempts THEN 'dead_letter'
                            WHEN EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = tasks.id AND dt.stage <> 'shipped') THEN 'blocked'
                            ELSE 'queued' END END,
        blocked_reason = CASE r.outcome WHEN 'done' THEN NULL WHEN 'parked' THEN 'awaiting_human' WHEN 'failed' THEN blocked_reason
                  ELSE CASE WHEN attempts + 1 >= max_attempts THEN NULL
                            WHEN EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = tasks.id AND dt.stage <> 'shipped') THEN 'dependencies'
                            ELSE NULL END END,
        affinity_factory_id = CASE r.outcome WHEN 'done' THEN NULL WHEN 'failed' THEN affinity_factory_id ELSE lease_factory_id END,
        attempts = CASE r.outcome WHEN 'abandoned' THEN attempts + 1 ELSE attempts END,
        queued_at = CASE r.outcome WHEN 'abandoned' THEN now_ms ELSE queued_at END,
        failure_kind = CASE r.outcome WHEN 'failed' THEN r.kind ELSE failure_kind END,
        failure_message = CASE r.outcome WHEN 'failed' THEN r.message ELSE failure_message END,
        lease_factory_id = NULL, lease_expires_at = NULL, updated_at = now_ms, rev = rev + 1
      WHERE id = r.tid AND lease_epoch = r.epoch AND (r.holder IS NULL OR lease_factory_id = r.holder)
        AND stage IN ('assigned', 'building', 'review', 'testing') AND lease_expires_at > now_ms
      RETURNING * INTO t;
    IF NOT FOUND THEN
      CONTINUE;
    END IF;
    -- The lease row, the event, and (a ship) the dependents whose last unmet dependency this was back in
    -- the queue with their events, in one statement, which sees the release above. The events are one
    -- INSERT, so lease.released comes first in the log.
    WITH l AS (UPDATE leases SET released_at = now_ms, outcome = r.outcome, report = r.report WHERE task_id = t.id AND epoch = r.epoch),
    d AS (UPDATE tasks x SET stage = 'queued', blocked_reason = NULL, queued_at = now_ms, updated_at = now_ms, rev = x.rev + 1
          WHERE t.stage = 'shipped' AND x.stage = 'blocked' AND x.blocked_reason = 'dependencies'
            AND x.id IN (SELECT dep.task_id FROM task_deps dep WHERE dep.depends_on = t.id)
            AND NOT EXISTS (SELECT 1 FROM task_deps dd JOIN tasks t2 ON t2.id = dd.depends_on WHERE dd.task_id = x.id AND t2.stage <> 'shipped')
          RETURNING x.id),
    e AS (INSERT INTO events (type, task_id, payload, at)
          SELECT v.type, v.task_id, v.payload, now_ms FROM (
            SELECT 0 AS k, 'lease.released' AS type, t.id AS task_id,
              jsonb_build_object('factoryId', COALESCE(r.holder, t.affinity_factory_id), 'epoch', r.epoch, 'outcome', r.outcome, 'stage', t.stage, 'report', r.report::jsonb)::text AS payload
            UNION ALL
            SELECT 1, 'task.unblocked', d.id, jsonb_build_object('stage', 'queued', 'after', t.id)::text FROM d
          ) v ORDER BY v.k, v.task_id)
    SELECT COALESCE((SELECT json_agg(d.id ORDER BY d.id) FROM d)::text, '[]'),
           COALESCE((SELECT json_agg(x.depends_on ORDER BY x.depends_on) FROM task_deps x WHERE x.task_id = t.id)::text, '[]')
      INTO unblocked, deps;
    req := r.i;
    task := row_to_json(t)::text;
    RETURN NEXT;
  END LOOP;
END
$fn$`,
];
