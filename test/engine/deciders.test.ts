// Table tests for the pure deciders of the pipeline engine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateWhen, parseWhen, type StepFacts } from '../../src/domain/pipeline/when.js';
import { nextStep } from '../../src/domain/pipeline/next-step.js';
import { normalizeReview, reviewVerdict } from '../../src/domain/pipeline/review-verdict.js';
import { fixLoop, logTail } from '../../src/domain/pipeline/fix-loop.js';
import { decideHumanAction } from '../../src/domain/pipeline/human-action.js';
import { fitsBudget } from '../../src/domain/pipeline/budget.js';
import { classifyError, firstFailure, remedyOf, FAILURE_KINDS, REMEDIES } from '../../src/domain/pipeline/failure.js';
import type { StepDef, StepState, Waiting } from '../../src/domain/pipeline/types.js';

describe('when conditions', () => {
  const facts: StepFacts = { plan: { state: 'done', output: { risky: true, files: 3, kind: 'docs' } }, review: { state: 'skipped', output: null } };
  const cases: [string, boolean][] = [
    ['plan.risky', true],
    ['!plan.risky', false],
    ['plan.files >= 3', true],
    ['plan.files > 3', false],
    ['plan.files < 4', true],
    ["plan.kind == 'docs'", true],
    ['plan.kind != docs', false],
    ['plan.state == done', true],
    ['review.state == skipped', true],
    ['review.score >= 0.5', false],
    ['missing.x', false],
    ['plan.kind > 2', false],
  ];
  for (const [text, want] of cases) {
    it(`${text} → ${want}`, () => {
      const e = parseWhen(text);
      assert.ok(!('error' in e), JSON.stringify(e));
      assert.equal(evaluateWhen(e, facts), want);
    });
  }
  for (const bad of ['', '1abc', 'plan.x ==', '!plan.x == 1', 'plan.x == a b']) {
    it(`rejects "${bad}"`, () => assert.ok('error' in parseWhen(bad)));
  }
});

describe('nextStep', () => {
  const defs: StepDef[] = [
    { id: 'a', kind: 'agent' },
    { id: 'b', kind: 'agent', enabled: false },
    { id: 'c', kind: 'agent', when: 'a.go' },
    { id: 'd', kind: 'merge' },
  ];
  const cases: [string, StepState[], Record<string, unknown> | null, ReturnType<typeof nextStep>][] = [
    ['first pending acts', ['pending', 'pending', 'pending', 'pending'], null, { type: 'act', idx: 0 }],
    ['working step keeps acting', ['working', 'pending', 'pending', 'pending'], null, { type: 'act', idx: 0 }],
    ['disabled is skipped', ['done', 'pending', 'pending', 'pending'], { go: true }, { type: 'skip', idx: 1, reason: 'disabled' }],
    ['false when is skipped', ['done', 'skipped', 'pending', 'pending'], { go: false }, { type: 'skip', idx: 2, reason: 'when: a.go is false' }],
    ['true when acts', ['done', 'skipped', 'pending', 'pending'], { go: true }, { type: 'act', idx: 2 }],
    ['waiting step acts (resumes)', ['done', 'skipped', 'waiting', 'pending'], { go: true }, { type: 'act', idx: 2 }],
    ['failed stops', ['done', 'failed', 'pending', 'pending'], null, { type: 'failed', idx: 1 }],
    ['all finished', ['done', 'skipped', 'skipped', 'done'], null, { type: 'done' }],
  ];
  for (const [name, states, out, want] of cases) {
    it(name, () => assert.deepEqual(nextStep(defs, states, { a: { state: states[0]!, output: out } }), want));
  }
});

describe('review verdict', () => {
  const r = (score: number, sev: ('blocker' | 'major' | 'minor')[] = []) => ({ score, findings: sev.map((severity) => ({ severity, message: 'x' })) });
  const cases: [string, ReturnType<typeof r>, number, number, string][] = [
    ['passes at threshold', r(0.8), 1, 3, 'pass'],
    ['below threshold reworks', r(0.5), 1, 3, 'rework'],
    ['a blocker loops despite a high score', r(0.95, ['blocker']), 1, 3, 'rework'],
    ['minor findings pass', r(0.9, ['minor', 'major']), 1, 3, 'pass'],
    ['cap at max rounds', r(0.5), 3, 3, 'cap'],
    ['blocker at cap parks', r(1, ['blocker']), 2, 2, 'cap'],
  ];
  for (const [name, res, round, max, want] of cases) it(name, () => assert.equal(reviewVerdict(res, 0.8, round, max).type, want));
  it('normalizes 0–10 scores and severities', () => {
    assert.deepEqual(normalizeReview({ score: 4, findings: [{ severity: 'critical', message: 'm' }, { severity: 'info', message: 'n' }] }), {
      score: 0.4,
      findings: [{ severity: 'blocker', message: 'm' }, { severity: 'minor', message: 'n' }],
    });
    assert.equal(normalizeReview({ score: 'high' }), null);
    assert.equal(normalizeReview({ score: 0.7 })?.score, 0.7);
  });
});

