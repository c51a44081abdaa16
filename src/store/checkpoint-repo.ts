// Checkpoint rows: one per snapshot commit, inserted with its `checkpoint.created` event.
import { randomBytes } from 'node:crypto';
import { conflict, GantryError } from '../domain/errors.js';
import { encodeId } from '../domain/ids.js';
import type { Row } from '../ports/sql.js';
import type { Store } from '../ports/store.js';
import type { CheckpointRecord, CheckpointRepo } from '../ports/workspace.js';

const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toCheckpoint(r: Row): CheckpointRecord {
  return {
    id: String(r.id),
    taskId: String(r.task_id),
    seq: Number(r.seq),
    ref: String(r.ref),
    sha: String(r.commit_sha),
    parentSha: strOrNull(r.parent_sha),
    step: strOrNull(r.step),
    reason: String(r.reason),
    filesChanged: Number(r.files_changed),
    linesAdded: Number(r.lines_added),
    linesRemoved: Number(r.lines_removed),
    createdAt: Number(r.created_at),
  };
}

export interface CheckpointRepoOptions {
  /**
   * The factories whose worktrees are on this host. Given, a row is recorded only while no factory holds
   * the task or one of these does: a worktree here is not the task's work while a factory elsewhere holds
   * it (a late flush after a lost lease would put stale work ahead of the holder's). Not given (the fenced
   * engine API, which checks the caller's lease itself): no such check.
   */
  holders?: readonly string[];
}

export class CheckpointRepoSql implements CheckpointRepo {
  constructor(
    private readonly store: Store,
    private readonly opts: CheckpointRepoOptions = {},
  ) {}

  async insert(c: Omit<CheckpointRecord, 'id' | 'createdAt'>): Promise<CheckpointRecord> {
    const id = encodeId('c', randomBytes(6));
    const holders = this.opts.holders;
    return this.store.write(async (tx) => {
      if (holders) {
        const t = await tx.get('SELECT lease_factory_id FROM tasks WHERE id = ?', [c.taskId]);
        const holder = t?.lease_factory_id === null || t?.lease_factory_id === undefined ? null : String(t.lease_factory_id);
        if (holder !== null && !holders.includes(holder)) {
          throw new GantryError('stale_epoch', `checkpoint of task ${c.taskId} not recorded: factory ${holder} holds the task, and its worktree is elsewhere`, {
            hint: 'the holder checkpoints its own work; this host\'s worktree of the task is stale',
          });
        }
      }
      const clash = await tx.get('SELECT * FROM checkpoints WHERE task_id = ? AND seq = ?', [c.taskId, c.seq]);
      // The same commit again is a retry whose first answer was lost (a remote factory's call): it gets its row.
      if (clash && String(clash.commit_sha) === c.sha) return toCheckpoint(clash);
      if (clash) throw conflict(`checkpoint ${c.seq} of task ${c.taskId} already exists`, 'another process checkpointed this task; retry');
      const row = await tx.get(
        `INSERT INTO checkpoints (id, task_id, seq, ref, commit_sha, parent_sha, step, reason, files_changed, lines_added, lines_removed, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NOW_MS) RETURNING *`,
        [id, c.taskId, c.seq, c.ref, c.sha, c.parentSha, c.step, c.reason, c.filesChanged, c.linesAdded, c.linesRemoved],
      );
      tx.emit({
        type: 'checkpoint.created',
        taskId: c.taskId,
        payload: { checkpointId: id, seq: c.seq, sha: c.sha, step: c.step, reason: c.reason, filesChanged: c.filesChanged, linesAdded: c.linesAdded, linesRemoved: c.linesRemoved },
      });
      return toCheckpoint(row!);
    });
  }

  async list(taskId: string): Promise<CheckpointRecord[]> {
    return (await this.store.db.all('SELECT * FROM checkpoints WHERE task_id = ? ORDER BY seq', [taskId])).map(toCheckpoint);
  }

  async latest(taskId: string): Promise<CheckpointRecord | undefined> {
    const row = await this.store.db.get('SELECT * FROM checkpoints WHERE task_id = ? ORDER BY seq DESC LIMIT 1', [taskId]);
    return row ? toCheckpoint(row) : undefined;
  }

  async get(taskId: string, seq: number): Promise<CheckpointRecord | undefined> {
    const row = await this.store.db.get('SELECT * FROM checkpoints WHERE task_id = ? AND seq = ?', [taskId, seq]);
    return row ? toCheckpoint(row) : undefined;
  }
}
