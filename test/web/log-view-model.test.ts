// The run view's log model: line numbers and search matches.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { logLines } from '../../web/src/model/log-view.js';

describe('log view model', () => {
  it('numbers lines from 1, without a phantom line after the final newline', () => {
    assert.deepEqual(logLines('a\nb\n', '').lines.map((l) => [l.n, l.text]), [[1, 'a'], [2, 'b']]);
    assert.deepEqual(logLines('', '').lines, []);
    assert.deepEqual(logLines('only', '').lines.map((l) => l.n), [1]);
  });
  it('marks the lines that contain the query, case-insensitively, and counts them', () => {
    const r = logLines('ok 1\nFAIL: x\nnot ok fail\n', 'fail');
    assert.deepEqual(r.lines.map((l) => l.match), [false, true, true]);
    assert.equal(r.matches, 2);
    assert.equal(logLines('a\nb', '   ').matches, 0, 'a blank query matches nothing');
  });
});
