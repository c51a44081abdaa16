// Table tests of the forge deciders: PR facts → change state, hosted CI → verdict, reviews → verdict.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostedVerdict, pullState, repoFromRemote, reviewGate, reviewVerdict, type CheckRunFacts, type StatusFacts } from '../../src/domain/forge/verdicts.js';

describe('pullState', () => {
  const table: [Parameters<typeof pullState>[0], ReturnType<typeof pullState>][] = [
    [{ state: 'open', merged: false, mergeable: true }, { state: 'open', conflict: false }],
    [{ state: 'open', merged: false, mergeable: false }, { state: 'open', conflict: true }],
    [{ state: 'open', merged: false, mergeable: null }, { state: 'open' }],
    [{ state: 'closed', merged: true, mergeable: null }, { state: 'merged' }],
    [{ state: 'closed', merged: false, mergeable: null }, { state: 'closed' }],
  ];
  for (const [facts, want] of table) it(`${JSON.stringify(facts)} → ${JSON.stringify(want)}`, () => assert.deepEqual(pullState(facts), want));
});

describe('hostedVerdict', () => {
  const run = (name: string, status: string, conclusion: string | null, output = ''): CheckRunFacts => ({ name, status, conclusion, output, url: null });
  const st = (context: string, state: string): StatusFacts => ({ context, state, description: null, url: null });
  const table: [string, CheckRunFacts[], StatusFacts[], string[], string][] = [
    ['nothing reported', [], [], [], 'none'],
    ['a required check not reported yet', [], [], ['build'], 'pending'],
    ['a run in progress', [run('build', 'in_progress', null)], [], [], 'pending'],
    ['a pending status', [run('build', 'completed', 'success')], [st('lint', 'pending')], [], 'pending'],
    ['all green (neutral and skipped count as green)', [run('a', 'completed', 'success'), run('b', 'completed', 'neutral'), run('c', 'completed', 'skipped')], [st('lint', 'success')], [], 'passing'],
    ['a failed run', [run('build', 'completed', 'failure')], [st('lint', 'success')], [], 'failing'],
    ['a timed-out run', [run('build', 'completed', 'timed_out')], [], [], 'failing'],
    ['an errored status', [run('build', 'completed', 'success')], [st('deploy', 'error')], [], 'failing'],
    ['a re-run replaces the red run of its name', [run('build', 'completed', 'failure'), run('build', 'completed', 'success')], [], [], 'passing'],
  ];
  for (const [what, runs, statuses, required, want] of table) it(`${what} → ${want}`, () => assert.equal(hostedVerdict(runs, statuses, required).verdict, want));
  it('carries the failing output for the fixer', () => {
    const v = hostedVerdict([run('build', 'completed', 'failure', 'tests failed\nexpected 2, got 3')], []);
    assert.ok(v.verdict === 'failing' && v.checks[0]!.detail.includes('expected 2, got 3'));
  });
});

describe('reviewVerdict', () => {
  const r = (id: number, user: string, state: string, body = '') => ({ id, user, state, body, commitId: null });
  const table: [string, ReturnType<typeof r>[], string, number][] = [
    ['no reviews', [], 'none', 0],
    ['a comment only', [r(1, 'ann', 'COMMENTED')], 'none', 0],
    ['an approval', [r(1, 'ann', 'APPROVED')], 'approved', 1],
    ['changes requested', [r(1, 'ann', 'CHANGES_REQUESTED')], 'changes_requested', 0],
    ['a later approval by the same reviewer lifts the request', [r(1, 'ann', 'CHANGES_REQUESTED'), r(2, 'ann', 'APPROVED')], 'approved', 1],
    ['one reviewer requesting changes wins over another approving', [r(1, 'ann', 'APPROVED'), r(2, 'bob', 'CHANGES_REQUESTED')], 'changes_requested', 1],
    ['a dismissed request withdraws it', [r(1, 'ann', 'CHANGES_REQUESTED'), r(2, 'ann', 'DISMISSED')], 'none', 0],
    ['a comment after a request keeps the request', [r(1, 'ann', 'CHANGES_REQUESTED'), r(2, 'ann', 'COMMENTED')], 'changes_requested', 0],
  ];
  for (const [what, reviews, want, approvals] of table) {
    it(`${what} → ${want}`, () => {
      const v = reviewVerdict(reviews, []);
      assert.equal(v.state, want);
      assert.equal(v.approvals, approvals);
    });
  }
  it('feeds each request with its line comments as path:line', () => {
    const v = reviewVerdict([r(7, 'ann', 'CHANGES_REQUESTED', 'not yet')], [{ reviewId: 7, path: 'src/a.ts', line: 12, body: 'handle null' }, { reviewId: 9, path: 'other.ts', line: 1, body: 'another review' }]);
    assert.equal(v.feedback, 'ann requested changes: not yet\n- src/a.ts:12: handle null');
    assert.deepEqual(v.reviewIds, [7]);
  });
});

describe('repoFromRemote', () => {
  const table: [string, string | null][] = [
    ['https://github.com/acme/app.git', 'acme/app'],
    ['https://github.com/acme/app', 'acme/app'],
    ['https://x-access-token:abc@github.com/acme/app.git', 'acme/app'],
    ['git@github.com:acme/app.git', 'acme/app'],
    ['ssh://git@ghe.example.com/acme/app.git', 'acme/app'],
    ['/home/me/app', null],
    ['https://gitlab.example.com/group/sub/app.git', null],
  ];
  for (const [remote, want] of table) it(`${remote} → ${want}`, () => assert.equal(repoFromRemote(remote), want));
});

describe('reviewGate', () => {
  const v = (state: 'approved' | 'changes_requested' | 'none', approvals: number, requestedOn: string[] = []) => ({ state, approvals, feedback: 'fix it', reviewIds: [], requestedOn });
  const table: [string, ReturnType<typeof v>, number, string][] = [
    ['one approval of one required', v('approved', 1), 1, 'pass'],
    ['one approval of two required', v('approved', 1), 2, 'wait'],
    ['no review, none required', v('none', 0), 0, 'pass'],
    ['no review, one required', v('none', 0), 1, 'wait'],
    ['changes requested on this head', v('changes_requested', 0, ['head']), 1, 'rework'],
    ['changes requested only on an earlier head (already reworked)', v('changes_requested', 0, ['old']), 1, 'wait'],
    ['changes requested on this head, even with approvals', v('changes_requested', 2, ['head']), 1, 'rework'],
  ];
  for (const [what, verdict, required, want] of table) it(`${what} → ${want}`, () => assert.equal(reviewGate(verdict, 'head', required).type, want));
  it('rework carries the feedback', () => assert.deepEqual(reviewGate(v('changes_requested', 0, ['head']), 'head', 1), { type: 'rework', feedback: 'fix it' }));
});
