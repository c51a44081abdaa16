// Merge intents (DESIGN §5 inv. 8): recorded, fenced by the lease in the same statement, before the
// irreversible ref update — so a fenced or stale factory never gets as far as merging.
import { randomBytes } from 'node:crypto';
import { encodeId } from '../domain/ids.js';
import type { Fence, MergeIntent, MergeIntentRepo } from '../ports/engine.js';
import type { Row } from '../ports/sql.js';
import type { Store } from '../ports/store.js';
import { fenceClause, staleEpoch } from './run-repo.js';

const toIntent = (r: Row): MergeIntent => ({
  id: String(r.id),
  taskId: String(r.task_id),
  runId: String(r.run_id),
  epoch: Number(r.epoch),
  baseBranch: String(r.base_branch),
  expectedBaseSha: String(r.expected_base_sha),
  headSha: String(r.head_sha),
  state: String(r.state) as MergeIntent['state'],
  mergedSha: r.merged_sha === null || r.merged_sha === undefined ? null : String(r.merged_sha),
});

export class MergeIntentRepoSql implements MergeIntentRepo {
  constructor(private readonly store: Store) {}

  record(i: Omit<MergeIntent, 'id' | 'state' | 'mergedSha' | 'epoch'>, fence: Fence): Promise<MergeIntent> {
    return this.store.write(async (tx) => {
      const f = fenceClause(fence);
      const row = await tx.get(
        `INSERT INTO merge_intents (id, task_id, run_id, epoch, base_branch, expected_base_sha, head_sha, state, created_at, updated_at)
         SELECT ?, ?, ?, ?, ?, ?, ?, 'intent', NOW_MS, NOW_MS WHERE ${f.sql} RETURNING *`,
        [encodeId('m', randomBytes(8)), i.taskId, i.runId, fence.epoch, i.baseBranch, i.expectedBaseSha, i.headSha, ...f.params],
      );
      if (!row) throw await staleEpoch(tx, fence);
      tx.emit({ type: 'merge.intent', taskId: i.taskId, runId: i.runId, payload: { epoch: fence.epoch, base: i.baseBranch, baseSha: i.expectedBaseSha, headSha: i.headSha } });
      return toIntent(row);
    });
  }

  async markMerged(id: string, mergedSha: string): Promise<void> {
    await this.store.write(async (tx) => {
      const r = await tx.get<{ task_id: string; run_id: string }>(
        "UPDATE merge_intents SET state = 'merged', merged_sha = ?, updated_at = NOW_MS WHERE id = ? AND state = 'intent' RETURNING task_id, run_id",
        [mergedSha, id],
      );
      if (r) tx.emit({ type: 'merge.merged', taskId: r.task_id, runId: r.run_id, payload: { intent: id, mergedSha } });
    });
  }

  async markAborted(id: string, reason: string): Promise<void> {
    await this.store.write(async (tx) => {
      const r = await tx.get<{ task_id: string; run_id: string }>(
        "UPDATE merge_intents SET state = 'aborted', reason = ?, updated_at = NOW_MS WHERE id = ? AND state = 'intent' RETURNING task_id, run_id",
        [reason, id],
      );
      if (r) tx.emit({ type: 'merge.aborted', taskId: r.task_id, runId: r.run_id, payload: { intent: id, reason } });
    });
  }

  async forTask(taskId: string): Promise<MergeIntent[]> {
    return (await this.store.db.all('SELECT * FROM merge_intents WHERE task_id = ? ORDER BY created_at, id', [taskId])).map(toIntent);
  }
}
