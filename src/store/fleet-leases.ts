// Lease ownership over the tasks table (DESIGN §5 invariants 1–5). Every decision is the WHERE clause
// of one UPDATE: a claim is `stage='queued'` + epoch+1, every fenced call matches epoch, holder,
// a leased stage and an unexpired lease on the store clock. Zero rows changed → stale_epoch (409).
import { conflict, GantryError, notFound } from '../domain/errors.js';
import type { CheckpointPointer, Stage, Task } from '../domain/task.js';
import type { Row } from '../ports/sql.js';
import type { Store, WriteTx } from '../ports/store.js';
import type {
  Candidate,
  ClaimRequest,
  Grant,
  LeaseRef,
  OperatorAction,
  Reclaimed,
  ReleaseOutcome,
  ReleaseRequest,
  ReleaseResult,
} from '../ports/fleet.js';
import { json, toTask } from './rows.js';
import { unblockDependents } from './task-repo.js';
import { LEASED_SQL, REQUEUE_SET_SQL, UNMET_DEPS_SQL } from './fleet-rows.js';
import { WriteCombiner } from './fleet-batch.js';

const WINDOW = 32;
/** Ranked candidates offered to one claim statement. */
const GROUP = 16;

/** These units refuse (throw a GantryError) only from their first, deciding statement — before any write. */
const ATOMIC = { atomicOnThrow: true };

function fenceSql(ref: LeaseRef): { sql: string; params: Array<string | number> } {
  const holder = ref.factoryId === null ? '' : ' AND lease_factory_id = ?';
  return {
    sql: `id = ? AND lease_epoch = ?${holder} AND stage IN ${LEASED_SQL} AND lease_expires_at > NOW_MS`,
    params: ref.factoryId === null ? [ref.taskId, ref.epoch] : [ref.taskId, ref.epoch, ref.factoryId],
  };
}

/** Explains (never decides) why a fenced statement matched nothing. */
async function fenceError(tx: WriteTx, ref: LeaseRef): Promise<GantryError> {
  const cur = await tx.get('SELECT lease_epoch, lease_factory_id, stage, lease_expires_at, NOW_MS AS now FROM tasks WHERE id = ?', [ref.taskId]);
  if (!cur) return notFound('task', ref.taskId);
  const epoch = Number(cur.lease_epoch);
  const why =
    epoch !== ref.epoch
      ? `lease epoch is now ${epoch}`
      : cur.lease_factory_id === null
        ? `the lease was released (stage ${String(cur.stage)})`
        : ref.factoryId !== null && cur.lease_factory_id !== ref.factoryId
          ? 'another factory holds it'
          : `the lease expired`;
  return new GantryError('stale_epoch', `stale lease on ${ref.taskId} (epoch ${ref.epoch}): ${why}`, {
    hint: 'stop working on this task: keep the local result quarantined and never push or merge it',
    details: { currentEpoch: epoch, stage: String(cur.stage) },
  });
}

const toCandidate = (r: Row): Candidate => ({
  id: String(r.id),
  projectId: String(r.project_id),
  priority: Number(r.priority),
  queuedAt: Number(r.queued_at),
  attempts: Number(r.attempts),
  capabilities: json<string[]>(r.capabilities, []),
  affinityFactoryId: r.affinity_factory_id === null ? null : String(r.affinity_factory_id),
});

const CANDIDATE_COLS = 'id, project_id, priority, queued_at, attempts, capabilities, affinity_factory_id';

export class FleetLeases {
  private readonly combiner: WriteCombiner;

  constructor(private readonly store: Store) {
    this.combiner = new WriteCombiner(store, store.db.dialect === 'postgres' ? 4 : 1);
  }

