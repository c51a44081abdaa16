// PostgreSQL only, what a release costs the server (bench/fleet): gantry_release() ran two statements
// per request — the fenced task UPDATE, then the lease row, the event and the unblocked dependents —
// and every statement inside a function pays its own start and end (plan revalidation, relation locks,
// executor set-up and shut-down, snapshot). The task UPDATE, its lease row and its lease.released event
// are now one statement (data-modifying CTEs). The dependents' unblocking keeps a statement of its own
// — it must see the release (its snapshot is taken after it, as before) — and runs only for a ship of a
// task that has dependents. The log's order is unchanged: lease.released, then the task.unblocked events
// in task-id order. What each outcome does to the row is migration 012's, unchanged.
export const name = 'release_one_statement';
export const sql = '';

/** Run whole, PostgreSQL only. */
export const postgres = [
  `CREATE OR REPLACE FUNCTION gantry_release(ids text[], epochs bigint[], holders text[], outcomes text[], checkpoints text[], kinds text[], messages text[], reports text[])
  RETURNS TABLE (req integer, task text, deps text, unblocked text)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column
DECLARE
  r record;
  now_ms bigint;
  new_stage text;
  has_dependents boolean;
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
    -- a dependency regressed. With it, in the same statement, the lease row and the lease.released event.
    WITH t AS (
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
        RETURNING *),
    l AS (UPDATE leases SET released_at = now_ms, outcome = r.outcome, report = r.report
          WHERE task_id = (SELECT t.id FROM t) AND epoch = r.epoch),
    e AS (INSERT INTO events (type, task_id, payload, at)
          SELECT 'lease.released', t.id,
            jsonb_build_object('factoryId', COALESCE(r.holder, t.affinity_factory_id), 'epoch', r.epoch, 'outcome', r.outcome, 'stage', t.stage, 'report', r.report::jsonb)::text,
            now_ms
          FROM t)
    SELECT row_to_json(t)::text, t.stage,
           COALESCE((SELECT json_agg(x.depends_on ORDER BY x.depends_on) FROM task_deps x WHERE x.task_id = t.id)::text, '[]'),
           t.stage = 'shipped' AND EXISTS (SELECT 1 FROM task_deps dep WHERE dep.depends_on = t.id)
      INTO task, new_stage, deps, has_dependents FROM t;
    IF NOT FOUND THEN
      CONTINUE;
    END IF;
    unblocked := '[]';
    IF has_dependents THEN
      -- A ship: the dependents whose last unmet dependency this was, back in the queue with their events,
      -- in a statement of its own, which sees the release above.
      WITH d AS (UPDATE tasks x SET stage = 'queued', blocked_reason = NULL, queued_at = now_ms, updated_at = now_ms, rev = x.rev + 1
            WHERE x.stage = 'blocked' AND x.blocked_reason = 'dependencies'
              AND x.id IN (SELECT dep.task_id FROM task_deps dep WHERE dep.depends_on = r.tid)
              AND NOT EXISTS (SELECT 1 FROM task_deps dd JOIN tasks t2 ON t2.id = dd.depends_on WHERE dd.task_id = x.id AND t2.stage <> 'shipped')
            RETURNING x.id),
      e AS (INSERT INTO events (type, task_id, payload, at)
            SELECT 'task.unblocked', d.id, jsonb_build_object('stage', 'queued', 'after', r.tid)::text, now_ms FROM d ORDER BY d.id)
      SELECT COALESCE((SELECT json_agg(d.id ORDER BY d.id) FROM d)::text, '[]') INTO unblocked;
    END IF;
    req := r.i;
    RETURN NEXT;
  END LOOP;
END
$fn$`,
];
