// Tables for the pure rules behind "agents tell the truth": the default time limit of an agent step,
// and which limit stopped an agent (the failure names the setting to raise).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { timeoutMs } from '../../src/engine/steps/common.js';
import { timeLimitFailure } from '../../src/engine/agent-runner.js';
import type { StepDef } from '../../src/domain/pipeline/types.js';
import { decideEmptyTurn, readsAsQuestion, type EmptyTurnDecision, type EmptyTurnFacts } from '../../src/domain/pipeline/empty-turn.js';

describe('agent step time limits', () => {
  it('a step without `timeout:` gets the declared default of one hour; its own value wins', () => {
    assert.equal(timeoutMs({ id: 'implement', kind: 'agent' } as StepDef), 3_600_000);
    assert.equal(timeoutMs({ id: 'implement', kind: 'agent', timeout: 90 } as StepDef), 90_000);
  });
  const cases: [string, string | null][] = [
    ['step', "the agent ran past the step's timeout (90 s; raise `timeout:` on the step)"],
    ['timeout', 'the agent ran past its time limit (`agents.codex.timeoutSeconds` in gantry.yaml)'],
    ['inactive', 'the agent printed nothing for too long and was stopped (`agents.codex.inactivitySeconds` in gantry.yaml)'],
    ['exited', null],
    ['stopped', null],
  ];
  for (const [by, want] of cases) it(`stopped by ${by}`, () => assert.equal(timeLimitFailure('codex', by, 90_000), want));
});

describe('never shipped with nothing in it', () => {
  const q: [string, boolean][] = [
    ['Which database should I use, SQLite or PostgreSQL?', true],
    ['I looked at the code.\n\nShould I also update the docs?', true],
    ['**Do you want me to proceed?**', true],
    ['Done: added greet.txt.', false],
    ['Why? Because the tests failed.\n\nFixed the test.', false],
    ['Here is the plan:\n```\nwhat now?\n```', false],
    ['', false],
  ];
  for (const [text, want] of q) it(`reads as a question: ${JSON.stringify(text).slice(0, 50)}`, () => assert.equal(readsAsQuestion(text), want));

  const cases: [string, EmptyTurnFacts, EmptyTurnDecision['type']][] = [
    ['a commit ships', { role: 'implementer', committed: true, branchAhead: false, text: 'Done.' }, 'ok'],
    ['unknown (no git) never decides', { role: 'implementer', committed: undefined, branchAhead: false, text: 'Done.' }, 'ok'],
    ['a prose question with no change parks', { role: 'implementer', committed: false, branchAhead: false, text: 'Which port should the server use?' }, 'question'],
    ['a planner question parks too', { role: 'planner', committed: false, branchAhead: false, text: 'Is SQLite acceptable?' }, 'question'],
    ['an implementer that committed nothing fails', { role: 'implementer', committed: false, branchAhead: false, text: 'Done.' }, 'fail'],
    ['the branch already holds commits (a rework that changed nothing)', { role: 'implementer', committed: false, branchAhead: true, text: 'Done.' }, 'ok'],
    ['the base is unknown: never decides', { role: 'implementer', committed: false, branchAhead: undefined, text: 'Done.' }, 'ok'],
    ['a planner changes nothing by design', { role: 'planner', committed: false, branchAhead: false, text: 'Plan: add greet.txt.' }, 'ok'],
  ];
  for (const [name, facts, want] of cases) it(name, () => assert.equal(decideEmptyTurn(facts).type, want));
  it('the failure says why and what the agent said', () => {
    const d = decideEmptyTurn({ role: 'implementer', committed: false, branchAhead: false, text: 'All done!' });
    assert.equal(d.type, 'fail');
    assert.match(d.type === 'fail' ? d.message : '', /without committing anything, so there is nothing to ship.*It said: "All done!"/);
  });
});
