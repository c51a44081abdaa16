// The task history's folding rule: bookkeeping hides behind "show all", everything else shows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBookkeeping } from '../../web/src/model/history.js';

describe('history folding', () => {
  it('folds progress ticks without a phase, provisioning records and lease renewals; keeps the rest', () => {
    const table: Array<[string, Record<string, unknown>, boolean]> = [
      ['step.progress', { step: 'plan', idx: 0, phase: null }, true],
      ['step.progress', { step: 'checks', idx: 3, phase: null, ok: null }, true],
      ['step.progress', { step: 'checks', idx: 3, phase: 'fixing', ok: false }, false],
      ['step.progress', { step: 'checks', idx: 3, phase: null, ok: false }, false],
      ['workspace.step_started', {}, true],
      ['lease.renewed', {}, true],
      ['step.started', { step: 'plan' }, false],
      ['task.submitted', {}, false],
    ];
    for (const [type, payload, folded] of table) assert.equal(isBookkeeping({ type, payload }), folded, `${type} ${JSON.stringify(payload)}`);
  });
});
