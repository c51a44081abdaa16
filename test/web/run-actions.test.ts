// What the task page offers a person for each kind of wait, and the run controls per run state.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { proposalOf, choicesFor, runControls, stepDuration } from '../../web/src/model/run-actions.js';
import type { RunView } from '../../web/src/api/types.js';

const run = (state: RunView['state']): RunView => ({
  id: 'r-1', number: 1, pipeline: 'standard', state, currentStep: 'plan', waiting: null, failure: null, startedAt: 1, finishedAt: null, pausedAt: null,
  steps: [{ id: 'plan', kind: 'agent', state: 'done', attempts: 1, output: null, failure: null, startedAt: 1, finishedAt: 2 }],
});

describe('web run actions', () => {
  const table: Array<[Parameters<typeof choicesFor>[0], string[], string[]]> = [
    ['approval', [], ['approve', 'changes', 'reject']],
    ['decision', ['postgres', 'sqlite'], ['answer', 'answer', 'reject']],
    ['decision', [], ['answer', 'reject']],
    ['needs_input', [], ['reply', 'reject']],
    ['review_cap', [], ['more_round', 'proceed', 'stop']],
    ['merge_review', [], ['merge', 'hold', 'reject']],
  ];
  for (const [kind, options, want] of table) {
    it(`${kind}${options.length ? ' with options' : ''} offers ${want.join(', ')}`, () => assert.deepEqual(choicesFor(kind, options).map((c) => c.action), want));
  }

  it('sends an option as a fixed answer, and asks for text where the engine requires it', () => {
    const [pg] = choicesFor('decision', ['postgres']);
    assert.deepEqual(pg!.text, { kind: 'fixed', value: 'postgres' });
    assert.equal(choicesFor('approval', []).find((c) => c.action === 'changes')!.text?.kind, 'required');
    assert.equal(choicesFor('needs_input', []).find((c) => c.action === 'reply')!.text?.kind, 'required');
    assert.equal(choicesFor('approval', []).find((c) => c.action === 'reject')!.text?.kind, 'optional');
    assert.ok(choicesFor('review_cap', []).find((c) => c.action === 'stop')!.danger);
  });

  it('offers retry only after failure, cancel only while live', () => {
    assert.deepEqual(runControls(null), []);
    assert.deepEqual(runControls(run('failed')), ['retry', 'restart']);
    assert.deepEqual(runControls(run('parked')), ['restart', 'cancel']);
    assert.deepEqual(runControls(run('done')), ['restart']);
  });

  it('measures finished steps to their end and working steps to now', () => {
    assert.equal(stepDuration({ startedAt: null, finishedAt: null }, 100), null);
    assert.equal(stepDuration({ startedAt: 10, finishedAt: 40 }, 100), 30);
    assert.equal(stepDuration({ startedAt: 10, finishedAt: null }, 100), 90);
  });
});

describe('approving with an edited proposal', () => {
  it('the approval offers the proposal to edit; other waits have none', () => {
    const approve = choicesFor('approval', []).find((c) => c.action === 'approve')!;
    assert.deepEqual(approve.text && approve.text.kind, 'optional');
    assert.equal(proposalOf({ kind: 'approval', detail: { output: { text: 'Plan: A' } } }), 'Plan: A');
    assert.equal(proposalOf({ kind: 'approval', detail: { output: null } }), null);
    assert.equal(proposalOf({ kind: 'approval' }), null);
    assert.equal(proposalOf({ kind: 'decision', detail: { output: { text: 'x' } } }), null);
    assert.equal(proposalOf(null), null);
  });
});
