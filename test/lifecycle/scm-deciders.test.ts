// SCM observations → the change axis, reactions the pipeline handles itself, questions a run parks
// on (one notification per wait), and launches that fail before a process runs. Tables.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { changeFactOf, type ScmObservation } from '../../src/domain/lifecycle-rules/scm.js';
import type { ChangeFact } from '../../src/domain/lifecycle-rules/change.js';
import { decideReaction, detectTriggers, type ReactionRule } from '../../src/domain/lifecycle-rules/reactions.js';
import { decideLaunchFailed } from '../../src/domain/lifecycle-rules/spawn.js';
import { displayStatus } from '../../src/domain/session.js';
import { rec } from './support.js';

describe('changeFactOf', () => {
  const cases: [ScmObservation, ChangeFact['state'], Partial<ChangeFact>][] = [
    [{ state: 'merged' }, 'merged', {}],
    [{ state: 'closed' }, 'closed', {}],
    [{ state: 'open' }, 'open', {}],
    [{ state: 'open', checks: 'failing', detail: 'FAIL', handledBy: 'pipeline' }, 'checks_failing', { detail: 'FAIL', handledBy: 'pipeline' }],
    [{ state: 'open', checks: 'passing' }, 'open', {}],
    [{ state: 'open', conflict: false, headSha: 'h' }, 'mergeable', { conflict: false, headSha: 'h' }],
    [{ state: 'open', conflict: true, headSha: 'h' }, 'open', { conflict: true }],
    [{ state: 'open', review: 'changes_requested', detail: 'rename' }, 'changes_requested', { detail: 'rename' }],
    [{ state: 'open', review: 'approved' }, 'approved', {}],
    [{ state: 'merged', checks: 'failing' }, 'merged', {}],
  ];
  for (const [o, state, extra] of cases) {
    it(`${JSON.stringify(o)} → ${state}`, () => {
      const f = changeFactOf(o);
      assert.equal(f.state, state);
      for (const [k, v] of Object.entries(extra)) assert.deepEqual(f[k as keyof ChangeFact], v, k);
    });
  }
});

describe('reactions the pipeline handles itself', () => {
  const send: ReactionRule = { action: 'send-to-agent', retries: 2, escalateAfterMs: 60_000, priority: 'high' };
  const fact: ChangeFact = { state: 'checks_failing', headSha: 'a1', detail: 'FAIL', handledBy: 'pipeline' };
  it('the trigger carries who handles it', () => {
    const { fired } = detectTriggers(rec({ state: 'done' }), rec({ state: 'done', change: 'checks_failing' }), fact);
    assert.deepEqual(fired.map((t) => [t.key, t.handledBy]), [['checks-failed', 'pipeline']]);
  });
  it('handled: recorded with no escalation clock, nothing sent, even on a finished session', () => {
    const [t] = detectTriggers(rec(), rec(), fact).fired;
    const d = decideReaction(t!, send, undefined, { state: 'done' }, 1000);
    assert.deepEqual(d, { kind: 'handled', memory: { state: 'active', attempts: 1, lastSignature: 'checks:a1', firstAt: null } });
    assert.equal(decideReaction(t!, send, d.kind === 'handled' ? d.memory : undefined, { state: 'done' }, 2000).kind, 'skip', 'the same occurrence once');
  });
  it('a project that asked to be notified still is', () => {
    const [t] = detectTriggers(rec(), rec(), fact).fired;
    assert.equal(decideReaction(t!, { ...send, action: 'notify' }, undefined, { state: 'working' }, 1000).kind, 'notify');
    assert.equal(decideReaction(t!, { ...send, action: 'none' }, undefined, { state: 'working' }, 1000).kind, 'skip');
  });
  it('an observation nobody handles reacts as configured', () => {
    const [t] = detectTriggers(rec(), rec(), { ...fact, handledBy: undefined }).fired;
    assert.equal(decideReaction(t!, send, undefined, { state: 'working' }, 1000).kind, 'send');
    assert.equal(decideReaction(t!, send, undefined, { state: 'done' }, 1000).kind, 'notify');
  });
});

describe('one notification per wait', () => {
  it("a run session's question parks its run, which notifies: the lifecycle raises none", () => {
    const asked = rec({ runId: 'r-1', state: 'needs_input', reason: 'question' });
    assert.deepEqual(detectTriggers(rec({ runId: 'r-1' }), asked, null).fired, []);
  });
  it('a permission prompt parks no run: the lifecycle notifies', () => {
    const blocked = rec({ runId: 'r-1', state: 'needs_input', reason: 'permission' });
    assert.deepEqual(detectTriggers(rec({ runId: 'r-1' }), blocked, null).fired.map((t) => t.key), ['needs-input']);
  });
  it('a session outside any run notifies its question', () => {
    assert.deepEqual(detectTriggers(rec(), rec({ state: 'needs_input', reason: 'question' }), null).fired.map((t) => t.key), ['needs-input']);
  });
});

describe('decideLaunchFailed', () => {
  it('ends a spawning session; a finished one stays as it is', () => {
    const d = decideLaunchFailed(rec({ state: 'not_started', launchGeneration: 0 }));
    assert.ok(d.kind === 'patch');
    assert.deepEqual(d.patch, { state: 'terminated', reason: 'launch_failed', detecting: null });
    assert.equal(displayStatus({ ...rec(), ...d.patch }), 'exited');
    assert.equal(decideLaunchFailed(rec({ state: 'done' })).kind, 'ignore');
  });
});
