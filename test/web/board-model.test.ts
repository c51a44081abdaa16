// The dashboard's pure rules: which column a task sits in, what it needs from a person, and how
// the board groups and orders cards. Table-tested without a browser.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { boardView, columnOf, needOf, parkKind, type NeedKind } from '../../web/src/model/board.js';
import { eventTone, summarize } from '../../src/domain/event-summary.js';
import { STAGES, type Stage, type Task } from '../../src/domain/task.js';
import type { Notification } from '../../web/src/api/types.js';

let n = 0;
function task(p: Partial<Task> = {}): Task {
  n++;
  return {
    id: `t-${n}`, projectId: 'p-1', title: `task ${n}`, body: '', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [],
    stage: 'queued', blockedReason: null, idempotencyKey: null, attempts: 0, maxAttempts: 3, leaseEpoch: 0, leaseFactoryId: null, leaseExpiresAt: null,
    checkpoint: null, affinityFactoryId: null, currentRunId: null, failureKind: null, failureMessage: null, quarantined: false,
    createdAt: n, updatedAt: n, queuedAt: n, rev: 1, ...p,
  };
}
const note = (p: Partial<Notification>): Notification => ({
  id: 'n-1', taskId: null, runId: null, sessionId: null, kind: 'needs-input', priority: 'action', state: 'raised', title: 'The agent asks', detail: {}, createdAt: 1, updatedAt: 1, ...p,
});

describe('web board model', () => {
  it('puts every stage in exactly one column', () => {
    const expected: Record<Stage, string> = {
      queued: 'queued', assigned: 'building', building: 'building', review: 'review', testing: 'testing',
      shipped: 'shipped', blocked: 'blocked', failed: 'stopped', cancelled: 'stopped', dead_letter: 'stopped',
    };
    for (const s of STAGES) assert.equal(columnOf(s), expected[s], s);
  });

  const cases: Array<[string, Parameters<typeof needOf>[0], NeedKind | null]> = [
    ['queued work needs nobody', { task: task() }, null],
    ['building work needs nobody', { task: task({ stage: 'building' }) }, null],
    ['blocked on dependencies needs nobody', { task: task({ stage: 'blocked', blockedReason: 'dependencies' }) }, null],
    ['parked on an approval', { task: task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parkReason: 'approval' }, 'approval'],
    ['parked on a decision is a question', { task: task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parkReason: 'decision' }, 'question'],
    ['parked at the review cap', { task: task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parkReason: 'review_cap' }, 'review_cap'],
    ['parked for a merge review', { task: task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parkReason: 'merge_review' }, 'merge_review'],
    ['parked for an unknown reason still surfaces', { task: task({ stage: 'blocked', blockedReason: 'awaiting_human' }) }, 'attention'],
    ['over budget', { task: task({ stage: 'blocked', blockedReason: 'budget' }) }, 'budget'],
    ['failed', { task: task({ stage: 'failed', failureKind: 'checks_exhausted' }) }, 'failure'],
    ['dead letter', { task: task({ stage: 'dead_letter' }) }, 'failure'],
    ['cancelled is a decision already made', { task: task({ stage: 'cancelled' }) }, null],
    ['quarantined result', { task: task({ stage: 'queued', quarantined: true }) }, 'quarantine'],
    ['a running agent asking for input', { task: task({ stage: 'building' }), notifications: [note({ kind: 'needs-input' })] }, 'input'],
    ['a stuck agent', { task: task({ stage: 'building' }), notifications: [note({ kind: 'stuck' })] }, 'attention'],
    ['resolved notifications are not needs', { task: task({ stage: 'building' }), notifications: [note({ state: 'resolved' })] }, null],
    ['shipped ignores stale notifications', { task: task({ stage: 'shipped' }), notifications: [note({})] }, null],
  ];
  for (const [name, facts, want] of cases) {
    it(`needOf: ${name}`, () => assert.equal(needOf(facts)?.kind ?? null, want));
  }

  it('maps engine park reasons, leaving unknown ones to the caller', () => {
    assert.equal(parkKind('needs_input'), 'input');
    assert.equal(parkKind('awaiting_approval'), 'approval');
    assert.equal(parkKind('awaiting_decision'), 'question');
    assert.equal(parkKind('whatever'), null);
    assert.equal(parkKind(null), null);
  });

  it('groups: the Needs-you lane first (questions before failures), no card twice, columns ordered', () => {
    const failed = task({ stage: 'failed', updatedAt: 1 });
    const asked = task({ stage: 'blocked', blockedReason: 'awaiting_human', updatedAt: 5 });
    const low = task({ stage: 'queued', priority: 0, queuedAt: 1 });
    const high = task({ stage: 'queued', priority: 5, queuedAt: 9 });
    const oldShip = task({ stage: 'shipped', updatedAt: 10 });
    const newShip = task({ stage: 'shipped', updatedAt: 20 });
    const v = boardView([failed, asked, low, high, oldShip, newShip], (t) => ({ parkReason: t.id === asked.id ? 'decision' : null }));
    assert.deepEqual(v.needs.map((c) => c.task.id), [asked.id, failed.id]);
    assert.deepEqual(v.columns.queued.map((c) => c.task.id), [high.id, low.id]);
    assert.deepEqual(v.columns.shipped.map((c) => c.task.id), [newShip.id, oldShip.id]);
    assert.equal(v.columns.stopped.length, 0, 'a failed task shows in the lane, not again in its column');
    assert.equal(v.columns.blocked.length, 0);
  });

  it('filters by project and by text in title or id', () => {
    const a = task({ projectId: 'p-a', title: 'Fix login' });
    const b = task({ projectId: 'p-b', title: 'Dark mode' });
    assert.deepEqual(boardView([a, b], () => ({}), { project: 'p-b' }).columns.queued.map((c) => c.task.id), [b.id]);
    assert.deepEqual(boardView([a, b], () => ({}), { text: 'LOGIN' }).columns.queued.map((c) => c.task.id), [a.id]);
    assert.deepEqual(boardView([a, b], () => ({}), { text: b.id }).columns.queued.map((c) => c.task.id), [b.id]);
  });

  it('filters by agent; a task that names none matches only "all agents"', () => {
    const a = task({ title: 'Fix login', agent: 'codex' });
    const b = task({ title: 'Dark mode', agent: 'scripted' });
    const c = task({ title: 'Docs', agent: null });
    const ids = (agent: string | null) => boardView([a, b, c], () => ({}), { agent }).columns.queued.map((x) => x.task.id).sort();
    assert.deepEqual(ids('codex'), [a.id]);
    assert.deepEqual(ids(null), [a.id, b.id, c.id].sort());
  });

  it('summarizes events from their payload, never inventing text', () => {
    const e = (type: string, payload: Record<string, unknown>) => ({ seq: 1, type, taskId: 't-1', runId: null, sessionId: null, payload, at: 0 });
    assert.equal(summarize(e('task.stage_changed', { from: 'queued', to: 'assigned', epoch: 2, factoryId: 'f-1' })), 'queued → assigned · epoch 2 · on f-1');
    assert.equal(summarize(e('task.submitted', { stage: 'blocked', after: ['t-0'] })), 'blocked · after t-0');
    assert.equal(summarize(e('step.finished', { step: 'review', score: 0.8125 })), 'step review · score 0.81');
    assert.equal(summarize(e('x', {})), '');
    assert.equal(eventTone('lease.reclaimed'), 'bad');
    assert.equal(eventTone('run.parked'), 'warn');
    assert.equal(eventTone('task.shipped'), 'good');
  });
});
