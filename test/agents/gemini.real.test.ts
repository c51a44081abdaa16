// Real Gemini CLI against the scripted model server, reached through GOOGLE_GEMINI_BASE_URL in
// Gantry's own environment (passed through to the agent). Installed from scripts/agent-clis.json;
// mandatory in CI.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gemini } from '../../src/agents/gemini.js';
import type { LaunchSpec } from '../../src/ports/agent.js';
import { startModelServer, type ModelServer } from '../support/model-server/server.js';
import { collect, git, ofType, recordFixture, requireCli, sandbox, spec, type Sandbox } from './support.js';

const skip = requireCli('gemini', '@google/gemini-cli');
const question = 'I need a decision first.\n```gantry-question\n{"question":"Which database?","options":["SQLite","PostgreSQL"]}\n```';

describe('gemini adapter against the real CLI', { skip, timeout: 300_000 }, () => {
  let server: ModelServer;
  let box: Sandbox;
  const saved = { ...process.env };
  before(async () => {
    server = await startModelServer();
    // What an operator's shell holds: the endpoint and key reach Gemini through the pass-through.
    Object.assign(process.env, { GEMINI_API_KEY: 'test-dummy', GOOGLE_GEMINI_BASE_URL: server.url, GEMINI_CLI_NO_RELAUNCH: '1' });
    box = sandbox('gemini');
    // The user's Gemini settings: API-key auth; no folder-trust prompt for the temp workspace.
    mkdirSync(join(box.home, '.gemini'));
    writeFileSync(
      join(box.home, '.gemini', 'settings.json'),
      JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' }, folderTrust: { enabled: false } }, general: { disableAutoUpdate: true }, privacy: { usageStatisticsEnabled: false } }),
    );
  });
  after(async () => {
    await server.close();
    box.cleanup();
    for (const k of ['GEMINI_API_KEY', 'GOOGLE_GEMINI_BASE_URL', 'GEMINI_CLI_NO_RELAUNCH']) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const gSpec = (over: Partial<LaunchSpec> = {}): LaunchSpec =>
    spec(box, { model: 'gemini-2.5-pro', env: { HOME: box.home }, ...over });
  let sessionId = '';

  it('edits and commits, reporting session id, usage and the turn end', async () => {
    server.setScript([
      { text: 'Writing.', tools: [{ name: 'write_file', input: { file_path: join(box.workspace, 'hello.txt'), content: 'hello\n' } }] },
      { tools: [{ name: 'run_shell_command', input: { command: "git add hello.txt && git commit -q -m 'add hello'", description: 'commit' } }] },
      { text: 'Done: committed.' },
      { text: 'Second turn: nothing left to do.' },
    ]);
    const s = gSpec();
    const events = await collect(gemini.launch(s));
    recordFixture('gemini-edit-commit', s.logFile);
    sessionId = ofType(events, 'session_started')[0]?.agentSessionId ?? '';
    assert.match(sessionId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(ofType(events, 'tool_use').map((t) => t.name), ['write_file', 'run_shell_command']);
    assert.ok((ofType(events, 'turn_completed')[0]?.usage?.inputTokens ?? 0) > 0);
    assert.deepEqual(ofType(events, 'error'), []);
    assert.equal(ofType(events, 'exited')[0]?.code, 0);
    assert.equal(git(box.workspace, 'log', '-1', '--format=%s'), 'add hello');
    // Gemini echoes the prompt on stdout; the session log keeps the line without it.
    const log = readFileSync(s.logFile, 'utf8');
    assert.ok(!log.includes(s.prompt) && !log.includes('You are the implementer.'), 'the prompt is not in the session log');
    assert.match(log, /"role":"user","content":"\[prompt omitted from the log\]"/);
  });

  it('resumes the same session', async () => {
    const s = gSpec({ resumeAgentSessionId: sessionId, prompt: 'Anything else?' });
    const events = await collect(gemini.launch(s));
    recordFixture('gemini-resume', s.logFile);
    assert.equal(ofType(events, 'session_started')[0]?.agentSessionId, sessionId);
    assert.equal(ofType(events, 'message').at(-1)?.text, 'Second turn: nothing left to do.');
  });

  it('surfaces a question as needs_input; shell commands off the allowlist are not available', async () => {
    server.setScript([{ tools: [{ name: 'run_shell_command', input: { command: 'touch forbidden.txt', description: 'not allowed' } }] }, { text: question }]);
    const s = gSpec();
    const events = await collect(gemini.launch(s));
    recordFixture('gemini-question', s.logFile);
    assert.equal(existsSync(join(box.workspace, 'forbidden.txt')), false);
    assert.ok(ofType(events, 'error').some((e) => !e.fatal && e.message.startsWith('run_shell_command')), JSON.stringify(events));
    assert.deepEqual(ofType(events, 'needs_input'), [{ type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] }]);
  });
});
