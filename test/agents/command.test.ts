// The command agent: any executable, through the documented env/file contract.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { command } from '../../src/agents/command.js';
import { isGantryError } from '../../src/domain/errors.js';
import { collect, ofType, sandbox, spec, type Sandbox } from './support.js';

describe('command agent', () => {
  let box: Sandbox;
  let script = '';
  before(() => {
    box = sandbox('command');
    script = join(box.root, 'agent.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'prompt=$(cat)',
        'test "$prompt" = "$(cat "$GANTRY_PROMPT_FILE")" || exit 9',
        'grep -q gantry-question "$GANTRY_ROLE_FILE" || exit 8',
        'test "$(pwd)" = "$GANTRY_WORKSPACE" || exit 7',
        'echo "working on: $prompt (role $GANTRY_ROLE, attempt $GANTRY_ATTEMPT, resume ${GANTRY_RESUME_ID:-none})"',
        'echo \'{"type":"tool_use","name":"shell","summary":"thinking"}\'',
        'if [ -n "$GANTRY_HOOK_TOKEN" ] && [ -z "$GANTRY_TOKEN" ]; then echo "hook token only"; fi',
        'printf \'{"status":"needs_input","question":"Proceed?","options":["yes","no"],"agentSessionId":"cmd-42"}\' > "$GANTRY_RESULT_FILE"',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
  });
  after(() => box.cleanup());

  it('passes prompt, role and workspace; reads events from stdout and the result file', async () => {
    process.env.GANTRY_TOKEN = 'must-not-leak';
    try {
      const s = spec(box, { options: { argv: [script] }, role: 'planner', attempt: 2, hook: { url: 'http://127.0.0.1:9/x', token: 'hook' } });
      const events = await collect(command.launch(s));
      const log = readFileSync(s.logFile, 'utf8');
      assert.match(log, /working on: Do the task\. \(role planner, attempt 2, resume none\)/);
      assert.match(log, /hook token only/); // GANTRY_TOKEN from Gantry's env did not leak
      assert.deepEqual(events.map((e) => e.type), ['tool_use', 'session_started', 'needs_input', 'turn_completed', 'exited']);
      assert.deepEqual(ofType(events, 'needs_input')[0], { type: 'needs_input', question: 'Proceed?', options: ['yes', 'no'] });
      assert.equal(ofType(events, 'session_started')[0]?.agentSessionId, 'cmd-42');
      assert.equal(ofType(events, 'exited')[0]?.code, 0);
    } finally {
      delete process.env.GANTRY_TOKEN;
    }
  });

  it('requires an argv', () => {
    assert.throws(() => command.launch(spec(box)), (e: unknown) => isGantryError(e) && e.field === 'agents.command.argv');
  });
});
