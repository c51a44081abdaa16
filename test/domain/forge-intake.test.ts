// Table tests for the issue intake deciders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { issueEcho, issuesToTake, taskFromIssue, type IssueFacts } from '../../src/domain/forge/intake.js';

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
