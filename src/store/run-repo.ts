// Runs and steps (DESIGN §6): one transition = one transaction with its events, compare-and-set on
// the run's rev and, while a factory drives, on the task's lease epoch and holder.
import { randomBytes } from 'node:crypto';
import { conflict, GantryError, notFound } from '../domain/errors.js';
import { encodeId } from '../domain/ids.js';
import type { PipelineDef, RunState, StepState, Waiting } from '../domain/pipeline/types.js';
import { WAIT_CLASSES, type WaitClass } from '../domain/pipeline/wait-notifications.js';
import type { Row, SqlRunner, SqlValue } from '../ports/sql.js';
import type { Fence, RunChange, RunRecord, RunRepo, RunSnapshot, StepRecord } from '../ports/engine.js';
import type { Store, WriteTx } from '../ports/store.js';
import { json } from './rows.js';

const n = (v: unknown): number => Number(v);
const nOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const sOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toRun(r: Row): RunRecord {
  return {
    id: String(r.id),
    taskId: String(r.task_id),
    number: n(r.number),
    pipeline: json<PipelineDef>(r.pipeline, { name: '?', steps: [] }),
    state: String(r.state) as RunState,
    currentStep: n(r.current_step),
    waiting: json<Waiting | null>(r.waiting, null),
    failureKind: sOrNull(r.failure_kind),
    failureMessage: sOrNull(r.failure_message),
    startedAt: nOrNull(r.started_at),
    finishedAt: nOrNull(r.finished_at),
    pausedAt: nOrNull(r.paused_at),
    createdAt: n(r.created_at),
    updatedAt: n(r.updated_at),
    rev: n(r.rev),
  };
}

export function toStep(r: Row): StepRecord {
  return {
    id: String(r.id),
    runId: String(r.run_id),
    idx: n(r.idx),
    stepId: String(r.step_id),
    kind: String(r.kind),
    state: String(r.state) as StepState,
    attempts: n(r.attempts),
    output: json<Record<string, unknown> | null>(r.output, null),
    kindState: json<Record<string, unknown>>(r.kind_state, {}),
    sessionId: sOrNull(r.session_id),
    failureKind: sOrNull(r.failure_kind),
    failureMessage: sOrNull(r.failure_message),
    startedAt: nOrNull(r.started_at),
    finishedAt: nOrNull(r.finished_at),
    updatedAt: n(r.updated_at),
    rev: n(r.rev),
  };
}

/** `AND <task lease is still this holder's>` — the fence, checked inside the mutating statement. */
export const fenceClause = (f: Fence): { sql: string; params: SqlValue[] } => ({
  sql: 'EXISTS (SELECT 1 FROM tasks WHERE id = ? AND lease_epoch = ? AND lease_factory_id = ?)',
  params: [f.taskId, f.epoch, f.factoryId],
});

export async function staleEpoch(tx: SqlRunner, f: Fence): Promise<GantryError> {
  const t = await tx.get<{ lease_epoch: number; lease_factory_id: string | null }>('SELECT lease_epoch, lease_factory_id FROM tasks WHERE id = ?', [f.taskId]);
  return new GantryError('stale_epoch', `lease epoch ${f.epoch} of task ${f.taskId} is no longer held by ${f.factoryId} (now epoch ${String(t?.lease_epoch)}, holder ${String(t?.lease_factory_id)})`, {
    hint: 'another factory owns the task now; stop work and never merge',
  });
}

async function snapshot(db: SqlRunner, runId: string): Promise<RunSnapshot | undefined> {
  const r = await db.get('SELECT * FROM runs WHERE id = ?', [runId]);
  if (!r) return undefined;
  const steps = await db.all('SELECT * FROM steps WHERE run_id = ? ORDER BY idx', [runId]);
  return { run: toRun(r), steps: steps.map(toStep) };
}

export class RunRepoSql implements RunRepo {
  constructor(private readonly store: Store) {}

