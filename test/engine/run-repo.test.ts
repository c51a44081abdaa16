// Runs and steps on both stores: compare-and-set on rev and lease epoch, set-once timestamps,
// first failure wins, retry/restart carry finished steps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases, withStore } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { grantLease, repos } from './support.js';
import { BUILTIN_PIPELINES } from '../../src/domain/pipeline/builtins.js';
import { GantryError } from '../../src/domain/errors.js';

const pipeline = BUILTIN_PIPELINES.quick!;

for (const c of storeCases()) {
  describe(`run repo (${c.kind})`, { skip: c.skip }, () => {
    it('commits with CAS on rev and fence; refuses stale writers and changes nothing', () =>
      withStore(c.kind, async (store) => {
        const { runs } = repos(store);
        const { task } = await store.tasks.submit(newTask(await project(store), { pipeline: 'quick' }));
        const fence = await grantLease(store, task.id, 'f1');
        const snap = await runs.create({ taskId: task.id, pipeline, fence, event: { type: 'run.started' } });
        assert.equal(snap.steps.length, 4);
        assert.equal((await store.tasks.get(task.id))!.currentRunId, snap.run.id);
        const s1 = await runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, run: { markStarted: true }, steps: [{ idx: 0, state: 'working', markStarted: true }], events: [{ type: 'step.started' }] }, fence);
        // Same rev again (a replay of an old transition) → conflict, nothing changes.
        await assert.rejects(runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, steps: [{ idx: 0, state: 'done' }], events: [] }, fence), (e: GantryError) => e.code === 'conflict');
        // A newer lease fences the old holder, even with the right rev.
        const newer = await grantLease(store, task.id, 'f2');
        await assert.rejects(runs.commit({ runId: snap.run.id, expectedRev: s1.run.rev, steps: [{ idx: 0, state: 'done' }], events: [] }, fence), (e: GantryError) => e.code === 'stale_epoch');
        const cur = (await runs.load(snap.run.id))!;
        assert.equal(cur.run.rev, s1.run.rev);
        assert.equal(cur.steps[0]!.state, 'working');
        await runs.commit({ runId: snap.run.id, expectedRev: s1.run.rev, steps: [{ idx: 0, state: 'done', markFinished: true }], events: [{ type: 'step.done' }] }, newer);
        const types = (await store.events.list({ taskId: task.id })).map((e) => e.type);
        assert.deepEqual(types.filter((t) => t.startsWith('run.') || t.startsWith('step.')), ['run.started', 'step.started', 'step.done']);
      }));

    it('keeps timestamps set once and the first failure', () =>
      withStore(c.kind, async (store) => {
        const { runs } = repos(store);
        const { task } = await store.tasks.submit(newTask(await project(store), { pipeline: 'quick' }));
        let snap = await runs.create({ taskId: task.id, pipeline, fence: null, event: { type: 'run.started' } });
        snap = await runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, run: { markStarted: true, markPaused: true }, steps: [{ idx: 0, markStarted: true }], events: [] }, null);
        const started = snap.run.startedAt;
        const stepStarted = snap.steps[0]!.startedAt;
        assert.ok(started && stepStarted && snap.run.pausedAt);
        await new Promise((r) => setTimeout(r, 5));
        snap = await runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, run: { markStarted: true, markPaused: true, failure: { kind: 'agent', message: 'first' } }, steps: [{ idx: 0, markStarted: true, failure: { kind: 'agent', message: 'first' } }], events: [] }, null);
        snap = await runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, run: { failure: { kind: 'cancelled', message: 'second' }, markFinished: true }, steps: [{ idx: 0, failure: { kind: 'cancelled', message: 'second' } }], events: [] }, null);
        assert.equal(snap.run.startedAt, started);
        assert.equal(snap.steps[0]!.startedAt, stepStarted);
        assert.equal(snap.run.failureKind, 'agent');
        assert.equal(snap.run.failureMessage, 'first');
        assert.equal(snap.steps[0]!.failureKind, 'agent');
        const fin = snap.run.finishedAt;
        snap = await runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, run: { markFinished: true }, events: [] }, null);
        assert.equal(snap.run.finishedAt, fin);
      }));

    it('retry carries finished steps into a new run and requeues the task', () =>
      withStore(c.kind, async (store) => {
        const { runs } = repos(store);
        const { task } = await store.tasks.submit(newTask(await project(store), { pipeline: 'quick' }));
        let snap = await runs.create({ taskId: task.id, pipeline, fence: null, event: { type: 'run.started' } });
        snap = await runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, run: { state: 'failed' }, steps: [{ idx: 0, state: 'done', output: { text: 'impl' } }, { idx: 1, state: 'failed' }], events: [] }, null);
        // Still queued from submit: a new run may start; while leased it may not.
        await grantLease(store, task.id, 'f1');
        await assert.rejects(runs.create({ taskId: task.id, pipeline, from: snap, keepUntil: 1, fence: null, supersede: snap.run.id, requeueFrom: ['failed'], event: { type: 'run.retried' } }), (e: GantryError) => e.code === 'conflict');
        await store.write((tx) => tx.run("UPDATE tasks SET stage = 'failed', lease_factory_id = NULL WHERE id = ?", [task.id]));
        const next = await runs.create({ taskId: task.id, pipeline, from: snap, keepUntil: 1, fence: null, supersede: snap.run.id, requeueFrom: ['failed'], event: { type: 'run.retried' } });
        assert.equal(next.run.number, 2);
        assert.deepEqual(next.steps.map((s) => s.state), ['done', 'pending', 'pending', 'pending']);
        assert.deepEqual(next.steps[0]!.output, { text: 'impl' });
        assert.equal((await store.tasks.get(task.id))!.stage, 'queued');
        assert.equal((await runs.list(task.id)).length, 2);
      }));
  });
}
