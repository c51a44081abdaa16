// Sessions table ⇄ SessionRecord, and the lifecycle unit of work over the Store (one transaction
// for the session, its inputs, reaction memory, notifications and events).
import { randomBytes } from 'node:crypto';
import { encodeId } from '../domain/ids.js';
import type { Confidence, ObservationSource } from '../domain/observation.js';
import type { ActivityAxis, DetectingMemory, RuntimeAxis, SessionPatch, SessionRecord, SessionState } from '../domain/session.js';
import { emptyActivity, emptyRuntime } from '../domain/session.js';
import type { Row, SqlRunner, SqlValue } from '../ports/sql.js';
import type { Store } from '../ports/store.js';
import type { LifecycleRepos, LifecycleStore, LifecycleTx, NewSession, SessionFilter, SessionRepo } from '../ports/lifecycle.js';
import { json } from './rows.js';
import { InputRepoSql } from './input-repo.js';
import { ReactionRepoSql } from './reaction-repo.js';
import { NotificationRepoSql } from './notification-repo.js';

const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

// Axes are rebuilt field by field so stored JSON and decided patches compare equal key for key.
function runtimeOf(v: unknown): RuntimeAxis {
  const r = { ...emptyRuntime(), ...json<Partial<RuntimeAxis>>(v, {}) };
  return { state: r.state, pid: r.pid ?? null, handle: r.handle ?? null, exitCode: r.exitCode ?? null, signal: r.signal ?? null, at: r.at ?? null };
}
function activityOf(v: unknown): ActivityAxis {
  const a = { ...emptyActivity(), ...json<Partial<ActivityAxis>>(v, {}) };
  return { state: a.state, confidence: a.confidence as Confidence, source: (a.source ?? null) as ObservationSource | null, at: a.at ?? null, since: a.since ?? null };
}
function detectingOf(v: unknown): DetectingMemory | null {
  const d = json<DetectingMemory | null>(v, null);
  return d ? { attempts: Number(d.attempts), since: Number(d.since), evidenceHash: String(d.evidenceHash) } : null;
}

export function toSession(r: Row): SessionRecord {
  return {
    id: String(r.id),
    taskId: strOrNull(r.task_id),
    runId: strOrNull(r.run_id),
    projectId: strOrNull(r.project_id),
    agent: String(r.agent),
    agentSessionId: strOrNull(r.agent_session_id),
    factoryId: strOrNull(r.factory_id),
    workspace: strOrNull(r.workspace),
    runtime: runtimeOf(r.runtime),
    activity: activityOf(r.activity),
    state: String(r.session_state) as SessionState,
    reason: strOrNull(r.session_reason),
    change: String(r.change_state) as SessionRecord['change'],
    detecting: detectingOf(r.detecting),
    launchGeneration: Number(r.launch_generation),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    rev: Number(r.rev),
  };
}

const COLUMNS: Record<keyof SessionPatch, [string, (v: never) => SqlValue]> = {
  runtime: ['runtime', (v: RuntimeAxis) => JSON.stringify(v)],
  activity: ['activity', (v: ActivityAxis) => JSON.stringify(v)],
  state: ['session_state', (v: string) => v],
  reason: ['session_reason', (v: string | null) => v],
  change: ['change_state', (v: string) => v],
  detecting: ['detecting', (v: DetectingMemory | null) => (v ? JSON.stringify(v) : null)],
  launchGeneration: ['launch_generation', (v: number) => v],
  agentSessionId: ['agent_session_id', (v: string | null) => v],
};

const SELECT = 'SELECT s.*, t.project_id FROM sessions s LEFT JOIN tasks t ON t.id = s.task_id';

export class SessionRepoSql implements SessionRepo {
  constructor(private readonly db: SqlRunner) {}

  async insert(s: NewSession, now: number): Promise<SessionRecord> {
    const id = s.id ?? encodeId('s', randomBytes(6));
    await this.db.run(
      `INSERT INTO sessions (id, task_id, run_id, step_row_id, agent, factory_id, workspace, runtime, activity, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, s.taskId ?? null, s.runId ?? null, s.stepRowId ?? null, s.agent, s.factoryId ?? null, s.workspace ?? null,
        JSON.stringify(emptyRuntime()), JSON.stringify(emptyActivity()), now, now],
    );
    return (await this.get(id))!;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const r = await this.db.get(`${SELECT} WHERE s.id = ?`, [id]);
    return r ? toSession(r) : undefined;
  }

  async list(f: SessionFilter): Promise<SessionRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (f.states && f.states.length > 0) {
      where.push(`s.session_state IN (${f.states.map(() => '?').join(',')})`);
      params.push(...f.states);
    }
    if (f.taskId) {
      where.push('s.task_id = ?');
      params.push(f.taskId);
    }
    const limit = Math.min(Math.max(f.limit ?? 200, 1), 5000);
    const rows = await this.db.all(`${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.created_at DESC, s.id LIMIT ?`, [...params, limit]);
    return rows.map(toSession);
  }

  async update(id: string, expectedRev: number, patch: SessionPatch, now: number): Promise<number | undefined> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    for (const key of Object.keys(patch) as (keyof SessionPatch)[]) {
      const [col, enc] = COLUMNS[key];
      sets.push(`${col} = ?`);
      params.push((enc as (v: unknown) => SqlValue)(patch[key]));
    }
    const row = await this.db.get<{ rev: number }>(
      `UPDATE sessions SET ${[...sets, 'updated_at = ?', 'rev = rev + 1'].join(', ')} WHERE id = ? AND rev = ? RETURNING rev`,
      [...params, now, id, expectedRev],
    );
    return row ? Number(row.rev) : undefined;
  }

  async lock(id: string): Promise<boolean> {
    return (await this.db.run('UPDATE sessions SET updated_at = updated_at WHERE id = ?', [id])) === 1;
  }

  async projectReactions(projectId: string | null): Promise<unknown> {
    if (!projectId) return undefined;
    const r = await this.db.get<{ config: string }>('SELECT config FROM projects WHERE id = ?', [projectId]);
    return json<Record<string, unknown>>(r?.config, {}).reactions;
  }
}

function repos(db: SqlRunner): LifecycleRepos {
  return {
    sessions: new SessionRepoSql(db),
    inputs: new InputRepoSql(db),
    reactions: new ReactionRepoSql(db),
    notifications: new NotificationRepoSql(db),
  };
}

/** The lifecycle's unit of work over a Store: repos bound to one transaction plus its events. */
export function lifecycleStore(store: Store): LifecycleStore {
  return {
    read: repos(store.db),
    write: <T>(fn: (tx: LifecycleTx) => Promise<T>) => store.write((wtx) => fn({ ...repos(wtx), emit: (e) => wtx.emit(e) })),
  };
}
