// Tables for the small pure rules behind the pipeline's promises: which waits a transition ends,
// whose change an SCM observation is about, how long a finished worktree stays, which answers take
// text, and what gc does with a retained workspace.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { endedWaits, waitClassOf, type RunTransition, type WaitClass } from '../../src/domain/pipeline/wait-notifications.js';
import { changeOwner } from '../../src/domain/pipeline/change-owner.js';
import { DAY_MS, DEFAULT_RETAIN, decideRetention, endingOf } from '../../src/domain/workspace-retention.js';
import { decideHumanAction, type HumanAction } from '../../src/domain/pipeline/human-action.js';
import type { Waiting, WaitingKind } from '../../src/domain/pipeline/types.js';
import { decideGc } from '../../src/domain/workspace-gc.js';
import { STAGES, type Stage } from '../../src/domain/task.js';
import { parseConfig } from '../../src/config/project-config.js';

describe('which waits a run transition ends', () => {
  const cases: [RunTransition, WaitClass[]][] = [
    [{ type: 'answered', hold: false }, ['park']],
    [{ type: 'answered', hold: true }, []],
    [{ type: 'launched' }, ['budget']],
    [{ type: 'resumed' }, []],
    [{ type: 'ended', state: 'done' }, ['park', 'budget', 'failure']],
    [{ type: 'ended', state: 'cancelled' }, ['park', 'budget', 'failure']],
    [{ type: 'ended', state: 'failed' }, ['park', 'budget']],
    [{ type: 'superseded' }, ['park', 'budget', 'failure']],
  ];
  for (const [t, want] of cases) it(JSON.stringify(t), () => assert.deepEqual(endedWaits(t), want));
  it('classifies notification kinds', () => {
    assert.deepEqual(['awaiting_approval', 'awaiting_decision', 'budget', 'checks_exhausted', 'script_failed'].map(waitClassOf), ['park', 'park', 'budget', 'failure', 'failure']);
  });
});

describe('changeOwner', () => {
  const steps = [
    { idx: 0, kind: 'agent', sessionId: 'plan-1' },
    { idx: 1, kind: 'agent', sessionId: 'impl-2' },
    { idx: 2, kind: 'review', sessionId: 'rev-1' },
    { idx: 3, kind: 'checks', sessionId: 'fix-1' },
    { idx: 4, kind: 'merge', sessionId: null },
  ];
  const cases: [number, string | null][] = [[4, 'impl-2'], [3, 'impl-2'], [1, 'impl-2'], [0, 'plan-1'], [9, 'impl-2']];
  for (const [upto, want] of cases) it(`up to step ${upto} → ${String(want)}`, () => assert.equal(changeOwner(steps, upto), want));
  it('no agent session yet → nobody', () => assert.equal(changeOwner([{ idx: 0, kind: 'script', sessionId: null }], 0), null));
});

describe('workspace retention', () => {
  const policy = { shipped: 0, failed: 7 * DAY_MS, cancelled: DAY_MS };
  const cases: [Stage, number, string][] = [
    ['shipped', 0, 'remove'],
    ['failed', DAY_MS, 'keep'],
    ['failed', 7 * DAY_MS, 'remove'],
    ['dead_letter', 8 * DAY_MS, 'remove'],
    ['cancelled', DAY_MS - 1, 'keep'],
    ['cancelled', DAY_MS, 'remove'],
    ['building', 99 * DAY_MS, 'keep'],
    ['blocked', 99 * DAY_MS, 'keep'],
  ];
  for (const [stage, age, want] of cases) {
    it(`${stage} after ${age} ms → ${want}`, () => assert.equal(decideRetention({ stage, endedAt: 1000, now: 1000 + age, policy }).action, want));
  }
  it('only terminal stages end', () => {
    for (const s of STAGES) assert.equal(endingOf(s) !== null, ['shipped', 'failed', 'cancelled', 'dead_letter'].includes(s), s);
  });
  it('defaults: shipped and cancelled at once, failed after 7 days; durations are read from gantry.yaml', () => {
    assert.deepEqual(DEFAULT_RETAIN, { shipped: 0, failed: 7 * DAY_MS, cancelled: 0 });
    assert.deepEqual(parseConfig('workspace: {}').workspace.retain, DEFAULT_RETAIN);
    assert.deepEqual(parseConfig('workspace: { retain: { failed: 2h, shipped: 30m } }').workspace.retain, { shipped: 30 * 60_000, failed: 2 * 3_600_000, cancelled: 0 });
    assert.throws(() => parseConfig('workspace: { retain: { failed: soon } }'), /workspace\.retain\.failed/);
    assert.throws(() => parseConfig('workspace: { retain: { shiped: 0 } }'), /did you mean "shipped"/);
  });
  it('lightweight is a project-wide boolean', () => {
    assert.equal(parseConfig('workspace: {}').workspace.lightweight, false);
    assert.equal(parseConfig('workspace: { lightweight: true }').workspace.lightweight, true);
    assert.throws(() => parseConfig('workspace: { lightweight: maybe }'), /workspace\.lightweight/);
  });
  it('gc keeps a finished workspace its policy still retains', () => {
    const f = { taskId: 't', status: 'ready' as const, dirExists: true, registered: true, taskTerminal: true };
    assert.equal(decideGc(f), 'teardown');
    assert.equal(decideGc({ ...f, retained: true }), 'keep');
    assert.equal(decideGc({ ...f, status: 'provisioning', retained: true }), 'clean_interrupted', 'a crash repair is never retained');
  });
});

describe('answers and their text', () => {
  const waiting = (kind: WaitingKind): Waiting => ({ kind, stepIdx: 0, stepId: 's', question: 'q', options: kind === 'decision' ? ['a', 'b'] : [] });
  const cases: [WaitingKind, HumanAction, string][] = [
    ['approval', { action: 'approve', text: 'my edited plan' }, 'resume'],
    ['review_cap', { action: 'more_round', text: 'also check the docs' }, 'resume'],
    ['review_cap', { action: 'proceed', text: 'fine' }, 'refused'],
    ['review_cap', { action: 'stop', text: 'no' }, 'refused'],
    ['merge_review', { action: 'merge', text: 'go' }, 'refused'],
    ['merge_review', { action: 'hold', text: 'friday' }, 'refused'],
    ['merge_review', { action: 'hold', text: '   ' }, 'hold'],
    ['merge_review', { action: 'reject', text: 'not now' }, 'fail'],
  ];
  for (const [kind, a, want] of cases) {
    it(`${kind}: ${a.action} with ${JSON.stringify(a.text)} → ${want}`, () => {
      const d = decideHumanAction({ state: 'parked', waiting: waiting(kind) }, a);
      assert.equal(d.ok ? d.effect.type : 'refused', want, JSON.stringify(d));
      if (!d.ok) assert.match(d.reason, /takes no text/);
      if (d.ok && d.effect.type === 'resume') assert.equal(d.effect.answer.text, a.text);
    });
  }
});
