// RunReplySink against a real store, run repository and HumanActions: the reply is checked against the
// run (parked on this session's own question) and committed against that very run revision — if the run
// is re-parked on another session's question in between, the answer is refused and lands nowhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases, withStore } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { RunRepoSql } from '../../src/store/run-repo.js';
import { lifecycleStore } from '../../src/store/session-repo.js';
import { HumanActions } from '../../src/engine/human-actions.js';
import { RunReplySink } from '../../src/lifecycle/run-reply-sink.js';
import { BUILTIN_PIPELINES } from '../../src/domain/pipeline/builtins.js';
import { isGantryError } from '../../src/domain/errors.js';
import type { RunRepo } from '../../src/ports/engine.js';
import type { Store } from '../../src/ports/store.js';

async function parkedOn(store: Store, runs: RunRepo, taskId: string, sessionId: string) {
  const snap = (await runs.current(taskId))!;
  return runs.commit(
    {
      runId: snap.run.id, expectedRev: snap.run.rev,
      run: { state: 'parked', currentStep: 0, waiting: { kind: 'needs_input', stepIdx: 0, stepId: snap.steps[0]!.stepId, question: 'Which database?', options: [] } },
      steps: [{ idx: 0, state: 'waiting', sessionId }],
      events: [],
    },
    null,
  );
}

for (const c of storeCases()) {
  describe(`RunReplySink: ${c.kind}`, { skip: c.skip }, () => {
    it('a re-park on another session\'s question between the check and the commit refuses the answer; the input is not spent on the wrong question', async () => {
      await withStore(c.kind, async (store) => {
        const runs = new RunRepoSql(store);
        const actions = new HumanActions({ store, runs });
        const { task } = await store.tasks.submit(newTask(await project(store)));
        const created = await runs.create({ taskId: task.id, pipeline: BUILTIN_PIPELINES.standard!, fence: null, event: { type: 'run.started' } });
        const asked = await lifecycleStore(store).write((tx) => tx.sessions.insert({ taskId: task.id, runId: created.run.id, agent: 'scripted' }, Date.now()));
        await parkedOn(store, runs, task.id, asked.id);
        let raced = false;
        const sink = new RunReplySink({
          current: (id) => runs.current(id),
          act: async (id, a, expect) => {
            if (!raced) {
              // The window: the run moves on and parks on a later launch's question before the commit.
              raced = true;
              await parkedOn(store, runs, task.id, `${asked.id}-later`);
            }
            return actions.act(id, a, expect);
          },
        });
        const input = { id: 'in-1', text: 'use sqlite', source: 'human' };
        assert.equal(await sink.ready(asked, input), true);
        await assert.rejects(sink.deliver(asked, input), (e: unknown) => isGantryError(e) && e.code === 'conflict' && /changed since/.test(e.message));
        const after = (await runs.current(task.id))!;
        assert.equal(after.run.state, 'parked', 'the later question is not answered with this reply');
        assert.equal(after.steps[0]!.kindState.answer, undefined);
        assert.equal(await sink.ready(asked, input), false, 'the reply waits: the question now is another session\'s');
      });
    });
  });
}
