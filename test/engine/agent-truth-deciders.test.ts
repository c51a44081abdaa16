// Tables for the pure rules behind "agents tell the truth": the default time limit of an agent step,
// and which limit stopped an agent (the failure names the setting to raise).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { timeoutMs } from '../../src/engine/steps/common.js';
import { timeLimitFailure } from '../../src/engine/agent-runner.js';
import type { StepDef } from '../../src/domain/pipeline/types.js';

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
