// The merge step after holders died mid-merge (found by the remote chaos run): each dead holder left
// an open merge intent, the change is already in base (one of them, or an orphaned push, landed), and
// the next holder records the merge — exactly once. Older open intents are superseded, not merged too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases, withStore } from '../support/db.js';
import { newTask } from '../support/fixtures.js';
import { grantLease, repos } from './support.js';
import { mergeKind } from '../../src/engine/steps/merge.js';
import type { StepContext } from '../../src/engine/step-kind.js';
import type { Scm } from '../../src/ports/engine.js';

for (const c of storeCases()) {
  describe(`merge step recovery: ${c.kind}`, { skip: c.skip }, () => {
    it('two open intents of dead holders, the change already in base: one is recorded merged, the other superseded', () =>
      withStore(c.kind, async (store) => {
        const { merges } = repos(store);
        const p = await store.projects.create({ name: 'm', path: '/nowhere', defaultBranch: 'main', config: {} });
        const { task } = await store.tasks.submit(newTask(p.id, { pipeline: 'quick' }));
        const intent = { taskId: task.id, runId: 'r-1', baseBranch: 'main', headSha: 'h'.repeat(40) };
        // Holder 1 recorded its intent and died; holder 2 too (its push may have landed after it died).
        await merges.record({ ...intent, expectedBaseSha: 'a'.repeat(40) }, await grantLease(store, task.id, 'f1'));
        await merges.record({ ...intent, expectedBaseSha: 'b'.repeat(40) }, await grantLease(store, task.id, 'f2'));
        const fence = await grantLease(store, task.id, 'f3');
        const scm = {
          pushBranch: async () => undefined,
          openChange: async () => ({ taskId: task.id, branch: `gantry/${task.id}`, base: 'main' }),
          changeState: async () => ({ state: 'merged', headSha: intent.headSha, mergedSha: 'c'.repeat(40) }),
        } as unknown as Scm;
        const ctx = {
          task, project: p, fence, scm, merges,
          def: { id: 'merge', kind: 'merge' }, step: { idx: 1, kindState: {} }, steps: [{ idx: 0, state: 'done', stepId: 'implement' }],
          pipeline: { name: 'quick', steps: [{ id: 'implement', kind: 'agent' }, { id: 'merge', kind: 'merge' }] },
          workspace: { prepare: async () => ({ path: '/nowhere', branch: `gantry/${task.id}`, baseSha: 'x' }) },
          observeScm: async () => undefined,
        } as unknown as StepContext;
        const t = await mergeKind.advance(ctx);
        assert.equal(t.type, 'work');
        const ks = await (t as { work: () => Promise<Record<string, unknown>> }).work();
        assert.equal(ks.phase, 'merged');
        const rows = await merges.forTask(task.id);
        // Which one records it is immaterial (two intents of one millisecond order by id); that only one does is the point.
        assert.deepEqual(rows.map((r) => r.state).sort(), ['aborted', 'merged'], 'one intent records the merge; the other is superseded');
        const events = await store.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE task_id = ? AND type = 'merge.merged'", [task.id]);
        assert.equal(Number(events[0]!.n), 1, 'one merge event');
      }));
  });
}
