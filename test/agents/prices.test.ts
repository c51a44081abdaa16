// Cost when the CLI reports tokens but none: the shipped price table, the per-agent `price:`
// override, and the launcher filling `costUsd` of a real child process's turn (the command agent).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ActivityHub } from '../../src/agents/activity/hub.js';
import { createAgentLauncher } from '../../src/agents/launcher.js';
import { costOf, priceFor } from '../../src/agents/prices.js';
import { collect, ofType, sandbox, type Sandbox } from './support.js';

describe('price table', () => {
  const cases: [string, string | undefined, number | null][] = [
    ['codex', undefined, 1.25],
    ['codex', 'gpt-5-mini', 0.25],
    ['gemini', undefined, 1.25],
    ['gemini', 'gemini-2.5-flash', 0.3],
    ['claude-code', 'claude-opus-4-1', 15],
    ['opencode', 'anthropic/claude-haiku-4-5', 1],
    ['command', undefined, null],
    ['codex', 'some-local-model', null],
  ];
  for (const [agent, model, input] of cases) it(`${agent} ${model ?? '(default model)'}`, () => assert.equal(priceFor(agent, model)?.inputPerMTok ?? null, input));
  it('an override wins; cached input is billed at its own rate', () => {
    const p = priceFor('codex', 'gpt-5', { inputPerMTok: 2, outputPerMTok: 4, cachedInputPerMTok: 1 })!;
    assert.equal(costOf({ inputTokens: 1_000_000, outputTokens: 500_000, cachedInputTokens: 400_000 }, p), (600_000 * 2 + 400_000 * 1 + 500_000 * 4) / 1e6);
  });
});

describe('the launcher prices turns the agent reports no cost for', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox('prices');
    writeFileSync(join(box.workspace, 'agent.mjs'), `import { writeFileSync } from 'node:fs';
writeFileSync(process.env.GANTRY_RESULT_FILE, JSON.stringify({ status: 'completed', summary: 'ok', usage: { inputTokens: 2000, outputTokens: 1000 } }));
`);
  });
  after(() => box.cleanup());

  it('uses agents.<id>.price from gantry.yaml', async () => {
    const launcher = createAgentLauncher({ logsDir: box.logs, sink: new ActivityHub(), clock: Date });
    const h = launcher.launch({
      agent: 'command', sessionId: 'p1', launchGeneration: 1, workspace: box.workspace, prompt: 'p',
      agentsConfig: { command: { argv: ['node', 'agent.mjs'], price: { inputPerMTok: 3, outputPerMTok: 15 } } },
    });
    const done = ofType(await collect(h), 'turn_completed');
    assert.equal(done.length, 1);
    assert.equal(done[0]!.costUsd, (2000 * 3 + 1000 * 15) / 1e6);
  });
});