  async claim(req: ClaimRequest): Promise<Grant | null> {
    const granted = await this.combiner.run(async (tx) => {
      // Lock the factory row first: seat accounting for one factory is serialized, and the
      // statements after it see every grant that committed before.
      // (`busy` is a fast path only: the claim UPDATE re-checks seats after the lock, in its own snapshot.)
      const f = await tx.get(
        `UPDATE factories SET last_claim_at = NOW_MS WHERE id = ? AND last_heartbeat_at IS NOT NULL
         RETURNING slots, drain, last_heartbeat_at, NOW_MS AS now,
           (SELECT COUNT(*) FROM tasks WHERE lease_factory_id = ? AND stage IN ${LEASED_SQL}) AS busy`,
        [req.factoryId, req.factoryId],
      );
      if (!f) {
        throw new GantryError('conflict', `factory ${req.factoryId} has not registered`, {
          hint: 'send POST /api/fleet/factories/heartbeat first: registration is the first heartbeat',
        });
      }
      const now = Number(f.now);
      if (Number(f.drain) === 1 || Number(f.last_heartbeat_at) < now - req.staleMs) return null;
      const slots = Number(f.slots);
      if (Number(f.busy) >= slots) return null;

      const tried = new Set<string>();
      const attempt = async (rows: Row[]): Promise<Row | null> => {
        const fresh = new Map(rows.map(toCandidate).filter((c) => !tried.has(c.id)).map((c) => [c.id, c]));
        const ranked = req.rank([...fresh.values()], now);
        for (let i = 0; i < ranked.length; i += GROUP) {
          const group = ranked.slice(i, i + GROUP);
          for (const id of group) tried.add(id);
          // The arbiter (invariant 1): one conditional UPDATE takes the best-ranked task of the group that is
          // still queued and, on PostgreSQL, not being decided by another claimer right now (SKIP LOCKED),
          // so concurrent claimers walk past each other instead of queueing or retrying row by row.
          const marks = group.map(() => '?').join(', ');
          const order = `CASE id ${group.map((_, k) => `WHEN ? THEN ${k}`).join(' ')} END`;
          const row = await tx.get(
            `UPDATE tasks SET stage = 'assigned', blocked_reason = NULL, lease_epoch = lease_epoch + 1, lease_factory_id = ?,
               lease_expires_at = NOW_MS + ?, updated_at = NOW_MS, rev = rev + 1
             WHERE id = (SELECT id FROM tasks WHERE id IN (${marks}) AND stage = 'queued' AND NOT ${UNMET_DEPS_SQL}
                         ORDER BY ${order} LIMIT 1 SKIP_LOCKED)
               AND stage = 'queued'
               AND (SELECT COUNT(*) FROM tasks h WHERE h.lease_factory_id = ? AND h.stage IN ${LEASED_SQL}) < ?
             RETURNING *`,
            [req.factoryId, req.ttlMs, ...group, ...group, req.factoryId, slots],
          );
          if (row) return row;
        }
        return null;
      };

      const both = await tx.all(
        `SELECT * FROM (SELECT ${CANDIDATE_COLS}, 0 AS affine FROM tasks WHERE stage = 'queued' ORDER BY priority DESC, queued_at, id LIMIT ?) w
         UNION ALL
         SELECT * FROM (SELECT ${CANDIDATE_COLS}, 1 AS affine FROM tasks WHERE stage = 'queued' AND affinity_factory_id = ? LIMIT 8) a`,
        [WINDOW, req.factoryId],
      );
      const window = both.filter((r) => Number(r.affine) === 0);
      let row = await attempt(both);
      if (!row && window.length === WINDOW) {
        // The window held nothing this factory can take; look past it so capability-bound work cannot starve others.
        const generic = await tx.all(
          `SELECT ${CANDIDATE_COLS} FROM tasks WHERE stage = 'queued' AND capabilities = '[]' ORDER BY priority DESC, queued_at, id LIMIT ?`,
          [WINDOW],
        );
        row = await attempt(generic);
        if (!row) {
          const specific = await tx.all(
            `SELECT ${CANDIDATE_COLS} FROM tasks WHERE stage = 'queued' AND capabilities <> '[]' ORDER BY priority DESC, queued_at, id LIMIT ?`,
            [WINDOW * 8],
          );
          row = await attempt(specific);
        }
      }
      if (!row) return null;
      const epoch = Number(row.lease_epoch);
      const expiresAt = Number(row.lease_expires_at);
      await tx.run('INSERT INTO leases (task_id, epoch, factory_id, granted_at, expires_at) VALUES (?, ?, ?, NOW_MS, ?)', [
        String(row.id),
        epoch,
        req.factoryId,
        expiresAt,
      ]);
      tx.emit({
        type: 'lease.granted',
        taskId: String(row.id),
        payload: { factoryId: req.factoryId, epoch, expiresAt, stage: 'assigned', attempts: Number(row.attempts) },
      });
      return row;
    }, ATOMIC);
    if (!granted) return null;
    const task = toTask(granted, await this.deps(String(granted.id)));
    return { task, leaseEpoch: task.leaseEpoch, leaseExpiresAt: task.leaseExpiresAt ?? 0 };
  }

