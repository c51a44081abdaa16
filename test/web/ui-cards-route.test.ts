// The dashboard's batched reads on both stores: card facts in the board payload and in
// GET /api/ui/cards (current step and attempt, lines, cost, merge SHA, why a queued task waits),
// and GET /api/ui/projects/:id/spend — with rows written as the engine writes them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases } from '../support/db.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';
import type { CardFacts } from '../../src/domain/card-facts.js';
import type { Task } from '../../src/domain/task.js';

for (const c of storeCases()) {
  describe(`ui cards and spend routes: ${c.kind}`, { skip: c.skip }, () => {
    let api: TestApi;
    let project: string;
    let running: Task;
    let shipped: Task;
    let waiting: Task;
    before(async () => {
      api = await startTestApi(c.kind);
      project = ((await api.req('POST', '/api/projects', { path: makeRepo(), name: 'cards' })).body.project as { id: string }).id;
      const submit = async (title: string, extra: Record<string, unknown> = {}) => (await api.req('POST', '/api/tasks', { title, project, ...extra })).body.task as Task;
      running = await submit('running');
      shipped = await submit('shipped');
      waiting = await submit('needs a gpu', { capabilities: ['gpu'] });
      const db = api.coordinator.store.db;
      const now = Date.now();
      const run = async (t: Task, id: string, state: string, current: number, finished: number | null) => {
        await db.run('INSERT INTO runs (id, task_id, number, pipeline, state, current_step, started_at, finished_at, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)', [id, t.id, '{"name":"checked","steps":[]}', state, current, now - 60_000, finished, now, now]);
        await db.run('UPDATE tasks SET current_run_id = ? WHERE id = ?', [id, t.id]);
        const steps: Array<[string, string, string, number, string | null]> = [
          ['implement', 'agent', 'done', 1, null],
          ['checks', 'checks', state === 'done' ? 'done' : 'working', 2, JSON.stringify({ rounds: [{ tail: 'x'.repeat(50) }] })],
          ['merge', 'merge', state === 'done' ? 'done' : 'pending', state === 'done' ? 1 : 0, state === 'done' ? JSON.stringify({ mergedSha: '0123456789abcdef0123', already: false }) : null],
        ];
        for (const [i, [sid, kind, st, attempts, output]] of steps.entries()) {
          await db.run('INSERT INTO steps (id, run_id, idx, step_id, kind, state, attempts, output, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [`${id}-${i}`, id, i, sid, kind, st, attempts, output, now]);
        }
        await db.run("INSERT INTO checkpoints (id, task_id, seq, ref, commit_sha, reason, lines_added, lines_removed, created_at) VALUES (?, ?, 1, 'r', 'c1', 'step', 10, 2, ?), (?, ?, 2, 'r2', 'c2', 'step', 5, 1, ?)", [`${id}-c1`, t.id, now, `${id}-c2`, t.id, now]);
        await api.coordinator.store.write(async (tx) => {
          tx.emit({ type: 'session.finished', taskId: t.id, runId: id, sessionId: `${id}:0:main:1`, payload: { step: 'implement', status: 'completed', tokensIn: 1000, tokensOut: 200, costUsd: 0.25, costKnown: true } });
          tx.emit({ type: 'session.finished', taskId: t.id, runId: id, sessionId: `${id}:1:fix-1:1`, payload: { step: 'checks', status: 'completed', tokensIn: 100, tokensOut: 20, costUsd: 0.05, costKnown: true } });
        });
      };
      await run(running, 'r-running', 'running', 1, null);
      await run(shipped, 'r-shipped', 'done', 2, now);
      const store = api.coordinator.store;
      for (const [t, stage] of [[running, 'building'], [shipped, 'shipped']] as const) {
        const cur = (await store.tasks.get(t.id))!;
        await store.tasks.setStage(t.id, cur.rev, stage, null, { type: 'task.stage_changed', payload: { from: cur.stage, to: stage } });
      }
    });
    after(async () => api?.close());

    it('the board payload carries every card’s facts, read in batches', async () => {
      const r = await api.req('GET', '/api/ui/board');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const facts = r.body.facts as Record<string, CardFacts>;
      const f = facts[running.id]!;
      assert.deepEqual(f.step, { id: 'checks', kind: 'checks', attempt: 2, state: 'working' });
      assert.deepEqual(f.lines, { added: 15, removed: 3 });
      assert.deepEqual([f.usage.turns, f.usage.costUsd, f.usage.costKnown], [2, 0.3, true]);
      assert.equal(f.mergeSha, null);
      assert.equal(facts[shipped.id]!.step, null);
      assert.equal(facts[shipped.id]!.mergeSha, '0123456789abcdef0123');
      // The test API runs no factory: a queued task says no factory is serving.
      assert.equal(facts[waiting.id]!.waiting?.kind, 'no_live_factory');
      assert.equal(facts[running.id]!.waiting, null);
    });

    it('GET /api/ui/cards returns the asked tasks and their facts; unknown ids are left out', async () => {
      const r = await api.req('GET', `/api/ui/cards?ids=${running.id},t-nope,${shipped.id}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual((r.body.tasks as Task[]).map((t) => t.id).sort(), [running.id, shipped.id].sort());
      assert.deepEqual(Object.keys(r.body.facts as object).sort(), [running.id, shipped.id].sort());
      const bad = await api.req('GET', '/api/ui/cards?ids=');
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body), /give one or more task ids/);
      assert.equal((await api.req('GET', `/api/ui/cards?ids=${Array.from({ length: 101 }, (_, i) => `t-${i}`).join(',')}`)).status, 400);
      assert.equal((await api.req('GET', `/api/ui/cards?ids=${running.id}`, undefined, { token: null })).status, 401);
    });

    it("a project's spend: total, per day and per task, most expensive first", async () => {
      const r = await api.req('GET', `/api/ui/projects/${project}/spend`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const body = r.body as { total: { costUsd: number; turns: number }; days: Array<{ day: number; usage: { costUsd: number } }>; tasks: Array<{ id: string; usage: { costUsd: number } }> };
      assert.deepEqual([body.total.turns, body.total.costUsd], [4, 0.6]);
      assert.equal(body.days.length, 1);
      assert.equal(body.days[0]!.day, Math.floor(Date.now() / 86_400_000) * 86_400_000);
      assert.deepEqual(body.tasks.map((t) => t.usage.costUsd), [0.3, 0.3]);
      assert.equal((await api.req('GET', '/api/ui/projects/p-nope/spend')).status, 404);
    });

    it('the step log route refuses what it cannot serve, and changes nothing', async () => {
      const base = `/api/ui/tasks/${running.id}/steps/checks`;
      assert.equal((await api.req('GET', `${base}/log?round=0&check=../../etc/passwd`)).status, 400);
      assert.equal((await api.req('GET', `${base}/log?offset=0`)).status, 400);
      assert.equal((await api.req('GET', `${base}/log?session=r-running:9:x:1`)).status, 404);
      assert.equal((await api.req('GET', `/api/ui/tasks/${running.id}/steps/nope/attempts`)).status, 404);
      assert.equal((await api.req('GET', `${base}/attempts`, undefined, { token: null })).status, 401);
    });
  });
}
