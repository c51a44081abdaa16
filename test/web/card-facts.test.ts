// Card facts, spend per day and step attempts: the pure shapes behind the board's cards, the project
// page and the step log view. Table-tested; the API tests gather the rows for real.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cardFacts, spendByDay, type CardInputs } from '../../src/domain/card-facts.js';
import { stepAttempts, type Dispatch } from '../../src/domain/step-attempts.js';

const base: CardInputs = { run: null, steps: [], lines: null, turns: [], waiting: null };
const run = { taskId: 't', state: 'running', currentStep: 1, startedAt: 100, finishedAt: null };
const steps = [
  { idx: 0, stepId: 'implement', kind: 'agent', state: 'done', attempts: 1, output: null },
  { idx: 1, stepId: 'checks', kind: 'checks', state: 'working', attempts: 2, output: null },
  { idx: 2, stepId: 'merge', kind: 'merge', state: 'pending', attempts: 0, output: null },
];

describe('card facts', () => {
  it('a task with no run has no step, no elapsed time and no cost', () => {
    const f = cardFacts(base);
    assert.equal(f.step, null);
    assert.equal(f.startedAt, null);
    assert.equal(f.usage.turns, 0);
    assert.equal(f.mergeSha, null);
  });
  it('a running run shows its current step and attempt', () => {
    const f = cardFacts({ ...base, run, steps });
    assert.deepEqual(f.step, { id: 'checks', kind: 'checks', attempt: 2, state: 'working' });
    assert.equal(f.startedAt, 100);
  });
  it('a finished run shows no current step, but its merge SHA', () => {
    const done = steps.map((s) => (s.kind === 'merge' ? { ...s, state: 'done', output: { mergedSha: 'abcdef1234567', already: false } } : { ...s, state: 'done' }));
    const f = cardFacts({ ...base, run: { ...run, state: 'done', currentStep: 2, finishedAt: 900 }, steps: done });
    assert.equal(f.step, null);
    assert.equal(f.mergeSha, 'abcdef1234567');
    assert.equal(f.finishedAt, 900);
  });
  it('a PR link is taken only when it is a web address', () => {
    const pr = (url: unknown) => cardFacts({ ...base, run, steps: [{ idx: 0, stepId: 'pr', kind: 'script', state: 'done', attempts: 1, output: { url } }] }).prUrl;
    assert.equal(pr('https://git.example.com/team/app/pull/7'), 'https://git.example.com/team/app/pull/7');
    assert.equal(pr('javascript:alert(1)'), null);
    assert.equal(pr(7), null);
  });
  it('cost sums the turns; an unknown cost stays unknown, a partly unknown one is a lower bound', () => {
    const known = { tokensIn: 100, tokensOut: 20, costUsd: 0.25, costKnown: true };
    assert.equal(cardFacts({ ...base, turns: [known, known] }).usage.costUsd, 0.5);
    const partly = cardFacts({ ...base, turns: [known, { tokensIn: 5, tokensOut: 1, costUsd: null, costKnown: false }] }).usage;
    assert.deepEqual([partly.costUsd, partly.costKnown], [0.25, false]);
    assert.equal(cardFacts({ ...base, turns: [{ tokensIn: 5, tokensOut: 1, costUsd: null, costKnown: false }] }).usage.costUsd, null);
  });
});

describe('spend per day', () => {
  const DAY = 86_400_000;
  it('buckets by UTC day and fills the days between with nothing spent', () => {
    const t = (at: number, costUsd: number) => ({ at, payload: { tokensIn: 10, tokensOut: 1, costUsd, costKnown: true } });
    const days = spendByDay([t(DAY * 3 + 5, 0.5), t(DAY + 7, 0.25), t(DAY + 8, 0.25)]);
    assert.deepEqual(days.map((d) => [d.day, d.usage.costUsd, d.usage.turns]), [[DAY, 0.5, 2], [DAY * 2, null, 0], [DAY * 3, 0.5, 1]]);
  });
  it('no turns, no days', () => assert.deepEqual(spendByDay([]), []));
});

describe('step attempts', () => {
  const d = (session: string, key: string, at: number, status: string | null): Dispatch => ({
    session, at, agent: 'scripted', role: key.startsWith('fix') ? 'fixer' : 'implementer', key,
    finished: status ? { at: at + 50, payload: { status, tokensIn: 1, tokensOut: 1, costUsd: 0.01, costKnown: true } } : null,
  });
  const round = (r: number, ok: boolean) => ({ round: r, ok, fixer: r ? 'done' : null, results: [{ name: 'unit', command: 'npm test', ok, exitCode: ok ? 0 : 3, timedOut: false, durationMs: 40, logFile: '/x', tail: '' }] });

  it('an agent step: one attempt per session, running until it finishes', () => {
    const a = stepAttempts({ kind: 'agent', state: 'working', rounds: [], running: null, dispatches: [d('s1', 'main', 1, 'failed'), d('s2', 'main', 2, null)] });
    assert.deepEqual(a.map((x) => [x.n, x.state, x.items[0]!.status, x.items[0]!.durationMs]), [[1, 'failed', 'failed', 50], [2, 'running', 'running', null]]);
    assert.deepEqual(a[0]!.items[0]!.log, { source: 'session', session: 's1' });
  });
  it('a failed-then-fixed checks step: the red round, then the fixer and the green round', () => {
    const a = stepAttempts({ kind: 'checks', state: 'done', rounds: [round(0, false), round(1, true)], running: null, dispatches: [d('f1', 'fix-1', 5, 'done')] });
    assert.deepEqual(a.map((x) => [x.state, x.items.map((i) => `${i.name}:${i.status}:${i.exitCode}`)]), [
      ['failed', ['unit:failed:3']],
      ['ok', ['fixer:done:null', 'unit:ok:0']],
    ]);
    assert.deepEqual(a[0]!.items[0]!.log, { source: 'check', round: 0, check: 'unit' });
  });
  it('a round running now is the last attempt, its checks read from the logs being written', () => {
    const a = stepAttempts({ kind: 'checks', state: 'working', rounds: [], running: { round: 0, checks: ['lint', 'unit'] }, dispatches: [] });
    assert.deepEqual(a.map((x) => [x.n, x.state, x.items.map((i) => `${i.name}:${i.status}`)]), [[1, 'running', ['lint:running', 'unit:running']]]);
  });
  it('a fixer at work opens the next attempt before its checks run', () => {
    const a = stepAttempts({ kind: 'checks', state: 'working', rounds: [round(0, false)], running: null, dispatches: [d('f1', 'fix-1', 5, null)] });
    assert.deepEqual(a.map((x) => [x.state, x.items.map((i) => `${i.name}:${i.status}`)]), [['failed', ['unit:failed']], ['running', ['fixer:running']]]);
  });
});
