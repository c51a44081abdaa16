// The New task form's pure parts: form text → request body, API error field → form field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_FORM, fieldOfError, submitBody } from '../../web/src/model/new-task.js';

describe('new task form model', () => {
  it('sends only what was filled in, lists split on commas and spaces', () => {
    assert.deepEqual(submitBody({ ...EMPTY_FORM, title: 'T', project: 'p' }), { title: 'T', body: '', project: 'p' });
    assert.deepEqual(submitBody({ ...EMPTY_FORM, title: 'T', body: '# b', project: 'p', pipeline: 'quick', agent: 'scripted', priority: ' 5 ', after: 't_1, t_2  t_3', capabilities: 'gpu,,linux' }), {
      title: 'T',
      body: '# b',
      project: 'p',
      pipeline: 'quick',
      agent: 'scripted',
      priority: 5,
      after: ['t_1', 't_2', 't_3'],
      capabilities: ['gpu', 'linux'],
    });
  });

  it('passes a priority that is not a number on as typed, for the API to name', () => {
    assert.equal(submitBody({ ...EMPTY_FORM, priority: 'high' }).priority, 'high');
    assert.equal(submitBody({ ...EMPTY_FORM, priority: '1.5' }).priority, 1.5);
  });

  it('maps the field an API error names to the form field', () => {
    const table: Array<[string | null, string | null]> = [
      ['body.title', 'title'],
      ['body.after.0', 'after'],
      ['body.capabilities[0]', 'capabilities'],
      ['body.priority', 'priority'],
      ['pipeline', 'pipeline'],
      ['agent', 'agent'],
      ['project', 'project'],
      ['body.body', 'body'],
      ['body', null],
      ['body.idempotencyKey', null],
      [null, null],
    ];
    for (const [from, to] of table) assert.equal(fieldOfError(from), to, String(from));
  });
});
