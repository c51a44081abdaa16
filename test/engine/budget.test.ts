// Budget reservations race: 8 concurrent reservations against a budget that fits 3 → exactly 3 win,
// on both stores (PostgreSQL: 8 pooled connections really racing). Settlement frees the difference.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases, withStore } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { grantLease, repos } from './support.js';

for (const c of storeCases()) {
  describe(`budgets (${c.kind})`, { skip: c.skip }, () => {
    it('8 concurrent reservations against a budget for 3: exactly 3 are held', () =>
      withStore(c.kind, async (store) => {
        const { budgets } = repos(store);
        const pid = await project(store);
        const tasks = await Promise.all(Array.from({ length: 8 }, (_, i) => store.tasks.submit(newTask(pid, { title: `t${i}` }))));
        const results = await Promise.all(
          tasks.map(({ task }, i) =>
            budgets.reserve({ id: `r${i}`, taskId: task.id, projectId: pid, runId: 'run', stepRowId: `s${i}`, amount: { tokens: 1000, costUsd: 1 }, limits: { project: { costUsd: 3 }, global: { tokens: 1_000_000 } } }),
          ),
        );
        assert.equal(results.filter((r) => r.ok).length, 3);
        const denied = results.find((r) => !r.ok);
        assert.ok(denied && !denied.ok && denied.scope === 'project' && denied.reason.includes('cost budget $3'), JSON.stringify(denied));
        assert.equal(await budgets.held(), 3);
        const winners = results.flatMap((r) => (r.ok ? [r.id] : []));
        // A replayed reservation (a winner's id) is not a second one.
        const w = Number(winners[0]!.slice(1));
        const again = await budgets.reserve({ id: winners[0]!, taskId: tasks[w]!.task.id, projectId: pid, runId: 'run', stepRowId: `s${w}`, amount: { tokens: 1000, costUsd: 1 }, limits: { project: { costUsd: 3 } } });
        assert.ok(again.ok);
        assert.equal(await budgets.held(), 3);
        // Settling for less frees room: two steps that used $0.25 each leave $1.5 for another.
        await budgets.settle(winners[0]!, { tokens: 10, costUsd: 0.25 });
        await budgets.settle(winners[0]!, { tokens: 10, costUsd: 0.25 }); // idempotent
        await budgets.settle(winners[1]!, { tokens: 10, costUsd: 0.25 });
        const more = await budgets.reserve({ id: 'late', taskId: tasks[7]!.task.id, projectId: pid, runId: 'run', stepRowId: 's9', amount: { tokens: 0, costUsd: 1.5 }, limits: { project: { costUsd: 3 } } });
        assert.ok(more.ok);
        const over = await budgets.reserve({ id: 'late2', taskId: tasks[6]!.task.id, projectId: pid, runId: 'run', stepRowId: 's10', amount: { tokens: 0, costUsd: 0.01 }, limits: { project: { costUsd: 3 } } });
        assert.equal(over.ok, false);
        await budgets.release('late');
        const ledger = await budgets.ledger(`project:${pid}`);
        assert.equal(ledger.usedCost, 0.5);
        assert.equal(ledger.reservedCost, 1);
      }));

    it('a released launch reserves again under the same id; only the lease holder forfeits a lost launch', () =>
      withStore(c.kind, async (store) => {
        const { budgets } = repos(store);
        const pid = await project(store);
        const { task } = await store.tasks.submit(newTask(pid));
        const req = { taskId: task.id, projectId: pid, runId: 'run', stepRowId: 's0', amount: { tokens: 0, costUsd: 1 }, limits: { project: { costUsd: 5 } } };
        // The dispatch commit lost a race and released its reservation; the retried launch reuses the id.
        assert.ok((await budgets.reserve({ id: 'launch-1', ...req })).ok);
        await budgets.release('launch-1');
        assert.ok((await budgets.reserve({ id: 'launch-1', ...req })).ok);
        assert.equal(await budgets.held(), 1, 'held again, not silently skipped');
        assert.equal((await budgets.ledger(`project:${pid}`)).reservedCost, 1);
        // The lease moved from fa to fb: fa (fenced) may not forfeit the launch; fb may, once.
        const fa = await grantLease(store, task.id, 'fa');
        const fb = await grantLease(store, task.id, 'fb');
        assert.equal(await budgets.forfeitLaunch('launch-1', fa), false);
        assert.equal(await budgets.held(), 1);
        assert.equal(await budgets.forfeitLaunch('launch-1', fb), true);
        assert.equal(await budgets.forfeitLaunch('launch-1', fb), false, 'idempotent');
        const ledger = await budgets.ledger(`project:${pid}`);
        assert.deepEqual([ledger.reservedCost, ledger.usedCost], [0, 1], 'counted at its reservation');
      }));
  });
}
