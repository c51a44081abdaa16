// Table tests: a pull request's state and hosted CI → the change axis observation; which steps lie
// ahead; which task a webhook delivery names; and the decision a closed pull request parks on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { changeClosedError, closedChangeOf, closedChangeWait, deliveryBranches, foreignPushError, refusalAnswer, refusalOf, refusalRetryError, refusalWait, pipelineAhead, pullObservation, taskOfBranch, type ForgeRefusal, type PipelineAhead, type PullSnapshot } from '../../src/domain/forge/pr-state.js';
import type { HostedVerdict } from '../../src/domain/forge/verdicts.js';
import { changeFactOf } from '../../src/domain/lifecycle-rules/scm.js';

describe('pullObservation → the change axis', () => {
  const open = (mergeable: boolean | null): PullSnapshot => ({ state: 'open', merged: false, mergeable, headSha: 'h1' });
  const red: HostedVerdict = { verdict: 'failing', checks: [{ name: 'test', ok: false, detail: '1 test failed' }, { name: 'lint', ok: true, detail: '' }] };
  const green: HostedVerdict = { verdict: 'passing', checks: [{ name: 'test', ok: true, detail: '' }] };
  const none: PipelineAhead = { checks: false, conflicts: false, review: false };
  const all: PipelineAhead = { checks: true, conflicts: true, review: true };
  const table: [string, PullSnapshot, HostedVerdict | null, PipelineAhead, string, boolean][] = [
    // name, pull, ci, ahead → change state, handled by the pipeline
    ['open, mergeability not computed, no CI read', open(null), null, none, 'open', false],
    ['open and mergeable, CI pending', open(true), { verdict: 'pending', waitingOn: ['test'] }, none, 'mergeable', false],
    ['CI red, nothing ahead repairs it', open(true), red, none, 'checks_failing', false],
    ['CI red, a checks step ahead repairs it', open(true), red, all, 'checks_failing', true],
    ['CI green and mergeable', open(true), green, none, 'mergeable', false],
    ['conflicting, nothing ahead', open(false), green, none, 'open', false],
    ['conflicting, a merge or conflicts step ahead', open(false), green, { checks: false, conflicts: true, review: false }, 'open', true],
    ['red and conflicting, only checks ahead: not all handled', open(false), red, { checks: true, conflicts: false, review: false }, 'checks_failing', false],
    ['merged', { state: 'closed', merged: true, mergeable: null, headSha: 'h1' }, red, all, 'merged', false],
    ['closed without merging', { state: 'closed', merged: false, mergeable: null, headSha: 'h1' }, null, all, 'closed', false],
  ];
  it('a look carries the reviews with the CI: approved never hides a red CI; changes requested is handled while a pr-review step is ahead', () => {
    const approved = { state: 'approved' as const, feedback: '' };
    const asked = { state: 'changes_requested' as const, feedback: 'ann requested changes\n- a.ts:3: why' };
    assert.equal(changeFactOf(pullObservation(open(null), red, none, approved)).state, 'checks_failing');
    assert.equal(changeFactOf(pullObservation(open(null), green, none, approved)).state, 'approved');
    const f = changeFactOf(pullObservation(open(null), null, { ...none, review: true }, asked));
    assert.deepEqual([f.state, f.handledBy, f.detail], ['changes_requested', 'pipeline', asked.feedback]);
    assert.equal(changeFactOf(pullObservation(open(null), null, none, asked)).handledBy, undefined);
  });
  for (const [name, pull, ci, ahead, state, handled] of table) {
    it(`${name} → ${state}${handled ? ' (handled by the pipeline)' : ''}`, () => {
      const o = pullObservation(pull, ci, ahead);
      const fact = changeFactOf(o);
      assert.equal(fact.state, state);
      assert.equal(fact.handledBy === 'pipeline', handled);
      assert.equal(fact.headSha, 'h1', 'the head is the occurrence: a poll and a webhook of the same head fire once');
    });
  }
  it('a conflict is reported as such (the conflict reaction reads it)', () => {
    assert.equal(changeFactOf(pullObservation(open(false), null, none)).conflict, true);
    assert.equal(changeFactOf(pullObservation(open(true), null, none)).conflict, false);
  });
  it('the red checks are the detail, green ones are not', () => {
    const d = pullObservation(open(true), red, none).detail!;
    assert.match(d, /### test\n1 test failed/);
    assert.doesNotMatch(d, /lint/);
  });
});

describe('pipelineAhead', () => {
  const kinds = ['agent', 'checks', 'pr-review', 'merge'];
  const table: [number, boolean, PipelineAhead][] = [
    [0, false, { checks: true, conflicts: true, review: true }],
    [1, false, { checks: true, conflicts: true, review: true }],
    [2, false, { checks: false, conflicts: true, review: true }],
    [3, false, { checks: false, conflicts: true, review: false }],
    [2, true, { checks: false, conflicts: false, review: false }],
  ];
  for (const [idx, finished, want] of table) it(`at step ${idx}${finished ? ', finished' : ''}`, () => assert.deepEqual(pipelineAhead(kinds, idx, finished), want));
});

describe('deliveryBranches', () => {
  const repository = { full_name: 'acme/app' };
  const table: [string, unknown, string[]][] = [
    ['pull_request', { action: 'closed', repository, pull_request: { number: 3, head: { ref: 'gantry/t1' } } }, ['gantry/t1']],
    ['pull_request_review', { action: 'submitted', repository, pull_request: { head: { ref: 'gantry/t1' } } }, ['gantry/t1']],
    ['check_run', { action: 'completed', repository, check_run: { check_suite: { head_branch: 'gantry/t1' }, pull_requests: [{ head: { ref: 'gantry/t1' } }, { head: { ref: 'gantry/t2' } }] } }, ['gantry/t1', 'gantry/t2']],
    ['check_suite', { action: 'completed', repository, check_suite: { head_branch: 'gantry/t3', pull_requests: [] } }, ['gantry/t3']],
    ['status', { state: 'failure', repository, branches: [{ name: 'gantry/t4' }, { name: 'main' }] }, ['gantry/t4', 'main']],
    ['check_run', { repository, check_run: { check_suite: { head_branch: null } } }, []],
    ['pull_request', 'not an object', []],
  ];
  for (const [event, payload, want] of table) it(`${event} → ${want.join(', ') || 'nothing'}`, () => assert.deepEqual(deliveryBranches(event, payload).branches, want));
  it('names the repository', () => assert.equal(deliveryBranches('status', { repository }).repo, 'acme/app'));
});

describe('taskOfBranch', () => {
  const table: [string, string | null][] = [['gantry/01HXYZ', '01HXYZ'], ['gantry/a-b.c_d', 'a-b.c_d'], ['main', null], ['gantry/x/y', null], ['feature/gantry/x', null]];
  for (const [b, want] of table) it(`${b} → ${want}`, () => assert.equal(taskOfBranch(b), want));
});

describe('refusals: what the run parks on, and which answer settles it', () => {
  it('someone else\'s push: overwrite, or reject', () => {
    const r = { kind: 'foreign_push' as const, branch: 'gantry/t1', remoteSha: 'abcdef0123456789abcdef0123456789abcdef01' };
    const w = refusalWait(r);
    assert.deepEqual([w.kind, w.options, refusalAnswer(r)], ['decision', ['overwrite'], 'overwrite']);
    assert.match(w.question, /Someone else pushed abcdef012345 to gantry\/t1.*overwrite.*reject/);
    assert.deepEqual(refusalOf(foreignPushError(r.branch, r.remoteSha)), r);
    assert.equal(closedChangeOf(foreignPushError(r.branch, r.remoteSha)), null);
  });
  it('a closed pull request: reopen', () => {
    const e = changeClosedError('7', null);
    assert.deepEqual(refusalOf(e), { kind: 'closed', pull: '7', url: null });
    assert.equal(refusalAnswer(refusalOf(e)!), 'reopen');
    assert.equal(refusalOf(new Error('other')), null);
  });
  // The answer's own action failed (GitHub refused the reopen, the network was down): the same refusal again, saying why and what to do.
  const failedTable: [string, ForgeRefusal, RegExp][] = [
    ['reopen refused', { kind: 'closed', pull: '7', url: null }, /#7 was closed without merging\. Gantry could not reopen it: 422 the branch has been deleted\. Restore its branch.*answer "reopen" again.*reject/],
    ['overwrite failed', { kind: 'foreign_push', branch: 'gantry/t1', remoteSha: 'abcdef0123456789abcdef0123456789abcdef01' }, /Gantry could not overwrite it: 422 the branch has been deleted\..*answer "overwrite" again.*reject/],
  ];
  for (const [name, r, want] of failedTable) it(`${name}: parks again on the same refusal with the error`, () => {
    const e = refusalRetryError(r, new Error('422 the branch has been deleted'));
    const again = refusalOf(e)!;
    assert.deepEqual({ ...again, failed: undefined }, { ...r, failed: undefined }, 'the same refusal');
    assert.equal(refusalAnswer(again), refusalAnswer(r));
    const w = refusalWait(again);
    assert.deepEqual(w.options, [refusalAnswer(r)]);
    assert.match(w.question, want);
    assert.equal(w.detail.failed, '422 the branch has been deleted');
    assert.doesNotMatch(refusalWait(refusalOf(refusalRetryError(again, new Error('twice')))!).question, /branch has been deleted/, 'only the last failure');
  });
});

describe('closedChangeWait', () => {
  it('parks on a decision: reopen, or reject', () => {
    const w = closedChangeWait('7', 'https://github.example/acme/app/pull/7');
    assert.equal(w.kind, 'decision');
    assert.deepEqual(w.options, ['reopen']);
    assert.match(w.question, /#7 \(https:\/\/github\.example\/acme\/app\/pull\/7\) was closed without merging.*reopen.*reject/);
  });
});
