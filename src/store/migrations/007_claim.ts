// Claims in batches (fleet-claim.ts). On PostgreSQL a claim is a call of gantry_claim(), which serves
// every claim request of a batch in one round trip and one commit, each request deciding exactly as a
// lone claim would: lock the factory row, count its seats in a fresh snapshot, take the best-ranked
// still-queued task of its group with SKIP LOCKED, record the lease and the `lease.granted` event.
// Requests are served in factory-id order, so concurrent batches lock factory rows in one order.
// Also: a partial index for queued tasks with a workspace affinity instead of a full one, and no second
// queue index (tasks_queue_idx leads with stage too): every index is paid on each write. The lease
// index carries the stage, so a claim counts a factory's seats from the index alone. And
// notifications.routed: the pipeline engine raises notifications inside its run transaction, where the
// project's channels are not known; they are written unrouted and the notification service routes them
// (queues their channel deliveries) on its next tick.
export const name = 'claim';
export const sql = `
CREATE INDEX tasks_queued_affinity_idx ON tasks (affinity_factory_id) WHERE stage = 'queued' AND affinity_factory_id IS NOT NULL;
DROP INDEX tasks_affinity_idx;
DROP INDEX tasks_stage_idx;
DROP INDEX tasks_lease_idx;
CREATE INDEX tasks_lease_idx ON tasks (lease_factory_id, stage);
ALTER TABLE notifications ADD COLUMN routed INTEGER NOT NULL DEFAULT 1;
CREATE INDEX notifications_unrouted_idx ON notifications (created_at) WHERE routed = 0;
`;

/** Run whole (not split on semicolons), PostgreSQL only. */
export const postgres = [
  `CREATE FUNCTION gantry_claim(fids text[], groups text[], ttls bigint[], stales bigint[])
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
    UPDATE factories SET last_claim_at = now_ms WHERE id = r.fid AND last_heartbeat_at IS NOT NULL
      RETURNING slots, drain, last_heartbeat_at INTO f;
    IF NOT FOUND THEN
      outcome := 'unregistered';
      RETURN NEXT;
      CONTINUE;
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
];