describe('fix loop', () => {
  const cases: [boolean, number, number, ReturnType<typeof fixLoop>][] = [
    [true, 0, 3, { type: 'pass' }],
    [true, 3, 3, { type: 'pass' }],
    [false, 0, 3, { type: 'fix', attempt: 1 }],
    [false, 2, 3, { type: 'fix', attempt: 3 }],
    [false, 3, 3, { type: 'exhausted', fixesUsed: 3 }],
    [false, 0, 0, { type: 'exhausted', fixesUsed: 0 }],
  ];
  for (const [green, used, max, want] of cases) it(`green=${green} used=${used}/${max}`, () => assert.deepEqual(fixLoop(green, used, max), want));
  it('tails a log at a line start', () => {
    assert.equal(logTail('short'), 'short');
    assert.equal(logTail('line one\nline two\nline three', 14), 'line three');
  });
});

describe('human actions', () => {
  const waiting = (kind: Waiting['kind'], options: string[] = []): Waiting => ({ kind, stepIdx: 1, stepId: 's', question: 'q?', options });
  const cases: [string, Parameters<typeof decideHumanAction>[0], Parameters<typeof decideHumanAction>[1], string][] = [
    ['approve an approval', { state: 'parked', waiting: waiting('approval') }, { action: 'approve' }, 'resume'],
    ['changes need feedback', { state: 'parked', waiting: waiting('approval') }, { action: 'changes' }, 'refused'],
    ['changes rework', { state: 'parked', waiting: waiting('approval') }, { action: 'changes', text: 'add tests' }, 'rework'],
    ['reject fails', { state: 'parked', waiting: waiting('approval') }, { action: 'reject' }, 'fail'],
    ['approve refused on running run', { state: 'running', waiting: null }, { action: 'approve' }, 'refused'],
    ['approve refused on a decision', { state: 'parked', waiting: waiting('decision', ['a', 'b']) }, { action: 'approve' }, 'refused'],
    ['answer must be an option', { state: 'parked', waiting: waiting('decision', ['a', 'b']) }, { action: 'answer', text: 'c' }, 'refused'],
    ['answer an option', { state: 'parked', waiting: waiting('decision', ['a', 'b']) }, { action: 'answer', text: 'b' }, 'resume'],
    ['reply to needs-input', { state: 'parked', waiting: waiting('needs_input') }, { action: 'reply', text: 'use v2' }, 'resume'],
    ['more_round at a cap', { state: 'parked', waiting: waiting('review_cap') }, { action: 'more_round' }, 'resume'],
    ['proceed at a cap', { state: 'parked', waiting: waiting('review_cap') }, { action: 'proceed' }, 'resume'],
    ['stop at a cap fails and resets', { state: 'parked', waiting: waiting('review_cap') }, { action: 'stop' }, 'fail'],
    ['merge review: hold', { state: 'parked', waiting: waiting('merge_review') }, { action: 'hold' }, 'hold'],
    ['merge review: merge', { state: 'parked', waiting: waiting('merge_review') }, { action: 'merge' }, 'resume'],
    ['merge refused at approval', { state: 'parked', waiting: waiting('approval') }, { action: 'merge' }, 'refused'],
  ];
  for (const [name, run, a, want] of cases) {
    it(name, () => {
      const d = decideHumanAction(run, a);
      assert.equal(d.ok ? d.effect.type : 'refused', want, JSON.stringify(d));
      if (!d.ok) assert.ok(d.reason.length > 10);
    });
  }
  it('stop resets the producer', () => {
    const d = decideHumanAction({ state: 'parked', waiting: waiting('review_cap') }, { action: 'stop' });
    assert.ok(d.ok && d.effect.type === 'fail' && d.effect.resetProducer);
  });
});

describe('budget fit', () => {
  const l = { usedTokens: 100, usedCost: 1, reservedTokens: 50, reservedCost: 0.5 };
  const cases: [string, Parameters<typeof fitsBudget>[0], number, number, boolean][] = [
    ['no limits', undefined, 1e9, 1e9, true],
    ['tokens fit exactly', { tokens: 200 }, 50, 0, true],
    ['tokens over', { tokens: 200 }, 51, 0, false],
    ['cost fits', { costUsd: 2 }, 0, 0.5, true],
    ['cost over', { costUsd: 2 }, 0, 0.51, false],
  ];
  for (const [name, lim, tokens, cost, ok] of cases) it(name, () => assert.equal(fitsBudget(lim, l, { tokens, costUsd: cost }, 'task').ok, ok));
});

describe('failures', () => {
  it('every kind has a one-line remedy', () => {
    for (const k of FAILURE_KINDS) assert.ok(REMEDIES[k].length > 10 && !REMEDIES[k].includes('\n'));
    assert.equal(remedyOf('nonsense'), REMEDIES.unknown);
  });
  it('classifies and keeps the first', () => {
    assert.equal(classifyError({ code: 'stale_epoch', message: 'x' }).kind, 'fenced');
    assert.equal(classifyError({ name: 'AbortError', message: 'x' }).kind, 'cancelled');
    assert.equal(classifyError({ message: 'operation timed out' }).kind, 'timeout');
    assert.equal(classifyError({ message: 'boom' }).kind, 'unknown');
    const first = { kind: 'agent' as const, message: 'a' };
    assert.equal(firstFailure(first, { kind: 'cancelled', message: 'b' }), first);
    assert.deepEqual(firstFailure(null, first), first);
  });
});