  create(o: Parameters<RunRepo['create']>[0]): Promise<RunSnapshot> {
    return this.store.write(async (tx) => {
      if (o.fence) {
        const f = fenceClause(o.fence);
        const ok = await tx.get(`SELECT 1 AS ok WHERE ${f.sql}`, f.params);
        if (!ok) throw await staleEpoch(tx, o.fence);
      }
      const prev = await tx.get<{ m: number | null }>('SELECT MAX(number) AS m FROM runs WHERE task_id = ?', [o.taskId]);
      const number = Number(prev?.m ?? 0) + 1;
      const runId = encodeId('r', randomBytes(8));
      await tx.run(
        `INSERT INTO runs (id, task_id, number, pipeline, state, current_step, created_at, updated_at) VALUES (?, ?, ?, ?, 'running', 0, NOW_MS, NOW_MS)`,
        [runId, o.taskId, number, JSON.stringify(o.pipeline)],
      );
      const keep = o.keepUntil ?? 0;
      for (const [idx, def] of o.pipeline.steps.entries()) {
        const old = idx < keep ? o.from?.steps[idx] : undefined;
        const carried = old && (old.state === 'done' || old.state === 'skipped') && old.stepId === def.id;
        await tx.run(
          `INSERT INTO steps (id, run_id, idx, step_id, kind, state, attempts, output, kind_state, started_at, finished_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NOW_MS)`,
          [encodeId('s', randomBytes(8)), runId, idx, def.id, def.kind, carried ? old.state : 'pending', carried ? old.attempts : 0,
            carried && old.output ? JSON.stringify(old.output) : null, carried ? JSON.stringify(old.kindState) : '{}',
            carried ? old.startedAt : null, carried ? old.finishedAt : null],
        );
      }
      if (o.supersede) {
        await resolveWaits(tx, o.supersede, o.taskId, WAIT_CLASSES);
        await tx.run(
          `UPDATE runs SET state = CASE WHEN state IN ('done', 'failed', 'cancelled') THEN state ELSE 'cancelled' END,
             waiting = NULL, finished_at = COALESCE(finished_at, NOW_MS), updated_at = NOW_MS, rev = rev + 1 WHERE id = ?`,
          [o.supersede],
        );
      }
      const requeue = o.requeueFrom
        ? `, stage = 'queued', blocked_reason = NULL, failure_kind = NULL, failure_message = NULL, queued_at = NOW_MS WHERE id = ? AND stage IN (${o.requeueFrom.map(() => '?').join(',')})`
        : ' WHERE id = ?';
      const upd = await tx.run(`UPDATE tasks SET current_run_id = ?, updated_at = NOW_MS, rev = rev + 1${requeue}`, [runId, o.taskId, ...(o.requeueFrom ?? [])]);
      if (upd === 0) {
        const cur = await tx.get<{ stage: string }>('SELECT stage FROM tasks WHERE id = ?', [o.taskId]);
        if (!cur) throw notFound('task', o.taskId);
        throw conflict(`task ${o.taskId} is ${cur.stage}; a new run can start only from ${o.requeueFrom!.join(', ')}`, 'cancel the task first, or wait for it to stop');
      }
      // `stage: 'queued'` when the task went back to the queue: claimers are woken and rank it at once.
      tx.emit({ ...o.event, taskId: o.taskId, runId, payload: { ...(o.event.payload ?? {}), number, pipeline: o.pipeline.name, keptSteps: keep, ...(o.requeueFrom ? { stage: 'queued' } : {}) } });
      return (await snapshot(tx, runId))!;
    });
  }

  load(runId: string): Promise<RunSnapshot | undefined> {
    return snapshot(this.store.db, runId);
  }

  async current(taskId: string): Promise<RunSnapshot | undefined> {
    const t = await this.store.db.get<{ current_run_id: string | null }>('SELECT current_run_id FROM tasks WHERE id = ?', [taskId]);
    return t?.current_run_id ? snapshot(this.store.db, t.current_run_id) : undefined;
  }

