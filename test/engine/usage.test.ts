// The pure usage aggregation (src/domain/usage.ts): table tests.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addUsage, formatUsage, NO_USAGE, sumUsage, turnUsage, usageOf, type Usage } from '../../src/domain/usage.js';

const u = (over: Partial<Usage>): Usage => ({ ...NO_USAGE, turns: 1, ...over });

describe('turnUsage: one session.finished payload', () => {
  const table: Array<[string, Record<string, unknown>, Usage]> = [
    ['split, cost known', { tokens: 150, tokensIn: 100, tokensOut: 50, tokensCached: 20, costUsd: 0.01, costKnown: true }, u({ tokensIn: 100, tokensOut: 50, tokensCached: 20, costUsd: 0.01, costKnown: true })],
    ['split, cost unknown: never $0', { tokens: 150, tokensIn: 100, tokensOut: 50, tokensCached: 0, costUsd: 0, costKnown: false }, u({ tokensIn: 100, tokensOut: 50, costUsd: null, costKnown: false })],
    ['a reported $0 is known', { tokensIn: 0, tokensOut: 0, costUsd: 0, costKnown: true }, u({ costUsd: 0, costKnown: true })],
    ['legacy: tokens only, a cost', { tokens: 70, costUsd: 0.5 }, u({ tokensIn: 70, costUsd: 0.5, costKnown: true })],
    ['legacy: a 0 cost was unknown', { tokens: 70, costUsd: 0 }, u({ tokensIn: 70, costUsd: null, costKnown: false })],
    ['lost session', { status: 'lost', tokens: 0, costUsd: 0, tokensIn: 0, tokensOut: 0, tokensCached: 0, costKnown: false }, u({ costUsd: null, costKnown: false })],
    ['garbage fields count as 0 / unknown', { tokensIn: -5, tokensOut: 'x', costUsd: Number.NaN }, u({ costUsd: null, costKnown: false })],
    ['cached never exceeds input', { tokensIn: 10, tokensOut: 0, tokensCached: 99, costUsd: 1, costKnown: true }, u({ tokensIn: 10, tokensCached: 10, costUsd: 1, costKnown: true })],
  ];
  for (const [name, payload, want] of table) it(name, () => assert.deepEqual(turnUsage(payload), want));
});

describe('addUsage', () => {
  const known = u({ tokensIn: 10, tokensOut: 5, costUsd: 0.1, costKnown: true });
  const unknown = u({ tokensIn: 3, tokensOut: 1, costUsd: null, costKnown: false });
  const table: Array<[string, Usage, Usage, Pick<Usage, 'turns' | 'costUsd' | 'costKnown' | 'tokensIn'>]> = [
    ['nothing + nothing', NO_USAGE, NO_USAGE, { turns: 0, costUsd: null, costKnown: true, tokensIn: 0 }],
    ['nothing + known', NO_USAGE, known, { turns: 1, costUsd: 0.1, costKnown: true, tokensIn: 10 }],
    ['known + known (no float dust)', known, u({ costUsd: 0.2, costKnown: true }), { turns: 2, costUsd: 0.3, costKnown: true, tokensIn: 10 }],
    ['known + unknown: a lower bound', known, unknown, { turns: 2, costUsd: 0.1, costKnown: false, tokensIn: 13 }],
    ['unknown + unknown: stays unknown', unknown, unknown, { turns: 2, costUsd: null, costKnown: false, tokensIn: 6 }],
  ];
  for (const [name, a, b, want] of table) {
    it(name, () => {
      const s = addUsage(a, b);
      assert.deepEqual({ turns: s.turns, costUsd: s.costUsd, costKnown: s.costKnown, tokensIn: s.tokensIn }, want);
      assert.deepEqual(addUsage(b, a), s, 'order does not matter');
    });
  }
  it('sumUsage of nothing is NO_USAGE', () => assert.deepEqual(sumUsage([]), NO_USAGE));
});

describe('usageOf: events by run and step', () => {
  it('sums every attempt per step, per run and in total; ignores other events', () => {
    const fin = (runId: string | null, step: string, p: Record<string, unknown>) => ({ type: 'session.finished', runId, payload: { step, ...p } });
    const r = usageOf([
      fin('r1', 'build', { tokensIn: 100, tokensOut: 10, costUsd: 0.01, costKnown: true }),
      { type: 'step.progress', runId: 'r1', payload: { step: 'build', tokensIn: 999 } },
      fin('r1', 'build', { tokensIn: 50, tokensOut: 5, costUsd: 0.02, costKnown: true }),
      fin('r1', 'review', { tokensIn: 7, tokensOut: 1, costUsd: 0, costKnown: false }),
      fin('r2', 'build', { tokensIn: 1, tokensOut: 1, costUsd: 0.5, costKnown: true }),
      fin(null, 'build', { tokensIn: 2, tokensOut: 0, costUsd: 0.5, costKnown: true }),
    ]);
    assert.deepEqual(r.runs.r1?.steps.build, u({ turns: 2, tokensIn: 150, tokensOut: 15, costUsd: 0.03, costKnown: true }));
    assert.deepEqual(r.runs.r1?.steps.review, u({ tokensIn: 7, tokensOut: 1, costUsd: null, costKnown: false }));
    assert.deepEqual(r.runs.r1?.total, u({ turns: 3, tokensIn: 157, tokensOut: 16, costUsd: 0.03, costKnown: false }));
    assert.deepEqual(r.runs.r2?.total, u({ tokensIn: 1, tokensOut: 1, costUsd: 0.5, costKnown: true }));
    assert.deepEqual(r.total, u({ turns: 5, tokensIn: 160, tokensOut: 17, costUsd: 1.03, costKnown: false }));
  });
});

describe('formatUsage', () => {
  const table: Array<[Usage, string]> = [
    [NO_USAGE, ''],
    [u({ tokensIn: 100, tokensOut: 20, costUsd: 0.0123, costKnown: true }), '120 tokens · $0.0123'],
    [u({ tokensIn: 12_000, tokensOut: 345, costUsd: 0.5, costKnown: false }), '12.3k tokens · ≥ $0.5000'],
    [u({ tokensIn: 5, tokensOut: 5, costUsd: null, costKnown: false }), '10 tokens · cost unknown'],
  ];
  for (const [usage, want] of table) it(want || '(no turns)', () => assert.equal(formatUsage(usage), want));
});
