// (a) End to end on a real repository with the scripted agent: plan → approval → implement → review
// (round 1 below threshold, round 2 passes) → checks (red, fixer repairs, green) → conflicts
// (another task merged first, resolver fixes) → merge. Base contains both changes; every step and
// event is recorded. (c) reject, cancel, retry-from-failed, restart-from-step. (d) dependencies.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../../support/git.js';
import { newTask } from '../../support/fixtures.js';
import type { SqlStore } from '../../../src/store/sql-store.js';
import type { FleetCoordinator } from '../../../src/fleet/coordinator.js';
import { MergeIntentRepoSql } from '../../../src/store/merge-intent-repo.js';
import { HumanActions } from '../../../src/engine/human-actions.js';
import { startRig, until, type EngineParts, type Rig } from './rig.js';
import { BASE_FILES, projectYaml } from './scripts.js';

describe('pipeline end to end (sqlite, scripted agent, real git)', () => {
  let store: SqlStore;
  let c: FleetCoordinator;
  let parts: EngineParts;
  let repo: string;
  let home: string;
  let projectId: string;

  let rig: Rig;
  before(async () => {
    rig = await startRig({ kind: 'sqlite', files: BASE_FILES, yaml: projectYaml() });
    ({ store, repo, home, projectId, c, parts } = rig);
  });
  after(() => rig.stop());

  const stage = async (id: string) => (await store.tasks.get(id))!.stage;
  const runState = async (id: string) => (await parts.runs.current(id))?.run;

  it('(a) ships through every step kind; base has both changes; all recorded', async () => {
    const a = (await store.tasks.submit(newTask(projectId, { title: 'task A', pipeline: 'full', agent: 'scripted' }))).task;
    await until(async () => (await runState(a.id))?.state === 'parked', 'A parks at the approval gate');
    assert.equal((await runState(a.id))!.waiting!.stepId, 'gate');
    await until(async () => (await stage(a.id)) === 'blocked', 'A released (blocked, awaiting_human)');
    assert.equal((await store.tasks.get(a.id))!.blockedReason, 'awaiting_human');

    const b = (await store.tasks.submit(newTask(projectId, { title: 'task B', pipeline: 'other', agent: 'scripted' }))).task;
    await until(async () => (await stage(b.id)) === 'shipped', 'B ships first');
    assert.equal(git(repo, 'show', 'main:shared.txt'), 'alpha\nTASK-B\ngamma');

    await parts.actions.act(a.id, { action: 'approve' });
    await until(async () => ['shipped', 'failed'].includes(await stage(a.id)), 'A finishes');
    const snap = (await parts.runs.current(a.id))!;
    assert.equal(await stage(a.id), 'shipped', JSON.stringify(snap.run));
    assert.deepEqual(snap.steps.map((s) => `${s.stepId}:${s.state}`), ['plan:done', 'gate:done', 'implement:done', 'review:done', 'checks:done', 'lint:done', 'conflicts:done', 'merge:done']);
    const byId = Object.fromEntries(snap.steps.map((s) => [s.stepId, s]));
    assert.equal(byId.review!.output!.rounds, 2);
    assert.equal(byId.implement!.attempts, 2, 'the implementer re-ran with the review feedback');
    assert.equal(byId.checks!.output!.fixes, 1);
    assert.equal(byId.conflicts!.output!.fixes, 1);
    // Base contains both changes, merged exactly once.
    const shared = git(repo, 'show', 'main:shared.txt');
    assert.match(shared, /TASK-A/);
    assert.match(shared, /TASK-B/);
    assert.equal(git(repo, 'show', 'main:a.txt'), 'a');
    assert.equal(git(repo, 'show', 'main:fixed.txt'), 'ok');
    const intents = await new MergeIntentRepoSql(store).forTask(a.id);
    assert.deepEqual(intents.map((i) => i.state), ['merged']);
    const types = (await store.events.list({ taskId: a.id, limit: 1000 })).map((e) => e.type);
    for (const t of ['run.started', 'step.started', 'session.dispatched', 'run.parked', 'run.answered', 'step.rework', 'step.done', 'merge.intent', 'merge.merged', 'run.done']) assert.ok(types.includes(t), `event ${t}`);
    assert.equal(types.filter((t) => t === 'step.done').length, 8 + 1, 'every step done (implement twice)');
    assert.ok(readFileSync(join(home, 'f1', 'logs', 'checks', a.id, '1', 'checks', 'round-0', 'fixed.log'), 'utf8').length >= 0);
  });

  it('(c) reject fails the run; restart from a step keeps earlier steps; cancel of a parked run', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'to reject', pipeline: 'full', agent: 'scripted' }))).task;
    await until(async () => (await runState(t.id))?.state === 'parked' && (await stage(t.id)) === 'blocked', 'parks at the gate');
    await assert.rejects(parts.actions.act(t.id, { action: 'reply', text: 'x' }), /waits for an approval/);
    await parts.actions.act(t.id, { action: 'reject', text: 'not this way' });
    const r1 = (await runState(t.id))!;
    assert.equal(r1.state, 'failed');
    assert.equal(r1.failureKind, 'rejected');
    assert.equal(await stage(t.id), 'failed');
    const planSessions = async () => (await store.events.list({ taskId: t.id, limit: 1000 })).filter((e) => e.type === 'session.dispatched' && e.payload.step === 'plan').length;
    assert.equal(await planSessions(), 1);
    const snap = await parts.actions.restart(t.id, 'gate');
    assert.equal(snap.run.number, 2);
    assert.deepEqual(snap.steps.slice(0, 2).map((s) => s.state), ['done', 'pending']);
    await until(async () => (await runState(t.id))?.state === 'parked' && (await stage(t.id)) === 'blocked', 'parks at the gate again');
    assert.equal((await runState(t.id))!.number, 2);
    assert.equal(await planSessions(), 1, 'the kept plan step did not run again');
    await parts.actions.cancel(t.id);
    assert.equal((await runState(t.id))!.state, 'cancelled');
    assert.equal(await stage(t.id), 'cancelled');
    await assert.rejects(parts.actions.cancel(t.id), /already cancelled/);
  });

  it('(c) cancel of a running run stops its session through the holder', async () => {
    const actions = new HumanActions({ store, runs: parts.runs, stopHolder: async (id) => void (await c.act(id, 'cancel', { reason: 'cancelled by a person' })) });
    const t = (await store.tasks.submit(newTask(projectId, { title: 'sleepy', pipeline: 'sleepy', agent: 'scripted' }))).task;
    await until(async () => (await store.events.list({ taskId: t.id, limit: 1000 })).some((e) => e.type === 'session.dispatched'), 'the sleeper runs');
    await until(() => parts.sessions.running > 0 || undefined, 'the session is live');
    await actions.cancel(t.id);
    await until(async () => (await stage(t.id)) === 'cancelled', 'task cancelled');
    await until(() => parts.sessions.running === 0 || undefined, 'the session was stopped, not left running', 20_000);
    assert.equal((await runState(t.id))!.state, 'cancelled');
    assert.equal((await runState(t.id))!.failureKind, 'cancelled');
  });

  it('(c) retry resumes from the failed step, keeping finished steps', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'strict', pipeline: 'strict', agent: 'scripted' }))).task;
    await until(async () => (await stage(t.id)) === 'failed', 'checks exhaust');
    const r1 = (await runState(t.id))!;
    assert.equal(r1.failureKind, 'checks_exhausted');
    const note = await store.db.get<{ detail: string }>("SELECT detail FROM notifications WHERE task_id = ? AND kind = 'checks_exhausted'", [t.id]);
    assert.match(note!.detail, /fixed/, 'the notification carries the failing check and its output');
    // A person fixes it by hand in the workspace, then retries.
    const ws = await parts.engine.deps.workspace.prepare(t.id);
    git(ws.path, 'checkout', '-q', ws.branch);
    git(ws.path, 'rm', '-q', 'broken.txt');
    git(ws.path, 'commit', '-qm', 'fix by hand');
    const snap = await parts.actions.retry(t.id);
    assert.deepEqual(snap.steps.map((s) => s.state), ['done', 'pending', 'pending']);
    await until(async () => ['shipped', 'failed'].includes(await stage(t.id)), 'retry finishes');
    assert.equal(await stage(t.id), 'shipped');
    const dispatched = (await store.events.list({ taskId: t.id, limit: 1000 })).filter((e) => e.type === 'session.dispatched');
    assert.equal(dispatched.length, 1, 'implement ran once, in the first run only');
    assert.equal(git(repo, 'show', 'main:c.txt'), 'c');
  });

  it('an agent step that touches files outside its allow: globs fails (guard)', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'guarded', pipeline: 'guarded', agent: 'scripted' }))).task;
    await until(async () => ['failed', 'shipped'].includes(await stage(t.id)), 'guarded finishes');
    const run = (await runState(t.id))!;
    assert.equal(run.state, 'failed');
    assert.equal(run.failureKind, 'agent');
    assert.match(run.failureMessage ?? '', /outside what the step may touch/);
    assert.throws(() => git(repo, 'show', `main:broken.txt`));
  });

  it("an agent's decision parks the run; the answer resumes the same conversation", async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'ask', pipeline: 'ask', agent: 'scripted' }))).task;
    await until(async () => (await runState(t.id))?.state === 'parked' && (await stage(t.id)) === 'blocked', 'parks on the question');
    const w = (await runState(t.id))!.waiting!;
    assert.deepEqual([w.kind, w.question, w.options], ['decision', 'Which store?', ['postgres', 'sqlite']]);
    await assert.rejects(parts.actions.act(t.id, { action: 'answer', text: 'mysql' }), /not one of the options/);
    await parts.actions.act(t.id, { action: 'answer', text: 'postgres' });
    await until(async () => (await stage(t.id)) === 'shipped', 'ships after the answer');
    const dispatched = (await store.events.list({ taskId: t.id, limit: 1000 })).filter((e) => e.type === 'session.dispatched').map((e) => e.payload.key);
    assert.deepEqual(dispatched, ['main-0', 'answer-1']);
    assert.equal(git(repo, 'show', 'main:answer.txt'), 'resumed');
  });

  it('a blocker at the review cap parks; proceed, then merge review', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'capped', pipeline: 'capped', agent: 'scripted' }))).task;
    await until(async () => (await runState(t.id))?.waiting?.kind === 'review_cap' && (await stage(t.id)) === 'blocked', 'parks at the review cap');
    assert.match((await runState(t.id))!.waiting!.question, /1 blocker finding/);
    await parts.actions.act(t.id, { action: 'proceed' });
    await until(async () => (await runState(t.id))?.waiting?.kind === 'merge_review' && (await stage(t.id)) === 'blocked', 'parks for merge review');
    await parts.actions.act(t.id, { action: 'hold' });
    assert.equal((await runState(t.id))!.state, 'parked');
    await parts.actions.act(t.id, { action: 'merge' });
    await until(async () => (await stage(t.id)) === 'shipped', 'ships');
  });

  it('(d) two tasks with a dependency run in order', async () => {
    const a = (await store.tasks.submit(newTask(projectId, { title: 'dep a', pipeline: 'dep-a', agent: 'scripted' }))).task;
    const b = (await store.tasks.submit(newTask(projectId, { title: 'dep b', pipeline: 'dep-b', agent: 'scripted', after: [a.id] }))).task;
    assert.equal(b.stage, 'blocked');
    await until(async () => (await stage(b.id)) === 'shipped', 'b ships');
    const ra = (await runState(a.id))!;
    const rb = (await runState(b.id))!;
    assert.ok(rb.startedAt! >= ra.finishedAt!, 'b started after a finished');
    assert.equal(git(repo, 'show', 'main:dep-a.txt'), 'a');
    assert.equal(git(repo, 'show', 'main:dep-b.txt'), 'b');
  });

  it('a step is recorded done only once its work is in a checkpoint another factory can resume from', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'generated', pipeline: 'generated', agent: 'scripted' }))).task;
    await until(async () => (await stage(t.id)) === 'shipped', 'generated ships');
    assert.equal(git(repo, 'show', 'main:gen.txt'), 'gen');
    // A script step has no agent activity to flush: only the step's own checkpoint can hold its work.
    const ev = await store.db.all<{ type: string; payload: string }>('SELECT type, payload FROM events WHERE task_id = ? ORDER BY seq', [t.id]);
    const doneAt = ev.findIndex((x) => x.type === 'step.done' && (JSON.parse(x.payload) as { step: string }).step === 'gen');
    const saved = ev.slice(0, doneAt).filter((x) => x.type === 'checkpoint.created').map((x) => JSON.parse(x.payload) as { sha: string; step: string });
    assert.ok(doneAt > 0 && saved.length > 0, `a checkpoint precedes gen's step.done: ${ev.map((x) => x.type).join(' ')}`);
    assert.equal(git(repo, 'show', `${saved.at(-1)!.sha}:gen.txt`), 'gen');
  });
});