  async list(taskId: string): Promise<RunRecord[]> {
    return (await this.store.db.all('SELECT * FROM runs WHERE task_id = ? ORDER BY number', [taskId])).map(toRun);
  }

  commit(c: RunChange, fence: Fence | null): Promise<RunSnapshot> {
    return this.store.write(async (tx) => {
      await applyRun(tx, c, fence);
      for (const s of c.steps ?? []) await applyStep(tx, c.runId, s);
      const snap = (await snapshot(tx, c.runId))!;
      if (c.task) await applyTask(tx, snap.run.taskId, c.task, c.runId);
      for (const nd of c.notifications ?? []) {
        // Unrouted: the notification service queues its channel deliveries on its next tick.
        const n = await tx.get<{ id: string }>(
          `INSERT INTO notifications (id, project_id, task_id, run_id, kind, priority, state, title, detail, signature, routed, created_at, updated_at)
           SELECT ?, project_id, id, ?, ?, ?, 'raised', ?, ?, ?, 0, NOW_MS, NOW_MS FROM tasks WHERE id = ?
           ON CONFLICT (signature) DO NOTHING RETURNING id`,
          [encodeId('n', randomBytes(8)), c.runId, nd.kind, nd.priority, nd.title, JSON.stringify(nd.detail), nd.signature, snap.run.taskId],
        );
        if (n) tx.emit({ type: 'notification.raised', taskId: snap.run.taskId, runId: c.runId, payload: { notificationId: n.id, kind: nd.kind, priority: nd.priority } });
      }
      if (c.resolveWaits?.length) await resolveWaits(tx, c.runId, snap.run.taskId, c.resolveWaits);
      for (const e of c.events) tx.emit({ taskId: snap.run.taskId, runId: c.runId, ...e });
      return snap;
    });
  }
}

const CLASS_SQL: Record<WaitClass, string> = {
  park: "SUBSTR(kind, 1, 9) = 'awaiting_'",
  budget: "kind = 'budget'",
  failure: "SUBSTR(kind, 1, 9) <> 'awaiting_' AND kind <> 'budget'",
};

/** Resolves the run's open engine notifications of these wait classes (lifecycle ones carry a session and are left to it). */
async function resolveWaits(tx: WriteTx, runId: string, taskId: string, classes: readonly WaitClass[]): Promise<void> {
  const rows = await tx.all<{ id: string; kind: string }>(
    `UPDATE notifications SET state = 'resolved', resolved_at = NOW_MS, updated_at = NOW_MS, rev = rev + 1
     WHERE state IN ('raised', 'escalated', 'acknowledged') AND run_id = ? AND session_id IS NULL AND (${classes.map((c) => `(${CLASS_SQL[c]})`).join(' OR ')})
     RETURNING id, kind`,
    [runId],
  );
  for (const r of rows) tx.emit({ type: 'notification.resolved', taskId, runId, payload: { notificationId: r.id, kind: r.kind, by: 'run' } });
}

