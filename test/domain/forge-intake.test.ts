// Table tests for the issue intake deciders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dueForIntake, intakeKey, issueEcho, issueEvent, issueFromPayload, issueOf, issuesToTake, outcomeOf, taskFromIssue, type IssueFacts } from '../../src/domain/forge/intake.js';
import type { Stage } from '../../src/domain/task.js';

const issue = (n: number, o: Partial<IssueFacts> = {}): IssueFacts => ({ number: n, title: `Issue ${n}`, body: '', labels: ['gantry'], state: 'open', isPull: false, url: `https://gh/i/${n}`, ...o });

describe('issuesToTake', () => {
  const table: Array<[string, IssueFacts, boolean]> = [
    ['open, labelled', issue(1), true],
    ['closed', issue(2, { state: 'closed' }), false],
    ['a pull request', issue(3, { isPull: true }), false],
    ['without the label', issue(4, { labels: ['bug'] }), false],
    ['already has a task', issue(5), false],
  ];
  for (const [name, i, taken] of table) it(name, () => assert.equal(issuesToTake([i], 'gantry', new Set([5])).length, taken ? 1 : 0));
});

describe('taskFromIssue and issueEcho', () => {
  it('titles the task after the issue and links back', () => {
    assert.deepEqual(taskFromIssue(issue(7, { title: '  Fix it ', body: 'details' })), { title: 'Fix it', body: 'details\n\nFrom issue #7: https://gh/i/7' });
    assert.equal(taskFromIssue(issue(8, { title: ' ' })).title, 'Issue #8');
  });
  it('echoes shipped with the PR and merge, failed with the reason', () => {
    assert.deepEqual(issueEcho({ type: 'shipped', pullUrl: 'https://gh/p/3', mergedSha: 'abc' }, 't-1'), { comment: 'Gantry shipped task t-1 (pull request https://gh/p/3, merge abc).', label: 'gantry:shipped' });
    assert.deepEqual(issueEcho({ type: 'shipped', pullUrl: null, mergedSha: null }, 't-1'), { comment: 'Gantry shipped task t-1.', label: 'gantry:shipped' });
    assert.deepEqual(issueEcho({ type: 'failed', reason: 'checks red' }, 't-2'), { comment: "Gantry's task t-2 failed: checks red", label: 'gantry:failed' });
  });
});

describe('issueOf, outcomeOf and dueForIntake', () => {
  it('reads the issue back from the task key, only for its own repository', () => {
    const table: Array<[string | null, number | null]> = [
      [intakeKey('acme/app', 12), 12],
      ['github:acme/other#12', null],
      ['github:acme/app#x', null],
      ['github:acme/app#0', null],
      ['my-own-key', null],
      [null, null],
    ];
    for (const [key, want] of table) assert.equal(issueOf({ idempotencyKey: key }, 'acme/app'), want, String(key));
  });
  it('a finished task has an outcome; an unfinished one has none', () => {
    const merge = { prUrl: 'https://gh/p/1', mergedSha: 'abc' };
    const table: Array<[Stage, string | null, ReturnType<typeof outcomeOf>]> = [
      ['shipped', null, { type: 'shipped', pullUrl: 'https://gh/p/1', mergedSha: 'abc' }],
      ['failed', 'checks red', { type: 'failed', reason: 'checks red' }],
      ['dead_letter', null, { type: 'failed', reason: 'it failed' }],
      ['cancelled', null, { type: 'failed', reason: 'it was cancelled' }],
      ['queued', null, null],
      ['building', null, null],
      ['blocked', null, null],
    ];
    for (const [stage, message, want] of table) assert.deepEqual(outcomeOf({ stage, failureMessage: message }, merge), want, stage);
  });
  it('a project is due when it has intake with pollSeconds and its last sync is that old', () => {
    const p = (id: string, scm: unknown) => ({ id, config: { scm } as Record<string, unknown> });
    const gh = (intake: unknown) => ({ adapter: 'github', github: { intake } });
    const projects = [
      p('never', gh({ label: 'x', pollSeconds: 60 })),
      p('recent', gh({ label: 'x', pollSeconds: 60 })),
      p('old', gh({ label: 'x', pollSeconds: 60 })),
      p('no-poll', gh({ label: 'x' })),
      p('no-label', gh({ pollSeconds: 60 })),
      p('git', { adapter: 'git-remote', github: { intake: { label: 'x', pollSeconds: 60 } } }),
      p('none', undefined),
    ];
    const last = new Map([['recent', 100_000], ['old', 40_000]]);
    assert.deepEqual(dueForIntake(projects, last, 100_000 + 59_999).map((x) => x.id), ['never', 'old']);
  });
});

describe('issueEvent (the issues webhook)', () => {
  const issue = (o: Partial<IssueFacts> = {}): IssueFacts => ({ number: 4, title: 'Fix it', body: '', labels: ['gantry-task'], state: 'open', isPull: false, url: 'u', ...o });
  const table: [string, string | null, IssueFacts | null, string][] = [
    ['opened with the label', 'opened', issue(), 'take'],
    ['labeled', 'labeled', issue(), 'take'],
    ['reopened with the label', 'reopened', issue(), 'take'],
    ['labeled with another label', 'labeled', issue({ labels: ['bug'] }), 'ignore'],
    ['unlabeled: nothing destructive', 'unlabeled', issue({ labels: [] }), 'ignore'],
    ['closed: nothing destructive', 'closed', issue({ state: 'closed' }), 'ignore'],
    ['edited', 'edited', issue(), 'ignore'],
    ['a pull request', 'opened', issue({ isPull: true }), 'ignore'],
    ['no issue', 'opened', null, 'ignore'],
  ];
  for (const [name, action, i, want] of table) it(`${name} → ${want}`, () => assert.equal(issueEvent(action, i, 'gantry-task').type, want));
  it('reads the documented payload', () => {
    const f = issueFromPayload({ number: 9, title: 'T', body: null, state: 'open', labels: [{ name: 'gantry-task' }, { name: 'bug' }], html_url: 'https://x/9' })!;
    assert.deepEqual(f, { number: 9, title: 'T', body: '', labels: ['gantry-task', 'bug'], state: 'open', isPull: false, url: 'https://x/9' });
    assert.equal(issueFromPayload({ number: 'x' }), null);
  });
});
