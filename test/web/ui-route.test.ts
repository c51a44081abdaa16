// GET /api/ui/board on both stores: one read gives every unfinished task, recent finished ones, and
// an event seq such that following the stream from it misses nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases } from '../support/db.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';
import type { Task } from '../../src/domain/task.js';

for (const c of storeCases()) {
  describe(`ui board route: ${c.kind}`, { skip: c.skip }, () => {
    let api: TestApi;
    let project: string;
    before(async () => {
      api = await startTestApi(c.kind);
      project = ((await api.req('POST', '/api/projects', { path: makeRepo() })).body.project as { id: string }).id;
    });
    after(async () => api?.close());

    it('needs a token', async () => {
      assert.equal((await api.req('GET', '/api/ui/board', undefined, { token: null })).status, 401);
    });

    it('returns every unfinished task, a bounded number of finished ones, and the seq they reflect', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push(((await api.req('POST', '/api/tasks', { title: `t${i}`, project })).body.task as Task).id);
      const store = api.coordinator.store;
      // Finish three of them through the real CAS transition.
      for (const id of ids.slice(0, 3)) {
        const t = (await store.tasks.get(id))!;
        await store.tasks.setStage(id, t.rev, 'shipped', null, { type: 'task.stage_changed', payload: { from: t.stage, to: 'shipped' } });
      }
      const latest = await store.events.latestSeq();
      const r = await api.req('GET', '/api/ui/board?recent=2');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const tasks = r.body.tasks as Task[];
      assert.equal(r.body.seq, latest);
      assert.equal(r.body.truncated, false);
      assert.deepEqual(tasks.filter((t) => t.stage === 'queued').map((t) => t.id).sort(), ids.slice(3).sort());
      assert.equal(tasks.filter((t) => t.stage === 'shipped').length, 2, 'recent finished tasks are bounded');
    });

    it('says why each parked run waits, from its latest park event', async () => {
      const store = api.coordinator.store;
      const t = ((await api.req('POST', '/api/tasks', { title: 'parked', project })).body.task as Task);
      await store.tasks.setStage(t.id, t.rev, 'blocked', 'awaiting_human', { type: 'run.parked', payload: { step: 'plan', idx: 0, waiting: 'approval', options: [] } });
      const r = await api.req('GET', '/api/ui/board');
      const parks = r.body.parks as Record<string, { waiting: string; step: string; options: string[] }>;
      assert.deepEqual(parks[t.id], { waiting: 'approval', step: 'plan', options: [] });
      assert.equal(Object.keys(parks).length, 1, 'only parked tasks');
    });

    it('rejects bad query input', async () => {
      const r = await api.req('GET', '/api/ui/board?recent=-1');
      assert.equal(r.status, 400);
      assert.match(JSON.stringify(r.body), /query\.recent/);
    });

    it("offers the New task form each project's pipelines and defaults, and the registered agents", async () => {
      const custom = makeRepo({ 'gantry.yaml': 'version: 1\ndefaults: { pipeline: quick }\npipelines:\n  solo:\n    steps: [ { id: implement, kind: agent } ]\n' });
      const id = ((await api.req('POST', '/api/projects', { path: custom, name: 'custom' })).body.project as { id: string }).id;
      const r = await api.req('GET', '/api/ui/new-task');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const projects = r.body.projects as Array<{ id: string; pipelines: string[]; defaultPipeline: string; defaultAgent: string }>;
      const p = projects.find((x) => x.id === id)!;
      assert.deepEqual(p.pipelines, ['standard', 'quick', 'review-only', 'solo']);
      assert.equal(p.defaultPipeline, 'quick');
      assert.ok(projects.some((x) => x.id === project));
      assert.ok((r.body.agents as string[]).includes('scripted'));
      assert.equal((await api.req('GET', '/api/ui/new-task', undefined, { token: null })).status, 401);
    });
  });
}
