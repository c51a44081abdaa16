// Real Claude Code CLI against the scripted model server, in a real git workspace.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ActivityHub, type ActivityMessage } from '../../src/agents/activity/hub.js';
import { HookTokens } from '../../src/agents/activity/hook-token.js';
import { observeSession } from '../../src/agents/activity/observe.js';
import { claudeCode } from '../../src/agents/claude-code.js';
import { silentLogger } from '../../src/api/logger.js';
import { agentHookRoutes, hookUrl } from '../../src/api/routes/agent-hooks.js';
import { createApiServer, type ApiServer } from '../../src/api/server.js';
import { transcriptOf } from '../../src/api/transcript.js';
import type { AgentEvent, LaunchSpec } from '../../src/ports/agent.js';
import { startModelServer, type ModelServer } from '../support/model-server/server.js';
import { collect, git, ofType, recordFixture, requireCli, sandbox, spec, type Sandbox } from './support.js';

const skip = requireCli('claude', '@anthropic-ai/claude-code');
const question = 'I need a decision first.\n```gantry-question\n{"question":"Which database?","options":["SQLite","PostgreSQL"]}\n```';

describe('claude-code adapter against the real CLI', { skip, timeout: 240_000 }, () => {
  let server: ModelServer;
  let box: Sandbox;
  // Gantry's real hook route on a real API server, delivering into an activity hub.
  const tokens = new HookTokens('test-secret-0123456789');
  const hub = new ActivityHub();
  const seen: ActivityMessage[] = [];
  hub.subscribe((m) => seen.push(m));
  let api: ApiServer;
  let apiUrl = '';

  before(async () => {
    server = await startModelServer();
    box = sandbox('claude');
    api = createApiServer({ routes: agentHookRoutes({ tokens, sink: hub, clock: Date }), tokens: { verify: async () => undefined }, logger: silentLogger });
    apiUrl = (await api.listen(0, '127.0.0.1')).url;
  });
  after(async () => {
    await server.close();
    await api.close();
    box.cleanup();
  });

  const claudeSpec = (over: Partial<LaunchSpec> = {}): LaunchSpec =>
    spec(box, {
      env: {
        HOME: box.home,
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: 'sk-ant-test-dummy',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
      },
      ...over,
    });

  let sessionId = '';

  it('edits and commits a file, reporting session id, usage, cost and turn boundaries; hooks post activity', async () => {
    const gantrySession = 'sess-hooked';
    server.setScript([
      { text: 'Writing the file.', tools: [{ name: 'Write', input: { file_path: join(box.workspace, 'hello.txt'), content: 'hello\n' } }] },
      { tools: [{ name: 'Bash', input: { command: 'git add hello.txt && git commit -q -m "add hello"', description: 'commit' } }] },
      { text: 'Done: hello.txt is committed.' },
      { text: 'Second turn: nothing left to do.' },
    ]);
    const s = claudeSpec({ sessionId: gantrySession, hook: { url: hookUrl(apiUrl, gantrySession), token: tokens.issue(gantrySession, 1) } });
    const events: AgentEvent[] = [];
    await observeSession(gantrySession, 1, claudeCode.launch(s), hub, Date, (e) => events.push(e));
    recordFixture('claude-code-edit-commit', s.logFile);
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'session_started');
    assert.equal(types[1], 'turn_started');
    assert.equal(types.at(-1), 'exited');
    sessionId = ofType(events, 'session_started')[0]?.agentSessionId ?? '';
    assert.match(sessionId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(ofType(events, 'tool_use').map((t) => t.name), ['Write', 'Bash']);
    const done = ofType(events, 'turn_completed');
    assert.equal(done.length, 1);
    assert.ok((done[0]?.usage?.inputTokens ?? 0) > 0);
    assert.ok((done[0]?.costUsd ?? 0) > 0);
    assert.deepEqual(ofType(events, 'error'), []);
    assert.deepEqual(ofType(events, 'exited')[0], { type: 'exited', code: 0, signal: null, reason: 'exited' });
    assert.equal(git(box.workspace, 'log', '-1', '--format=%s'), 'add hello');
    assert.equal(git(box.workspace, 'show', 'HEAD:hello.txt'), 'hello');
    // Hooks reached Gantry's route with the per-session token and became observations.
    const hooked = seen.filter((m) => m.kind === 'activity' && m.obs.source === 'hook');
    assert.ok(hooked.length >= 3, JSON.stringify(seen));
    assert.ok(hooked.every((m) => m.sessionId === gantrySession && m.kind === 'activity' && m.obs.launchGeneration === 1));
    assert.ok(hooked.some((m) => m.kind === 'activity' && m.obs.value === 'working'));
    assert.ok(seen.some((m) => m.kind === 'agent_session' && m.agentSessionId === sessionId));
    const runtime = seen.filter((m) => m.kind === 'runtime').map((m) => (m.kind === 'runtime' ? m.obs.value.state : ''));
    assert.deepEqual(runtime, ['alive', 'exited']);
  });

  it('resumes the same session for a second turn', async () => {
    assert.ok(sessionId);
    const s = claudeSpec({ resumeAgentSessionId: sessionId, prompt: 'Anything else?' });
    const events = await collect(claudeCode.launch(s));
    recordFixture('claude-code-resume', s.logFile);
    assert.equal(ofType(events, 'session_started')[0]?.agentSessionId, sessionId);
    assert.equal(ofType(events, 'message').at(-1)?.text, 'Second turn: nothing left to do.');
    assert.equal(ofType(events, 'turn_completed').length, 1);
  });

  it('surfaces a scripted question as needs_input', async () => {
    server.setScript([{ text: question }]);
    const s = claudeSpec();
    const events = await collect(claudeCode.launch(s));
    recordFixture('claude-code-question', s.logFile);
    assert.deepEqual(ofType(events, 'needs_input'), [{ type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] }]);
  });

  it('reports a killed CLI as exited with its signal, and the unfinished turn as an error', async () => {
    server.setScript([{ tools: [{ name: 'Bash', input: { command: 'sleep 60', description: 'wait' } }] }]);
    const s = claudeSpec({ permissions: { mode: 'edits', allowedTools: ['Bash(sleep:*)'], skipPermissions: false } });
    const h = claudeCode.launch(s);
    const events = await collect(h, (e) => {
      if (e.type === 'tool_use') process.kill(h.pid, 'SIGKILL');
    });
    recordFixture('claude-code-killed', s.logFile);
    const exited = ofType(events, 'exited')[0];
    assert.equal(exited?.signal, 'SIGKILL');
    assert.equal(exited?.reason, 'exited');
    assert.ok(ofType(events, 'error').some((e) => e.fatal));
  });

  it('reports a model API error as a fatal error and a non-zero exit', async () => {
    server.setScript([{ error: { status: 400, message: 'scripted bad request' } }]);
    const s = claudeSpec();
    const events = await collect(claudeCode.launch(s));
    recordFixture('claude-code-api-error', s.logFile);
    assert.ok(ofType(events, 'error').some((e) => e.fatal), JSON.stringify(events));
    const exited = ofType(events, 'exited')[0];
    assert.notEqual(exited?.code, 0);
    assert.equal(exited?.reason, 'exited');
  });

  it('keeps permission checks on: a shell command outside the allowlist is denied', async () => {
    // (acceptEdits itself allows plain filesystem commands such as touch; node is not on the list.)
    const cmd = `node -e "require('fs').writeFileSync('forbidden.txt', 'x')"`;
    server.setScript([{ tools: [{ name: 'Bash', input: { command: cmd, description: 'not allowed' } }] }, { text: 'Could not.' }]);
    const events = await collect(claudeCode.launch(claudeSpec()));
    assert.equal(existsSync(join(box.workspace, 'forbidden.txt')), false);
    assert.ok(ofType(events, 'error').some((e) => !e.fatal && /permission denied for: Bash/.test(e.message)), JSON.stringify(events));
  });

  it('reports retry notices during a model outage as they happen, in events and the transcript', async () => {
    let calls = 0;
    server.setRouter(() => (++calls <= 2 ? [{ error: { status: 529, message: 'overloaded' } }] : [{ text: 'Back again.' }]));
    try {
      const s = claudeSpec();
      const events = await collect(claudeCode.launch(s));
      const notices = ofType(events, 'notice');
      assert.equal(notices.length, 2, JSON.stringify(events));
      assert.match(notices[0]!.message, /^model API retry 1\/\d+ \(529 overloaded\); next attempt in [\d.]+ s$/);
      assert.equal(notices[0]!.kind, 'retry');
      // Before the turn's reply, not after it: they arrive while the agent waits.
      assert.ok(events.findIndex((e) => e.type === 'notice') < events.findIndex((e) => e.type === 'message'));
      const transcript = transcriptOf('claude-code', readFileSync(s.logFile, 'utf8'));
      assert.ok(transcript.filter((e) => /model API retry/.test(e.text)).length === 2, JSON.stringify(transcript));
    } finally {
      server.setRouter(null);
    }
  });
});