  async patch(ref: LeaseRef, change: { stage: Stage; checkpoint: CheckpointPointer | null }): Promise<Task> {
    const f = fenceSql(ref);
    const row = await this.combiner.run(async (tx) => {
      const r = await tx.get(
        `UPDATE tasks SET stage = ?, checkpoint = COALESCE(?, checkpoint), updated_at = NOW_MS, rev = rev + 1 WHERE ${f.sql} RETURNING *`,
        [change.stage, change.checkpoint ? JSON.stringify(change.checkpoint) : null, ...f.params],
      );
      if (!r) throw await fenceError(tx, ref);
      tx.emit({
        type: 'task.stage_changed',
        taskId: ref.taskId,
        payload: { stage: change.stage, epoch: ref.epoch, factoryId: r.lease_factory_id, ...(change.checkpoint ? { checkpoint: change.checkpoint } : {}) },
      });
      return r;
    }, ATOMIC);
    return toTask(row, await this.deps(ref.taskId));
  }

  async renew(ref: LeaseRef, ttlMs: number): Promise<{ leaseEpoch: number; leaseExpiresAt: number }> {
    const f = fenceSql(ref);
    return this.combiner.run(async (tx) => {
      const r = await tx.get(
        `UPDATE tasks SET lease_expires_at = NOW_MS + ?, updated_at = NOW_MS, rev = rev + 1 WHERE ${f.sql} RETURNING lease_epoch, lease_expires_at`,
        [ttlMs, ...f.params],
      );
      if (!r) throw await fenceError(tx, ref);
      const expiresAt = Number(r.lease_expires_at);
      await tx.run('UPDATE leases SET expires_at = ?, renewed_at = NOW_MS WHERE task_id = ? AND epoch = ?', [expiresAt, ref.taskId, ref.epoch]);
      tx.emit({ type: 'lease.renewed', taskId: ref.taskId, payload: { epoch: ref.epoch, expiresAt } });
      return { leaseEpoch: Number(r.lease_epoch), leaseExpiresAt: expiresAt };
    }, ATOMIC);
  }

  async release(ref: LeaseRef, req: ReleaseRequest): Promise<ReleaseResult> {
    const f = fenceSql(ref);
    const outcome: ReleaseOutcome = req.outcome ?? 'abandoned';
    const set: Record<ReleaseOutcome, string> = {
      done: "stage = 'shipped', blocked_reason = NULL, affinity_factory_id = NULL, lease_factory_id = NULL, lease_expires_at = NULL, updated_at = NOW_MS, rev = rev + 1",
      parked:
        "stage = 'blocked', blocked_reason = 'awaiting_human', affinity_factory_id = lease_factory_id, lease_factory_id = NULL, lease_expires_at = NULL, updated_at = NOW_MS, rev = rev + 1",
      failed: "stage = 'failed', lease_factory_id = NULL, lease_expires_at = NULL, updated_at = NOW_MS, rev = rev + 1",
      abandoned: `affinity_factory_id = lease_factory_id, ${REQUEUE_SET_SQL}`,
    };
    const out = await this.combiner.run(async (tx) => {
      const r = await tx.get(`UPDATE tasks SET checkpoint = COALESCE(?, checkpoint), ${set[outcome]} WHERE ${f.sql} RETURNING *`, [
        req.checkpoint ? JSON.stringify(req.checkpoint) : null,
        ...f.params,
      ]);
      if (!r) {
        // A retried release (the first response was lost) must not read as fenced: same lease, same outcome.
        const prev = await tx.get<{ outcome: string | null }>(
          `SELECT outcome FROM leases WHERE task_id = ? AND epoch = ? AND released_at IS NOT NULL${ref.factoryId === null ? '' : ' AND factory_id = ?'}`,
          ref.factoryId === null ? [ref.taskId, ref.epoch] : [ref.taskId, ref.epoch, ref.factoryId],
        );
        if (prev && (req.outcome === undefined || prev.outcome === req.outcome)) {
          const cur = await tx.get('SELECT * FROM tasks WHERE id = ?', [ref.taskId]);
          return { row: cur!, outcome: prev.outcome as ReleaseOutcome, replayed: true };
        }
        throw await fenceError(tx, ref);
      }
      const task = toTask(r);
      const report = req.scrub(req.report, task);
      if (outcome === 'failed') {
        const kind = typeof report.failureKind === 'string' ? report.failureKind : 'unknown';
        const message = typeof report.failureMessage === 'string' ? report.failureMessage : typeof report.summary === 'string' ? report.summary : null;
        await tx.run('UPDATE tasks SET failure_kind = ?, failure_message = ? WHERE id = ?', [kind, message, ref.taskId]);
      }
      await tx.run('UPDATE leases SET released_at = NOW_MS, outcome = ?, report = ? WHERE task_id = ? AND epoch = ?', [
        outcome,
        JSON.stringify(report),
        ref.taskId,
        ref.epoch,
      ]);
      if (task.stage === 'shipped') await unblockDependents(tx, ref.taskId);
      tx.emit({
        type: 'lease.released',
        taskId: ref.taskId,
        payload: { factoryId: ref.factoryId ?? r.affinity_factory_id ?? null, epoch: ref.epoch, outcome, stage: task.stage, report },
      });
      return { row: r, outcome, replayed: false };
    }, ATOMIC);
    const fresh = out.replayed ? out.row : ((await this.store.db.get('SELECT * FROM tasks WHERE id = ?', [ref.taskId])) ?? out.row);
    return { task: toTask(fresh, await this.deps(ref.taskId)), outcome: out.outcome, replayed: out.replayed };
  }

