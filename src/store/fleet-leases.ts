// Lease ownership over the tasks table (DESIGN §5 invariants 1–5). Every decision is the WHERE clause
// of one UPDATE: a claim is `stage='queued'` + epoch+1, every fenced call matches epoch, holder,
// a leased stage and an unexpired lease on the store clock. Zero rows changed → stale_epoch (409).
import { conflict, GantryError, notFound } from '../domain/errors.js';
import type { CheckpointPointer, Stage, Task } from '../domain/task.js';
import type { WriteTx } from '../ports/store.js';
import type {
  ClaimRequest,
  Grant,
  LeaseRef,
  OperatorAction,
  Reclaimed,
  ReleaseOutcome,
  ReleaseRequest,
  ReleaseResult,
} from '../ports/fleet.js';
import { toTask } from './rows.js';
import { unblockDependents } from './task-repo.js';
import { LEASED_SQL, RECLAIM_SET_SQL, REQUEUE_SET_SQL, UNMET_DEPS_SQL } from './fleet-rows.js';
import { WriteCombiner } from './fleet-batch.js';
import { FleetClaimer, type ClaimOptions, type ClaimStore } from './fleet-claim.js';
import { FleetPgBatch } from './fleet-pg-batch.js';

/**
 * What each release outcome does to the task row (invariant 5 for `abandoned`). gantry_release()
 * (migration 011) does the same on PostgreSQL: a change here needs a migration replacing it too.
 */
const RELEASE_SET: Record<ReleaseOutcome, string> = {
  done: "stage = 'shipped', blocked_reason = NULL, affinity_factory_id = NULL, lease_factory_id = NULL, lease_expires_at = NULL, updated_at = NOW_MS, rev = rev + 1",
  parked:
    "stage = 'blocked', blocked_reason = 'awaiting_human', affinity_factory_id = lease_factory_id, lease_factory_id = NULL, lease_expires_at = NULL, updated_at = NOW_MS, rev = rev + 1",
  failed: "stage = 'failed', lease_factory_id = NULL, lease_expires_at = NULL, updated_at = NOW_MS, rev = rev + 1",
  abandoned: `affinity_factory_id = lease_factory_id, ${REQUEUE_SET_SQL}`,
};

