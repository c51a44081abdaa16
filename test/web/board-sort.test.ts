// The board's sort orders, stage filter and which selected tasks a bulk action applies to. Pure, no browser.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { boardView, elapsedOf } from '../../web/src/model/board.js';
import { bulkEligible } from '../../web/src/model/bulk.js';
import type { CardFacts } from '../../src/domain/card-facts.js';
import { NO_USAGE } from '../../src/domain/usage.js';
import type { Task } from '../../src/domain/task.js';

let n = 0;
function task(p: Partial<Task> = {}): Task {
  n++;
  return {
    id: `t-${String(n).padStart(2, '0')}`, projectId: 'p-1', title: `task ${n}`, body: '', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [],
    stage: 'building', blockedReason: null, idempotencyKey: null, attempts: 0, maxAttempts: 3, leaseEpoch: 0, leaseFactoryId: null, leaseExpiresAt: null,
    checkpoint: null, affinityFactoryId: null, currentRunId: null, failureKind: null, failureMessage: null, quarantined: false,
    createdAt: n, updatedAt: n, queuedAt: n, rev: 1, ...p,
  };
}
const facts = (p: { cost?: number | null; startedAt?: number | null; finishedAt?: number | null }): CardFacts => ({
  step: null, runState: 'running', startedAt: p.startedAt ?? null, finishedAt: p.finishedAt ?? null, lines: null,
  usage: p.cost === undefined ? NO_USAGE : { ...NO_USAGE, turns: 1, costUsd: p.cost, costKnown: p.cost !== null },
  mergeSha: null, prUrl: null, waiting: null,
});

describe('board sort and filter', () => {
  const cheapOld = task({ createdAt: 10, priority: 1 });
  const dearNew = task({ createdAt: 30, priority: 0 });
  const unknown = task({ createdAt: 20, priority: 5 });
  const f = new Map<string, CardFacts>([
    [cheapOld.id, facts({ cost: 0.01, startedAt: 1000, finishedAt: 1500 })],
    [dearNew.id, facts({ cost: 2.5, startedAt: 9000 })],
    [unknown.id, facts({ cost: null, startedAt: 100 })],
  ]);
  const order = (sort: 'age' | 'priority' | 'cost' | 'elapsed' | 'board') =>
    boardView([dearNew, unknown, cheapOld], (t) => ({ facts: f.get(t.id) ?? null }), { sort }, 10_000).columns.building.map((c) => c.task.id);

  const cases: Array<[Parameters<typeof order>[0], string[]]> = [
    ['age', [cheapOld.id, unknown.id, dearNew.id]],
    ['priority', [unknown.id, cheapOld.id, dearNew.id]],
    // An unknown cost sorts after every known one (never as $0 above a real $0.00).
    ['cost', [dearNew.id, cheapOld.id, unknown.id]],
    // Running runs count to now (10 000): 9 900 and 1 000; a finished one its own 500.
    ['elapsed', [unknown.id, dearNew.id, cheapOld.id]],
    ['board', [unknown.id, cheapOld.id, dearNew.id]],
  ];
  for (const [sort, ids] of cases) it(`sorts by ${sort}`, () => assert.deepEqual(order(sort), ids));

  it('elapsed is null before any run, and stops at the finish', () => {
    assert.equal(elapsedOf(null, 5), null);
    assert.equal(elapsedOf(facts({}), 5), null);
    assert.equal(elapsedOf(facts({ startedAt: 2, finishedAt: 4 }), 100), 2);
    assert.equal(elapsedOf(facts({ startedAt: 2 }), 100), 98);
  });

  it('filters by stage column, the needs lane included', () => {
    const queued = task({ stage: 'queued' });
    const failed = task({ stage: 'failed', failureKind: 'checks_exhausted' });
    const v = boardView([queued, failed, cheapOld], () => ({}), { stage: 'stopped' });
    assert.deepEqual(v.needs.map((c) => c.task.id), [failed.id]);
    assert.deepEqual(Object.values(v.columns).flat().map((c) => c.task.id), []);
    assert.deepEqual(boardView([queued, failed, cheapOld], () => ({}), { stage: 'queued' }).columns.queued.map((c) => c.task.id), [queued.id]);
  });
});

describe('bulk actions', () => {
  const q = task({ stage: 'queued' });
  const b = task({ stage: 'building' });
  const s = task({ stage: 'shipped' });
  const x = task({ stage: 'failed' });
  const cases: Array<[string, 'cancel' | 'requeue', Task[], string[]]> = [
    ['cancel applies to unfinished work only', 'cancel', [q, b, s, x], [q.id, b.id]],
    ['requeue skips shipped and already queued tasks', 'requeue', [q, b, s, x], [b.id, x.id]],
    ['an action no bulk offers applies to nothing', 'ship' as 'cancel', [q, b], []],
  ];
  for (const [name, action, tasks, ids] of cases) {
    it(name, () => {
      const r = bulkEligible(action, tasks);
      assert.deepEqual(r.eligible.map((t) => t.id), ids);
      assert.equal(r.eligible.length + r.skipped.length, tasks.length);
    });
  }
});