  async quarantine(ref: LeaseRef & { factoryId: string }, reason: string): Promise<{ recorded: boolean; currentEpoch: number }> {
    return this.store.write(async (tx) => {
      // Accepted only for a lease this factory really held and no longer holds.
      const n = await tx.run(
        `INSERT INTO fleet_quarantines (task_id, epoch, factory_id, reason, reported_at)
         SELECT CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), NOW_MS
         WHERE EXISTS (SELECT 1 FROM leases WHERE task_id = ? AND epoch = ? AND factory_id = ?)
           AND NOT EXISTS (SELECT 1 FROM tasks WHERE id = ? AND lease_epoch = ? AND lease_factory_id = ? AND lease_expires_at > NOW_MS)
         ON CONFLICT DO NOTHING`,
        [ref.taskId, ref.epoch, ref.factoryId, reason, ref.taskId, ref.epoch, ref.factoryId, ref.taskId, ref.epoch, ref.factoryId],
      );
      const cur = await tx.get('SELECT lease_epoch FROM tasks WHERE id = ?', [ref.taskId]);
      if (!cur) throw notFound('task', ref.taskId);
      if (n > 0) {
        await tx.run('UPDATE tasks SET quarantined = 1, updated_at = NOW_MS, rev = rev + 1 WHERE id = ?', [ref.taskId]);
        tx.emit({
          type: 'fleet.result_quarantined',
          taskId: ref.taskId,
          payload: { factoryId: ref.factoryId, epoch: ref.epoch, currentEpoch: Number(cur.lease_epoch), reason },
        });
      }
      return { recorded: n > 0, currentEpoch: Number(cur.lease_epoch) };
    });
  }