async function applyRun(tx: WriteTx, c: RunChange, fence: Fence | null): Promise<void> {
  const set: string[] = ['updated_at = NOW_MS', 'rev = rev + 1'];
  const p: SqlValue[] = [];
  const r = c.run ?? {};
  if (r.state !== undefined) {
    set.push('state = ?');
    p.push(r.state);
  }
  if (r.currentStep !== undefined) {
    set.push('current_step = ?');
    p.push(r.currentStep);
  }
  if (r.waiting !== undefined) {
    set.push('waiting = ?');
    p.push(r.waiting ? JSON.stringify(r.waiting) : null);
  }
  if (r.failure) {
    // First failure wins: a later cascade never overwrites the cause.
    set.push('failure_message = CASE WHEN failure_kind IS NULL THEN ? ELSE failure_message END', 'failure_kind = COALESCE(failure_kind, ?)');
    p.push(r.failure.message, r.failure.kind);
  }
  if (r.markStarted) set.push('started_at = COALESCE(started_at, NOW_MS)');
  if (r.markFinished) set.push('finished_at = COALESCE(finished_at, NOW_MS)');
  if (r.markPaused) set.push('paused_at = COALESCE(paused_at, NOW_MS)');
  let where = 'id = ? AND rev = ?';
  const wp: SqlValue[] = [c.runId, c.expectedRev];
  if (fence) {
    const f = fenceClause(fence);
    where += ` AND ${f.sql}`;
    wp.push(...f.params);
  }
  const changed = await tx.run(`UPDATE runs SET ${set.join(', ')} WHERE ${where}`, [...p, ...wp]);
  if (changed === 1) return;
  const cur = await tx.get<{ rev: number }>('SELECT rev FROM runs WHERE id = ?', [c.runId]);
  if (!cur) throw notFound('run', c.runId);
  if (Number(cur.rev) !== c.expectedRev) {
    throw conflict(`run ${c.runId} changed meanwhile (rev ${cur.rev}, expected ${c.expectedRev})`, 'reload the run and retry', { rev: Number(cur.rev) });
  }
  throw await staleEpoch(tx, fence!);
}

async function applyStep(tx: WriteTx, runId: string, s: RunChange['steps'] extends (infer T)[] | undefined ? T : never): Promise<void> {
  const set: string[] = ['updated_at = NOW_MS', 'rev = rev + 1'];
  const p: SqlValue[] = [];
  if (s.state !== undefined) {
    set.push('state = ?');
    p.push(s.state);
  }
  if (s.attempts !== undefined) {
    set.push('attempts = ?');
    p.push(s.attempts);
  }
  if (s.output !== undefined) {
    set.push('output = ?');
    p.push(s.output ? JSON.stringify(s.output) : null);
  }
  if (s.kindState !== undefined) {
    set.push('kind_state = ?');
    p.push(JSON.stringify(s.kindState));
  }
  if (s.sessionId !== undefined) {
    set.push('session_id = ?');
    p.push(s.sessionId);
  }
  if (s.reopen) set.push('finished_at = NULL', 'failure_kind = NULL', 'failure_message = NULL');
  if (s.failure) {
    set.push('failure_message = CASE WHEN failure_kind IS NULL THEN ? ELSE failure_message END', 'failure_kind = COALESCE(failure_kind, ?)');
    p.push(s.failure.message, s.failure.kind);
  }
  if (s.markStarted) set.push('started_at = COALESCE(started_at, NOW_MS)');
  if (s.markFinished && !s.reopen) set.push('finished_at = COALESCE(finished_at, NOW_MS)');
  await tx.run(`UPDATE steps SET ${set.join(', ')} WHERE run_id = ? AND idx = ?`, [...p, runId, s.idx]);
}

async function applyTask(tx: WriteTx, taskId: string, t: NonNullable<RunChange['task']>, runId: string): Promise<void> {
  const set = ['stage = ?', 'updated_at = NOW_MS', 'rev = rev + 1'];
  const p: SqlValue[] = [t.stage];
  if (t.blockedReason !== undefined) {
    set.push('blocked_reason = ?');
    p.push(t.blockedReason);
  }
  if (t.stage === 'queued') set.push('queued_at = NOW_MS');
  if (t.failure) {
    set.push('failure_kind = COALESCE(failure_kind, ?)', 'failure_message = COALESCE(failure_message, ?)');
    p.push(t.failure.kind, t.failure.message);
  }
  const changed = await tx.run(
    `UPDATE tasks SET ${set.join(', ')} WHERE id = ? AND current_run_id = ? AND stage IN (${t.onlyFrom.map(() => '?').join(',')})`,
    [...p, taskId, runId, ...t.onlyFrom],
  );
  if (changed === 1) tx.emit({ type: 'task.stage', taskId, runId, payload: { stage: t.stage, blockedReason: t.blockedReason ?? null } });
}
