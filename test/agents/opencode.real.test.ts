// Real OpenCode CLI against the scripted model server (its Anthropic provider pointed at it).
// Installed from scripts/agent-clis.json (out of the default npm install); mandatory in CI.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { opencode } from '../../src/agents/opencode.js';
import type { LaunchSpec } from '../../src/ports/agent.js';
import { startModelServer, type ModelServer } from '../support/model-server/server.js';
import { collect, git, ofType, recordFixture, requireCli, sandbox, spec, type Sandbox } from './support.js';

const skip = requireCli('opencode', 'opencode-ai');
const question = 'I need a decision first.\n```gantry-question\n{"question":"Which database?","options":["SQLite","PostgreSQL"]}\n```';

describe('opencode adapter against the real CLI', { skip, timeout: 300_000 }, () => {
  let server: ModelServer;
  let box: Sandbox;
  before(async () => {
    server = await startModelServer();
    box = sandbox('opencode');
  });
  after(async () => {
    await server.close();
    box.cleanup();
  });

  const ocSpec = (over: Partial<LaunchSpec> = {}): LaunchSpec =>
    spec(box, {
      env: {
        HOME: box.home,
        OPENCODE_DISABLE_MODELS_FETCH: '1',
        OPENCODE_DISABLE_AUTOUPDATE: '1',
        OPENCODE_CONFIG_CONTENT: JSON.stringify({
          autoupdate: false,
          share: 'disabled',
          model: 'anthropic/claude-sonnet-4-5',
          provider: { anthropic: { options: { baseURL: `${server.url}/v1`, apiKey: 'sk-ant-test-dummy' } } },
        }),
      },
      ...over,
    });
  let sessionId = '';

  it('edits and commits, reporting session id, usage, cost and the turn end', async () => {
    server.setScript([
      { text: 'Writing.', tools: [{ name: 'write', input: { filePath: join(box.workspace, 'hello.txt'), content: 'hello\n' } }] },
      { tools: [{ name: 'bash', input: { command: "git add hello.txt && git commit -q -m 'add hello'", description: 'commit' } }] },
      { text: 'Done: committed.' },
      { text: 'Second turn: nothing left to do.' },
    ]);
    const s = ocSpec();
    const events = await collect(opencode.launch(s));
    recordFixture('opencode-edit-commit', s.logFile);
    sessionId = ofType(events, 'session_started')[0]?.agentSessionId ?? '';
    assert.match(sessionId, /^ses_/);
    assert.deepEqual(ofType(events, 'tool_use').map((t) => t.name), ['write', 'bash']);
    const done = ofType(events, 'turn_completed');
    assert.equal(done.length, 1);
    assert.ok((done[0]?.usage?.inputTokens ?? 0) > 0);
    assert.equal(ofType(events, 'exited')[0]?.code, 0);
    assert.equal(git(box.workspace, 'log', '-1', '--format=%s'), 'add hello');
  });

  it('resumes the same session', async () => {
    const s = ocSpec({ resumeAgentSessionId: sessionId, prompt: 'Anything else?' });
    const events = await collect(opencode.launch(s));
    recordFixture('opencode-resume', s.logFile);
    assert.equal(ofType(events, 'session_started')[0]?.agentSessionId, sessionId);
    assert.equal(ofType(events, 'message').at(-1)?.text, 'Second turn: nothing left to do.');
  });

  it('surfaces a question as needs_input, and denies shell commands off the allowlist', async () => {
    server.setScript([{ tools: [{ name: 'bash', input: { command: 'touch forbidden.txt', description: 'not allowed' } }] }, { text: question }]);
    const s = ocSpec();
    const events = await collect(opencode.launch(s));
    recordFixture('opencode-question', s.logFile);
    assert.equal(existsSync(join(box.workspace, 'forbidden.txt')), false);
    assert.deepEqual(ofType(events, 'needs_input'), [{ type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] }]);
  });
});
