// decideDemo: submission order (the conflict partner waits for the French plan to park), approval
// only when released and (with --exit-when-done) after its partner shipped, failure and finish.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideDemo, type DemoTaskFacts } from '../../src/app/demo/decide.js';
import { DEMO_TASKS } from '../../src/app/demo/tasks.js';

const decide = (facts: Record<string, DemoTaskFacts>, exitWhenDone = true, handled: string[] = []) =>
  decideDemo({ tasks: DEMO_TASKS, facts, exitWhenDone, handled: new Set(handled) });
const parked: DemoTaskFacts = { id: 'f', stage: 'blocked', blockedReason: 'awaiting_human', waiting: 'approval' };
const shipped = (id: string): DemoTaskFacts => ({ id, stage: 'shipped' });

describe('decideDemo', () => {
  const cases: Array<[string, Record<string, DemoTaskFacts>, boolean, string[], string[]]> = [
    ['nothing submitted: the French task and shout go first', {}, true, [], ['submit:french', 'submit:shout']],
    ['French still planning: the partner waits', { french: { id: 'f', stage: 'building' }, shout: { id: 's', stage: 'building' } }, true, [], []],
    ['French parked: the partner is submitted; approval waits for it to ship', { french: parked, shout: { id: 's', stage: 'testing' } }, true, [], ['submit:excited']],
    ['changelog needs every dependency submitted first', { french: parked, shout: { id: 's', stage: 'testing' }, excited: { id: 'e', stage: 'building' } }, true, [], ['submit:changelog']],
    ['partner shipped: approve on the person\'s behalf', { french: parked, shout: shipped('s'), excited: shipped('e'), changelog: { id: 'c', stage: 'blocked', blockedReason: 'dependencies' } }, true, [], ['approve:french']],
    ['parked but the lease not yet released: wait', { french: { ...parked, stage: 'review', blockedReason: null }, shout: shipped('s'), excited: shipped('e'), changelog: { id: 'c', stage: 'blocked' } }, true, [], []],
    ['approved already: nothing more', { french: parked, shout: shipped('s'), excited: shipped('e'), changelog: { id: 'c', stage: 'blocked' } }, true, ['french'], []],
    ['interactive: the person is told, never approved for', { french: parked, shout: shipped('s'), excited: { id: 'e', stage: 'building' }, changelog: { id: 'c', stage: 'blocked' } }, false, [], ['ask_person:french']],
    ['a failed task ends the demo', { french: { id: 'f', stage: 'failed' }, shout: shipped('s') }, true, [], ['failed:french']],
    ['a dead-lettered task ends the demo', { french: shipped('f'), shout: { id: 's', stage: 'dead_letter' } }, true, [], ['failed:shout']],
    ['all shipped: finished', { french: shipped('f'), shout: shipped('s'), excited: shipped('e'), changelog: shipped('c') }, true, [], ['finished']],
  ];
  for (const [name, facts, exit, handled, want] of cases) {
    it(name, () => {
      const got = decide(facts, exit, handled).map((m) => (m.type === 'finished' ? 'finished' : `${m.type}:${m.key}`));
      assert.deepEqual(got, want);
    });
  }
});
