// Human actions over the real HTTP API and the real CLI binary: the right action moves the run and
// requeues the task; the wrong one is refused with 409 and the reason, changing nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from '../support/api.js';
import { gantry } from '../support/cli.js';
import { newTask, project } from '../support/fixtures.js';
import { RunRepoSql } from '../../src/store/run-repo.js';
import { BUILTIN_PIPELINES } from '../../src/domain/pipeline/builtins.js';

describe('run actions API and CLI', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi('sqlite');
  });
  after(() => api.close());

  async function parkedTask(kind: 'approval' | 'review_cap') {
    const store = api.coordinator.store;
    const runs = new RunRepoSql(store);
    const { task } = await store.tasks.submit(newTask(await project(store, `p${Math.random().toString(36).slice(2, 8)}`)));
    const snap = await runs.create({ taskId: task.id, pipeline: BUILTIN_PIPELINES.standard!, fence: null, event: { type: 'run.started' } });
    const idx = kind === 'approval' ? 0 : 2;
    await runs.commit(
      {
        runId: snap.run.id, expectedRev: snap.run.rev,
        run: { state: 'parked', currentStep: idx, waiting: { kind, stepIdx: idx, stepId: snap.steps[idx]!.stepId, question: 'q?', options: kind === 'approval' ? ['approve', 'changes', 'reject'] : ['more_round', 'proceed', 'stop'] } },
        steps: [{ idx: 0, state: kind === 'approval' ? 'waiting' : 'done', kindState: { phase: 'approval', result: { text: 'plan' } } }, ...(kind === 'review_cap' ? [{ idx: 1, state: 'done' as const }, { idx: 2, state: 'waiting' as const }] : [])],
        events: [],
      },
      null,
    );
    await store.write((tx) => tx.run("UPDATE tasks SET stage = 'blocked', blocked_reason = 'awaiting_human' WHERE id = ?", [task.id]));
    return { task, runs };
  }

  it('approve moves a parked approval; a second approve is refused with the reason', async () => {
    const { task, runs } = await parkedTask('approval');
    const wrong = await gantry(['answer', task.id, 'hello', '--url', api.url, '--token', api.token]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /waits for an approval \(approve · changes · reject\), not answer/);
    assert.equal((await runs.current(task.id))!.run.state, 'parked');
    const ok = await gantry(['approve', task.id, '--url', api.url, '--token', api.token, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const out = JSON.parse(ok.stdout) as { run: { state: string }; task: { stage: string } };
    assert.equal(out.run.state, 'running');
    assert.equal(out.task.stage, 'queued');
    const again = await api.req('POST', `/api/tasks/${task.id}/run/approve`, {});
    assert.equal(again.status, 409);
    assert.match(JSON.stringify(again.body), /the run is running, not waiting for a person/);
  });

  it('request changes needs feedback and sends the producer back; review cap stop fails and resets', async () => {
    const a = await parkedTask('approval');
    const noText = await api.req('POST', `/api/tasks/${a.task.id}/run/changes`, {});
    assert.equal(noText.status, 409);
    const r = await api.req('POST', `/api/tasks/${a.task.id}/run/changes`, { text: 'split the plan' });
    assert.equal(r.status, 200);
    const snap = (await a.runs.current(a.task.id))!;
    assert.equal(snap.steps[0]!.state, 'pending');
    assert.equal(snap.steps[0]!.kindState.feedback, 'split the plan');

    // Line comments from the diff viewer: validated, and the producer's feedback names each path:line.
    const c = await parkedTask('approval');
    const badComments: Array<[string, unknown, RegExp]> = [
      ['changes', { comments: [{ path: 'a.ts', line: 0, body: 'x' }] }, /comments\[0\]\.line: Too small/],
      ['changes', { comments: [{ path: 'a.ts', line: 1, body: '   ' }] }, /a line comment needs text/],
      ['changes', { comments: [{ path: 'a.ts', line: 1, side: 'left', body: 'x' }] }, /comments\[0\]\.side/],
      ['changes', { comments: [] }, /comments/],
      ['approve', { comments: [{ path: 'a.ts', line: 1, body: 'x' }] }, /line comments go with changes, not approve/],
    ];
    for (const [action, body, want] of badComments) {
      const bad = await api.req('POST', `/api/tasks/${c.task.id}/run/${action}`, body);
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.match(JSON.stringify(bad.body), want);
    }
    assert.equal((await c.runs.current(c.task.id))!.run.state, 'parked', 'a refused request changes nothing');
    const withComments = await api.req('POST', `/api/tasks/${c.task.id}/run/changes`, {
      text: 'Almost.',
      comments: [{ path: 'src/rules.ts', line: 14, body: 'Cap the discount at 50%.' }, { path: 'README.md', line: 3, side: 'old', body: 'Keep this line.' }],
    });
    assert.equal(withComments.status, 200, JSON.stringify(withComments.body));
    assert.equal(
      (await c.runs.current(c.task.id))!.steps[0]!.kindState.feedback,
      'Almost.\n\nLine comments (path:line):\n- README.md:3 (a removed line; the number is in the old file): Keep this line.\n- src/rules.ts:14: Cap the discount at 50%.',
    );

    const b = await parkedTask('review_cap');
    const stop = await gantry(['review', b.task.id, 'stop', '--url', api.url, '--token', api.token]);
    assert.equal(stop.code, 0, stop.stderr);
    const s2 = (await b.runs.current(b.task.id))!;
    assert.equal(s2.run.state, 'failed');
    assert.equal(s2.run.failureKind, 'rejected');
    assert.deepEqual(s2.steps.slice(0, 3).map((s) => s.state), ['done', 'pending', 'pending']);
    const retried = await api.req('POST', `/api/tasks/${b.task.id}/run/retry`, {});
    assert.equal(retried.status, 200);
    assert.equal((retried.body.run as { currentStep: string }).currentStep, 'plan');
    assert.equal((await b.runs.current(b.task.id))!.steps[1]!.state, 'pending');
    const bad = await api.req('POST', `/api/tasks/${b.task.id}/run/restart`, { from: 'nope' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /steps: plan, implement, review, checks, conflicts, merge/);
  });
});
