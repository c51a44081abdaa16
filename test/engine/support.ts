// Shared helpers for engine tests: store-backed repos, and a lease granted the way the fleet does
// (one conditional UPDATE bumping the epoch) for tests that drive the engine without a factory.
import type { SqlStore } from '../../src/store/sql-store.js';
import { RunRepoSql } from '../../src/store/run-repo.js';
import { BudgetRepoSql } from '../../src/store/budget-repo.js';
import { MergeIntentRepoSql } from '../../src/store/merge-intent-repo.js';
import type { Fence } from '../../src/ports/engine.js';

export function repos(store: SqlStore) {
  return { runs: new RunRepoSql(store), budgets: new BudgetRepoSql(store), merges: new MergeIntentRepoSql(store) };
}

export async function grantLease(store: SqlStore, taskId: string, factoryId: string): Promise<Fence> {
  const row = await store.write((tx) => tx.get<{ lease_epoch: number }>(
    `UPDATE tasks SET lease_epoch = lease_epoch + 1, lease_factory_id = ?, lease_expires_at = NOW_MS + 600000, stage = 'assigned', rev = rev + 1
     WHERE id = ? RETURNING lease_epoch`,
    [factoryId, taskId],
  ));
  return { taskId, epoch: Number(row!.lease_epoch), factoryId };
}