  async act(taskId: string, action: OperatorAction, reason: string | null): Promise<Task> {
    const plan: Record<OperatorAction, { set: string; from: string }> = {
      requeue: {
        set: `stage = CASE WHEN ${UNMET_DEPS_SQL} THEN 'blocked' ELSE 'queued' END,
              blocked_reason = CASE WHEN ${UNMET_DEPS_SQL} THEN 'dependencies' ELSE NULL END, queued_at = NOW_MS,
              failure_kind = NULL, failure_message = NULL`,
        from: "stage <> 'shipped'",
      },
      reject: { set: "stage = 'dead_letter', blocked_reason = NULL", from: "stage NOT IN ('shipped', 'dead_letter', 'cancelled')" },
      cancel: { set: "stage = 'cancelled', blocked_reason = NULL", from: "stage NOT IN ('shipped', 'failed', 'cancelled', 'dead_letter')" },
      ship: { set: "stage = 'shipped', blocked_reason = NULL, affinity_factory_id = NULL", from: "stage NOT IN ('shipped', 'cancelled')" },
    };
    const p = plan[action];
    const row = await this.store.write(async (tx) => {
      // Every operator action is a new grant of ownership (to nobody): epoch + 1 fences the holder (invariant 2).
      const r = await tx.get(
        `UPDATE tasks SET ${p.set}, lease_epoch = lease_epoch + 1, lease_factory_id = NULL, lease_expires_at = NULL,
           updated_at = NOW_MS, rev = rev + 1
         WHERE id = ? AND ${p.from} RETURNING *`,
        [taskId],
      );
      if (!r) {
        const cur = await tx.get('SELECT stage FROM tasks WHERE id = ?', [taskId]);
        if (!cur) throw notFound('task', taskId);
        throw conflict(`cannot ${action} task ${taskId} in stage ${String(cur.stage)}`, 'see `gantry show ID` for what the task allows now');
      }
      const fenced = await tx.all<{ factory_id: string; epoch: number }>(
        `UPDATE leases SET released_at = NOW_MS, outcome = 'revoked' WHERE task_id = ? AND released_at IS NULL RETURNING factory_id, epoch`,
        [taskId],
      );
      if (String(r.stage) === 'shipped') await unblockDependents(tx, taskId);
      tx.emit({
        type: 'task.action',
        taskId,
        payload: {
          action,
          stage: String(r.stage),
          epoch: Number(r.lease_epoch),
          fenced: fenced.map((l) => ({ factoryId: l.factory_id, epoch: Number(l.epoch) })),
          ...(reason ? { reason } : {}),
        },
      });
      return r;
    });
    return toTask(row, await this.deps(taskId));
  }

  async reapExpired(): Promise<Reclaimed[]> {
    return this.reap('expired', `stage IN ${LEASED_SQL} AND lease_expires_at <= NOW_MS`, []);
  }

  async reapStaleFactories(staleMs: number): Promise<Reclaimed[]> {
    return this.reap(
      'factory_stale',
      `stage IN ${LEASED_SQL} AND lease_factory_id IN (SELECT id FROM factories WHERE last_heartbeat_at < NOW_MS - ?)`,
      [staleMs],
      staleMs,
    );
  }

  /** Invariant 5: one statement reclaims every matching lease; the checkpoint pointer stays. */
  private async reap(reason: Reclaimed['reason'], where: string, params: number[], staleMs?: number): Promise<Reclaimed[]> {
    return this.store.write(async (tx) => {
      if (staleMs !== undefined) {
        const gone = await tx.all<{ id: string }>(
          "UPDATE factories SET state = 'stale', rev = rev + 1 WHERE state = 'live' AND last_heartbeat_at < NOW_MS - ? RETURNING id",
          [staleMs],
        );
        for (const g of gone) tx.emit({ type: 'factory.stale', payload: { factoryId: g.id } });
      }
      const rows = await tx.all(
        `UPDATE tasks SET lease_epoch = lease_epoch + 1, affinity_factory_id = NULL, ${REQUEUE_SET_SQL}
         WHERE ${where} RETURNING id, lease_epoch, stage, attempts`,
        params,
      );
      const out: Reclaimed[] = [];
      for (const r of rows) {
        const taskId = String(r.id);
        const epoch = Number(r.lease_epoch);
        const lease = await tx.get<{ factory_id: string }>(
          "UPDATE leases SET released_at = NOW_MS, outcome = ? WHERE task_id = ? AND epoch = ? AND released_at IS NULL RETURNING factory_id",
          [reason, taskId, epoch - 1],
        );
        const rec: Reclaimed = {
          taskId,
          factoryId: lease?.factory_id ?? null,
          previousEpoch: epoch - 1,
          epoch,
          stage: String(r.stage) as Stage,
          attempts: Number(r.attempts),
          reason,
        };
        tx.emit({ type: 'lease.reclaimed', taskId, payload: { ...rec } });
        out.push(rec);
      }
      return out;
    });
  }

  private async deps(id: string): Promise<string[]> {
    const rows = await this.store.db.all<{ depends_on: string }>('SELECT depends_on FROM task_deps WHERE task_id = ? ORDER BY depends_on', [id]);
    return rows.map((r) => r.depends_on);
  }
}
