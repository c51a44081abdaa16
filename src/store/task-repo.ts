import { createHash, randomBytes } from 'node:crypto';
import { conflict, GantryError, notFound } from '../domain/errors.js';
import { encodeId } from '../domain/ids.js';
import { findCycle } from '../domain/deps.js';
import { initialStage, type BlockedReason, type Stage, type Task } from '../domain/task.js';
import type { NewEvent } from '../domain/events.js';
import type { SqlRunner } from '../ports/sql.js';
import type { NewTask, Store, SubmitResult, TaskFilter, TaskPage, TaskRepo, WriteTx } from '../ports/store.js';
import { toTask } from './rows.js';
import type { Row, SqlValue } from '../ports/sql.js';

/** The store plus its single-statement write (see SqlStore.writeStatement). */
export interface SqlStoreLike extends Store {
  writeStatement<T extends Row = Row>(sql: string, params: readonly SqlValue[], events: readonly NewEvent[]): Promise<T[]>;
}

export function payloadHash(t: NewTask): string {
  const canonical = JSON.stringify([
    t.projectId,
    t.title,
    t.body,
    t.pipeline,
    t.agent,
    t.priority,
    [...t.capabilities].sort(),
    [...t.after].sort(),
    t.maxAttempts,
    // Appended only when set, so the hash of every task submitted before the option existed is unchanged.
    ...(t.lightweight === undefined || t.lightweight === null ? [] : [t.lightweight]),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

const lightweightValue = (t: NewTask): number | null => (t.lightweight === undefined || t.lightweight === null ? null : t.lightweight ? 1 : 0);

const isUniqueViolation = (e: unknown): boolean => {
  const err = e as { code?: string; message?: string };
  return err.code === '23505' || (typeof err.code === 'string' && err.code.startsWith('SQLITE_CONSTRAINT_UNIQUE'));
};

export async function depsOf(db: SqlRunner, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = await db.all<{ task_id: string; depends_on: string }>(
    `SELECT task_id, depends_on FROM task_deps WHERE task_id IN (${ids.map(() => '?').join(',')}) ORDER BY depends_on`,
    ids,
  );
  for (const r of rows) out.get(r.task_id)?.push(r.depends_on);
  return out;
}

export class TaskRepoSql implements TaskRepo {
  constructor(private readonly store: SqlStoreLike) {}

  async submit(t: NewTask): Promise<SubmitResult> {
    try {
      return await this.submitOnce(t);
    } catch (e) {
      // Two submits with one idempotency key raced; the loser re-reads the winner's task.
      if (t.idempotencyKey && isUniqueViolation(e)) return this.submitOnce(t);
      throw e;
    }
  }

  private async submitOnce(t: NewTask): Promise<SubmitResult> {
    const hash = payloadHash(t);
    const id = encodeId('t', randomBytes(8));
    if (t.after.length === 0) return this.submitIndependent(t, id, hash);
    return this.store.write(async (tx) => {
      if (t.idempotencyKey) {
        const prev = await tx.get('SELECT * FROM tasks WHERE idempotency_key = ?', [t.idempotencyKey]);
        if (prev) {
          if (prev.payload_hash !== hash) {
            throw conflict(`idempotency key ${t.idempotencyKey} was already used for a different task (${String(prev.id)})`,
              'send the same payload to get the same task back, or use a new idempotencyKey');
          }
          const after = (await depsOf(tx, [String(prev.id)])).get(String(prev.id)) ?? [];
          return { task: toTask(prev, after), created: false };
        }
      }
      const after = [...new Set(t.after)];
      let depStages: Stage[] = [];
      if (after.length > 0) {
        const rows = await tx.all<{ id: string; stage: Stage }>(
          `SELECT id, stage FROM tasks WHERE id IN (${after.map(() => '?').join(',')})`,
          after,
        );
        const found = new Set(rows.map((r) => r.id));
        const missing = after.filter((a) => !found.has(a));
        if (missing.length > 0) {
          throw new GantryError('validation', `after: unknown task ${missing.join(', ')}`, {
            field: 'after',
            hint: 'list task ids with `gantry ls`; a task can only wait for tasks that exist',
          });
        }
        depStages = rows.map((r) => r.stage);
      }
      const { stage, blockedReason } = initialStage(depStages);
      const row = await tx.get(
        `INSERT INTO tasks (id, project_id, title, body, pipeline, agent, priority, capabilities, stage, blocked_reason,
           idempotency_key, payload_hash, max_attempts, lightweight, created_at, updated_at, queued_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NOW_MS, NOW_MS, NOW_MS) RETURNING *`,
        [id, t.projectId, t.title, t.body, t.pipeline, t.agent, t.priority, JSON.stringify(t.capabilities), stage, blockedReason,
          t.idempotencyKey, hash, t.maxAttempts, lightweightValue(t)],
      );
      for (const d of after) await tx.run('INSERT INTO task_deps (task_id, depends_on) VALUES (?, ?)', [id, d]);
      // Titles and bodies stay out of events (DESIGN §5 inv. 9): readers fetch the task by id.
      tx.emit({ type: 'task.submitted', taskId: id, payload: { stage, projectId: t.projectId, pipeline: t.pipeline, priority: t.priority, after } });
      return { task: toTask(row!, after), created: true };
    });
  }

  /**
   * A task with no dependencies is one statement (one round trip on PostgreSQL): insert unless the
   * idempotency key exists, the event riding along only when the row was inserted.
   */
  private async submitIndependent(t: NewTask, id: string, hash: string): Promise<SubmitResult> {
    const [row] = await this.store.writeStatement(
      `INSERT INTO tasks (id, project_id, title, body, pipeline, agent, priority, capabilities, stage, blocked_reason,
         idempotency_key, payload_hash, max_attempts, lightweight, created_at, updated_at, queued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', NULL, ?, ?, ?, ?, NOW_MS, NOW_MS, NOW_MS)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
      [id, t.projectId, t.title, t.body, t.pipeline, t.agent, t.priority, JSON.stringify(t.capabilities), t.idempotencyKey, hash, t.maxAttempts, lightweightValue(t)],
      [{ type: 'task.submitted', taskId: id, payload: { stage: 'queued', projectId: t.projectId, pipeline: t.pipeline, priority: t.priority, after: [] } }],
    );
    if (row) return { task: toTask(row, []), created: true };
    // The key exists (committed: ON CONFLICT waited for any concurrent insert of it).
    const prev = await this.store.db.get('SELECT * FROM tasks WHERE idempotency_key = ?', [t.idempotencyKey]);
    if (!prev) throw new GantryError('internal', 'task insert changed nothing');
    if (prev.payload_hash !== hash) {
      throw conflict(`idempotency key ${t.idempotencyKey} was already used for a different task (${String(prev.id)})`,
        'send the same payload to get the same task back, or use a new idempotencyKey');
    }
    const id0 = String(prev.id);
    return { task: toTask(prev, (await depsOf(this.store.db, [id0])).get(id0)), created: false };
  }

  async get(id: string): Promise<Task | undefined> {
    const row = await this.store.db.get('SELECT * FROM tasks WHERE id = ?', [id]);
    if (!row) return undefined;
    return toTask(row, (await depsOf(this.store.db, [id])).get(id));
  }

  async byIdempotencyKey(key: string): Promise<Task | undefined> {
    const row = await this.store.db.get('SELECT * FROM tasks WHERE idempotency_key = ?', [key]);
    if (!row) return undefined;
    const id = String(row.id);
    return toTask(row, (await depsOf(this.store.db, [id])).get(id));
  }

  async list(f: TaskFilter): Promise<TaskPage> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (f.projectId) {
      where.push('project_id = ?');
      params.push(f.projectId);
    }
    if (f.stages && f.stages.length > 0) {
      where.push(`stage IN (${f.stages.map(() => '?').join(',')})`);
      params.push(...f.stages);
    }
    if (f.cursor) {
      const [at, cid] = decodeCursor(f.cursor);
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(at, at, cid);
    }
    const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
    const rows = await this.store.db.all(
      `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const page = rows.slice(0, limit);
    const deps = await depsOf(this.store.db, page.map((r) => String(r.id)));
    const tasks = page.map((r) => toTask(r, deps.get(String(r.id))));
    const last = tasks[tasks.length - 1];
    return { tasks, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  async setStage(id: string, expectedRev: number, stage: Stage, blockedReason: BlockedReason | null, event: NewEvent): Promise<Task> {
    return this.store.write(async (tx) => {
      const row = await tx.get(
        'UPDATE tasks SET stage = ?, blocked_reason = ?, updated_at = NOW_MS, rev = rev + 1 WHERE id = ? AND rev = ? RETURNING *',
        [stage, blockedReason, id, expectedRev],
      );
      if (!row) {
        const cur = await tx.get('SELECT rev FROM tasks WHERE id = ?', [id]);
        if (!cur) throw notFound('task', id);
        throw conflict(`task ${id} changed meanwhile (rev ${String(cur.rev)}, expected ${expectedRev})`, 'reload the task and retry');
      }
      tx.emit({ ...event, taskId: id });
      return toTask(row, (await depsOf(tx, [id])).get(id));
    });
  }

  /** Adds dependencies to an existing task, rejecting cycles. */
  async addDependencies(id: string, after: readonly string[]): Promise<Task> {
    return this.store.write(async (tx) => {
      const task = await tx.get('SELECT * FROM tasks WHERE id = ?', [id]);
      if (!task) throw notFound('task', id);
      const all = await tx.all<{ task_id: string; depends_on: string }>('SELECT task_id, depends_on FROM task_deps');
      const edges = new Map<string, string[]>();
      for (const e of all) edges.set(e.task_id, [...(edges.get(e.task_id) ?? []), e.depends_on]);
      const existing = edges.get(id) ?? [];
      const wanted = [...new Set([...existing, ...after])];
      const known = await tx.all<{ id: string }>(`SELECT id FROM tasks WHERE id IN (${after.map(() => '?').join(',')})`, [...after]);
      const missing = after.filter((a) => !known.some((k) => k.id === a));
      if (missing.length) throw new GantryError('validation', `after: unknown task ${missing.join(', ')}`, { field: 'after' });
      const cycle = findCycle(edges, id, wanted);
      if (cycle) {
        throw new GantryError('validation', `after: dependency cycle ${cycle.join(' → ')}`, {
          field: 'after',
          hint: 'a task cannot wait, directly or through others, for itself',
        });
      }
      for (const d of after) if (!existing.includes(d)) await tx.run('INSERT INTO task_deps (task_id, depends_on) VALUES (?, ?)', [id, d]);
      await blockIfUnmet(tx, id);
      tx.emit({ type: 'task.dependencies_changed', taskId: id, payload: { after: wanted } });
      const row = await tx.get('SELECT * FROM tasks WHERE id = ?', [id]);
      return toTask(row!, wanted);
    });
  }

  async dependencies(id: string): Promise<string[]> {
    return (await depsOf(this.store.db, [id])).get(id) ?? [];
  }

  async dependents(id: string): Promise<string[]> {
    const rows = await this.store.db.all<{ task_id: string }>('SELECT task_id FROM task_deps WHERE depends_on = ? ORDER BY task_id', [id]);
    return rows.map((r) => r.task_id);
  }
}

/** A queued task that gained an unshipped dependency goes back to blocked. */
async function blockIfUnmet(tx: WriteTx, id: string): Promise<void> {
  await tx.run(
    `UPDATE tasks SET stage = 'blocked', blocked_reason = 'dependencies', updated_at = NOW_MS, rev = rev + 1
     WHERE id = ? AND stage = 'queued'
       AND EXISTS (SELECT 1 FROM task_deps d JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = ? AND t.stage <> 'shipped')`,
    [id, id],
  );
}

/**
 * After `shippedId` ships, every dependent blocked on dependencies whose dependencies have all shipped
 * becomes queued — one statement, so two ships racing cannot both miss it.
 */
export async function unblockDependents(tx: WriteTx, shippedId: string): Promise<string[]> {
  const rows = await tx.all<{ id: string }>(
    `UPDATE tasks SET stage = 'queued', blocked_reason = NULL, queued_at = NOW_MS, updated_at = NOW_MS, rev = rev + 1
     WHERE stage = 'blocked' AND blocked_reason = 'dependencies'
       AND id IN (SELECT task_id FROM task_deps WHERE depends_on = ?)
       AND NOT EXISTS (SELECT 1 FROM task_deps d JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = tasks.id AND t.stage <> 'shipped')
     RETURNING id`,
    [shippedId],
  );
  for (const r of rows) tx.emit({ type: 'task.unblocked', taskId: r.id, payload: { stage: 'queued', after: shippedId } });
  return rows.map((r) => r.id);
}

const encodeCursor = (at: number, id: string): string => Buffer.from(`${at}:${id}`).toString('base64url');
function decodeCursor(c: string): [number, string] {
  const [at, id] = Buffer.from(c, 'base64url').toString().split(':');
  const n = Number(at);
  if (!Number.isFinite(n) || !id) throw new GantryError('validation', 'cursor: not a cursor this server issued', { field: 'cursor', hint: 'pass nextCursor from a previous page' });
  return [n, id];
}