/** The failure columns a `failed` release records, from its (scrubbed) report. */
function failureOf(report: Record<string, unknown>): { kind: string; message: string | null } {
  const kind = typeof report.failureKind === 'string' ? report.failureKind : 'unknown';
  const message = typeof report.failureMessage === 'string' ? report.failureMessage : typeof report.summary === 'string' ? report.summary : null;
  return { kind, message };
}

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
async function fenceError(tx: Pick<WriteTx, 'get'>, ref: LeaseRef): Promise<GantryError> {
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

/** Tasks remembered for releases (see FleetLeases.granted); beyond this many, the oldest are forgotten. */
const KNOWN_TASKS = 4096;

export class FleetLeases {
  private readonly combiner: WriteCombiner;
  private readonly claimer: FleetClaimer;
  private readonly fenced: FleetPgBatch | null;
  /**
   * PostgreSQL: tasks this store granted or patched and not yet released, by id. A release scrubs its
   * report with the task's body, which never changes after submit: a task seen here needs no read
   * before the release statement (one round trip instead of two). Only a hint: a task not here (a
   * lease granted by another coordinator, or forgotten) is read as before.
   */
  private readonly known = new Map<string, Task>();

  constructor(
    private readonly store: ClaimStore,
    opts: ClaimOptions = {},
  ) {
    this.combiner = new WriteCombiner(store, store.db.dialect === 'postgres' ? 4 : 1);
    this.fenced = store.db.dialect === 'postgres' ? new FleetPgBatch(store) : null;
    this.claimer = new FleetClaimer(store, this.combiner, this.fenced, opts);
  }

  async claim(req: ClaimRequest): Promise<Grant | null> {
    const g = await this.claimer.claim(req);
    if (g) this.remember(g.task);
    return g;
  }

  private remember(task: Task): void {
    if (this.store.db.dialect !== 'postgres') return;
    this.known.delete(task.id);
    this.known.set(task.id, task);
    // Leases that end without a release here (reclaimed, released elsewhere) leave entries: keep the newest.
    if (this.known.size > KNOWN_TASKS) this.known.delete(this.known.keys().next().value!);
  }

  async patch(ref: LeaseRef, change: { stage: Stage; checkpoint: CheckpointPointer | null }): Promise<Task> {
    const f = fenceSql(ref);
    const checkpoint = change.checkpoint ? JSON.stringify(change.checkpoint) : null;
    if (this.fenced) return this.patchPg(this.fenced, ref, change, checkpoint);
    const row = await this.combiner.run(async (tx) => {
      const r = await tx.get(
        `UPDATE tasks SET stage = ?, checkpoint = COALESCE(?, checkpoint), updated_at = NOW_MS, rev = rev + 1 WHERE ${f.sql} RETURNING *`,
        [change.stage, checkpoint, ...f.params],
      );
      if (!r) throw await fenceError(tx, ref);
      tx.emit({
        type: 'task.stage_changed',
        taskId: ref.taskId,
        payload: { stage: change.stage, epoch: ref.epoch, factoryId: r.lease_factory_id, ...(change.checkpoint ? { checkpoint: change.checkpoint } : {}) },
      });
      return r;
    }, ATOMIC);
    return toTask(row, await this.store.tasks.dependencies(ref.taskId));
  }

  /** PostgreSQL: the fenced UPDATE, its event and the task's dependencies in one call of gantry_patch(), batched with concurrent PATCHes. */
  private async patchPg(fenced: FleetPgBatch, ref: LeaseRef, change: { stage: Stage; checkpoint: CheckpointPointer | null }, checkpoint: string | null): Promise<Task> {
    const payload = JSON.stringify({ stage: change.stage, epoch: ref.epoch, ...(change.checkpoint ? { checkpoint: change.checkpoint } : {}) });
    const r = await fenced.patch({ ref, stage: change.stage, checkpoint, payload });
    if (!r) throw await fenceError(this.store.db, ref);
    const task = toTask(r.row, r.deps);
    this.remember(task);
    return task;
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
    if (this.fenced) {
      const one = await this.releasePg(this.fenced, ref, req);
      if (one) return one;
      // Nothing matched: a replay or a fenced call, which the general path tells apart.
    }
    const f = fenceSql(ref);
    const outcome: ReleaseOutcome = req.outcome ?? 'abandoned';
    const set = RELEASE_SET;
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
        const { kind, message } = failureOf(report);
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
    return { task: toTask(fresh, await this.store.tasks.dependencies(ref.taskId)), outcome: out.outcome, replayed: out.replayed };
  }

  /**
   * PostgreSQL: the fenced release in one call of gantry_release(), batched with concurrent releases —
   * task row, failure columns, lease history, dependents unblocked on a ship, and their events — plus,
   * when the report has content and this store did not grant or patch the lease itself (`known`), one
   * read of the task's body to scrub it (a body never changes after submit). Undefined when the fence
   * matched nothing (a replay or a stale epoch: the general path explains which).
   */
  private async releasePg(fenced: FleetPgBatch, ref: LeaseRef, req: ReleaseRequest): Promise<ReleaseResult | undefined> {
    const outcome: ReleaseOutcome = req.outcome ?? 'abandoned';
    let report = req.report;
    if (Object.keys(report).length > 0) {
      let task = this.known.get(ref.taskId);
      if (!task) {
        const row = await this.store.db.get('SELECT * FROM tasks WHERE id = ?', [ref.taskId]);
        if (!row) return undefined;
        task = toTask(row);
      }
      report = req.scrub(report, task);
    }
    const r = await fenced.release({
      ref,
      outcome,
      checkpoint: req.checkpoint ? JSON.stringify(req.checkpoint) : null,
      failure: outcome === 'failed' ? failureOf(report) : null,
      report: JSON.stringify(report),
    });
    if (!r) return undefined;
    this.known.delete(ref.taskId);
    return { task: toTask(r.row, r.deps), outcome, replayed: false };
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
      // The task is settled by a person: nothing it raised is waiting for anyone any more.
      if (action !== 'requeue') await resolveTaskWaits(tx, taskId);
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
    return toTask(row, await this.store.tasks.dependencies(taskId));
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
        // PostgreSQL: lock the factory rows in id order, the order claims lock them in (gantry_claim).
        const pick = this.store.db.dialect === 'postgres' ? ' ORDER BY id FOR UPDATE' : '';
        const gone = await tx.all<{ id: string }>(
          `UPDATE factories SET state = 'stale', rev = rev + 1
           WHERE id IN (SELECT id FROM factories WHERE state = 'live' AND last_heartbeat_at < NOW_MS - ?${pick}) AND state = 'live' RETURNING id`,
          [staleMs],
        );
        for (const g of gone) tx.emit({ type: 'factory.stale', payload: { factoryId: g.id } });
      }
      return reclaimIn(tx, reason, where, params);
    });
  }
}

/**
 * Invariant 5 inside the caller's transaction: one statement reclaims every lease matching `where`
 * (task back to queued, epoch + 1, checkpoint kept, attempts + 1), then closes each lease row.
 */
export async function reclaimIn(tx: WriteTx, reason: Reclaimed['reason'], where: string, params: Array<string | number>, o: { keepAffinity?: boolean } = {}): Promise<Reclaimed[]> {
  // A restarted factory still has the task's workspace on its disk: it keeps the affinity.
  const affinity = o.keepAffinity ? 'lease_factory_id' : 'NULL';
  const rows = await tx.all(
    `UPDATE tasks SET lease_epoch = lease_epoch + 1, affinity_factory_id = ${affinity}, ${RECLAIM_SET_SQL}
     WHERE ${where} RETURNING id, lease_epoch, stage, attempts`,
    params,
  );
  const out: Reclaimed[] = [];
  for (const r of rows) {
    const taskId = String(r.id);
    const epoch = Number(r.lease_epoch);
    const lease = await tx.get<{ factory_id: string }>(
      'UPDATE leases SET released_at = NOW_MS, outcome = ? WHERE task_id = ? AND epoch = ? AND released_at IS NULL RETURNING factory_id',
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
}

/** Resolves the pipeline notifications (not the sessions' own) still open on a task, in the caller's transaction. */
async function resolveTaskWaits(tx: WriteTx, taskId: string): Promise<void> {
  const rows = await tx.all<{ id: string; kind: string; run_id: string | null }>(
    `UPDATE notifications SET state = 'resolved', resolved_at = NOW_MS, updated_at = NOW_MS, rev = rev + 1
     WHERE state IN ('raised', 'escalated', 'acknowledged') AND task_id = ? AND run_id IS NOT NULL AND session_id IS NULL
     RETURNING id, kind, run_id`,
    [taskId],
  );
  for (const n of rows) tx.emit({ type: 'notification.resolved', taskId, runId: n.run_id, payload: { notificationId: n.id, kind: n.kind, by: 'task' } });
}
