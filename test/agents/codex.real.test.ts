// Real Codex CLI against the scripted model server (a custom model provider in a temporary
// CODEX_HOME speaking the Responses API), in a real git workspace.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codex, codexInnerSandbox } from '../../src/agents/codex.js';
import { sandboxHost } from '../../src/agents/sandbox/host.js';
import type { LaunchSpec, SandboxSpec } from '../../src/ports/agent.js';
import { startModelServer, type ModelServer } from '../support/model-server/server.js';
import { collect, git, ofType, recordFixture, requireCli, sandbox, spec, type Sandbox } from './support.js';

const skip = requireCli('codex', '@openai/codex');
const question = 'I need a decision first.\n```gantry-question\n{"question":"Which database?","options":["SQLite","PostgreSQL"]}\n```';

describe('codex adapter against the real CLI', { skip, timeout: 240_000 }, () => {
  let server: ModelServer;
  let box: Sandbox;
  let codexHome = '';

  before(async () => {
    server = await startModelServer();
    box = sandbox('codex');
    codexHome = join(box.root, 'codex-home');
    mkdirSync(codexHome);
    writeFileSync(
      join(codexHome, 'config.toml'),
      [
        'model = "gpt-5-codex"',
        'model_provider = "scripted"',
        '[model_providers.scripted]',
        'name = "Scripted"',
        `base_url = "${server.url}/v1"`,
        'wire_api = "responses"',
      ].join('\n'),
    );
  });
  after(async () => {
    await server.close();
    box.cleanup();
  });

  // #21: on a host with bubblewrap, Codex's own sandbox needs a helper its npm package does not ship, so
  // there (as in CI) Codex runs inside Gantry's sandbox, as the launcher runs it.
  const host = sandboxHost();
  const withBwrap = host.bwrap && !host.probeError ? host.bwrap : null;
  const bwrapPath = withBwrap ? `${dirname(withBwrap)}:${process.env.PATH ?? ''}` : '';
  const gantrySandbox = (readonly = false): SandboxSpec => ({ bwrap: withBwrap!, hide: [box.logs], hideFiles: [], writable: [], grants: [], network: true, ...(readonly ? { readonly } : {}) });
  const codexSpec = (over: Partial<LaunchSpec> = {}): LaunchSpec =>
    spec(box, { env: { HOME: box.home, CODEX_HOME: codexHome }, ...(withBwrap ? { sandbox: gantrySandbox(over.permissions?.mode === 'readonly') } : {}), ...over });
  let threadId = '';

  it('edits and commits a file inside its sandbox, reporting thread id, usage and turn boundaries', async () => {
    server.setScript([
      { tools: [{ name: 'exec_command', input: { cmd: "printf 'hello\\n' > hello.txt && git add hello.txt && git commit -q -m 'add hello'" } }] },
      { text: 'Done: hello.txt is committed.' },
      { text: 'Second turn: nothing left to do.' },
    ]);
    const s = codexSpec();
    const events = await collect(codex.launch(s));
    recordFixture('codex-edit-commit', s.logFile);
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'session_started');
    assert.ok(types.includes('turn_started'));
    threadId = ofType(events, 'session_started')[0]?.agentSessionId ?? '';
    assert.match(threadId, /^[0-9a-f-]{36}$/);
    const done = ofType(events, 'turn_completed');
    assert.equal(done.length, 1);
    assert.ok((done[0]?.usage?.inputTokens ?? 0) > 0);
    assert.equal(done[0]?.costUsd, null); // codex reports tokens, not cost
    assert.equal(ofType(events, 'message').at(-1)?.text, 'Done: hello.txt is committed.');
    assert.deepEqual(ofType(events, 'error').filter((e) => e.fatal), []);
    assert.deepEqual(ofType(events, 'exited')[0], { type: 'exited', code: 0, signal: null, reason: 'exited' });
    assert.equal(git(box.workspace, 'log', '-1', '--format=%s'), 'add hello');
  });

  it('resumes the same thread for a second turn', async () => {
    assert.ok(threadId);
    const s = codexSpec({ resumeAgentSessionId: threadId, prompt: 'Anything else?' });
    const events = await collect(codex.launch(s));
    recordFixture('codex-resume', s.logFile);
    assert.equal(ofType(events, 'session_started')[0]?.agentSessionId, threadId);
    assert.equal(ofType(events, 'message').at(-1)?.text, 'Second turn: nothing left to do.');
    assert.equal(ofType(events, 'turn_completed').length, 1);
  });

  it('surfaces a scripted question as needs_input', async () => {
    server.setScript([{ text: question }]);
    const s = codexSpec();
    const events = await collect(codex.launch(s));
    recordFixture('codex-question', s.logFile);
    assert.deepEqual(ofType(events, 'needs_input'), [{ type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] }]);
  });

  it('reports a killed CLI as exited with its signal, and the unfinished turn as an error', async () => {
    server.setScript([{ tools: [{ name: 'exec_command', input: { cmd: 'sleep 60' } }] }]);
    const s = codexSpec();
    const sent = server.requests.length;
    const h = codex.launch(s);
    const events = await collect(h, (e) => {
      if (e.type === 'turn_started') {
        // Wait for the command to be running (the model server has answered), then kill.
        const poll = setInterval(() => {
          if (server.requests.slice(sent).some((r) => r.path.endsWith('/responses'))) {
            clearInterval(poll);
            process.kill(h.pid, 'SIGKILL');
          }
        }, 20);
      }
    });
    recordFixture('codex-killed', s.logFile);
    const exited = ofType(events, 'exited')[0];
    assert.equal(exited?.signal, 'SIGKILL');
    assert.ok(ofType(events, 'error').some((e) => e.fatal));
  });

  it('reports a model API error as a fatal error and a non-zero exit', async () => {
    server.setScript([{ error: { status: 400, message: 'scripted bad request' } }]);
    const s = codexSpec();
    const events = await collect(codex.launch(s));
    recordFixture('codex-api-error', s.logFile);
    assert.ok(ofType(events, 'error').some((e) => e.fatal), JSON.stringify(events));
    const exited = ofType(events, 'exited')[0];
    assert.notEqual(exited?.code, 0);
    assert.equal(exited?.reason, 'exited');
  });

  it("inside Gantry's sandbox (bwrap on PATH) Codex's own sandbox is off and the agent's commit lands", { skip: !withBwrap && 'no working bubblewrap on this host' }, async () => {
    server.setScript([
      { tools: [{ name: 'exec_command', input: { cmd: "printf 'boxed\\n' > boxed.txt && git add boxed.txt && git commit -q -m 'add boxed'" } }] },
      { text: 'Done: boxed.txt is committed.' },
    ]);
    const s = codexSpec({ env: { HOME: box.home, CODEX_HOME: codexHome, PATH: bwrapPath }, sandbox: gantrySandbox() });
    const events = await collect(codex.launch(s));
    assert.deepEqual(ofType(events, 'error').filter((e) => e.fatal), [], JSON.stringify(events));
    assert.equal(ofType(events, 'exited')[0]?.code, 0);
    assert.equal(git(box.workspace, 'log', '-1', '--format=%s'), 'add boxed');
  });

  it("without Gantry's sandbox and with CODEX_HOME under the temporary directory, Codex's own sandbox is broken: the launch is refused naming the remedy, before any model turn; nothing is committed", { skip: !withBwrap && 'no working bubblewrap on this host' }, async () => {
    server.setScript([
      { tools: [{ name: 'exec_command', input: { cmd: "printf 'x\\n' > broken.txt && git add broken.txt && git commit -q -m 'add broken'" } }] },
      { text: 'Done.' },
    ]);
    const before = git(box.workspace, 'rev-parse', 'HEAD');
    const sent = server.requests.length;
    const env = { HOME: box.home, CODEX_HOME: codexHome, PATH: bwrapPath, TMPDIR: tmpdir() };
    assert.equal(codexInnerSandbox(env, false).state, 'broken');
    const events = await collect(codex.launch(codexSpec({ env, sandbox: undefined })));
    const fatal = ofType(events, 'error').filter((e) => e.fatal);
    assert.ok(fatal.some((e) => /Codex's own sandbox cannot run on this host \(bwrap: .*codex-linux-sandbox.*CODEX_HOME.*Remedy: .*bubblewrap/.test(e.message)), JSON.stringify(fatal));
    assert.equal(ofType(events, 'exited')[0]?.reason, 'spawn_failed');
    assert.equal(server.requests.length, sent, 'no model request was made');
    assert.equal(git(box.workspace, 'rev-parse', 'HEAD'), before);
    assert.equal(existsSync(join(box.workspace, 'broken.txt')), false);
  });

  it("without Gantry's sandbox and with CODEX_HOME outside the temporary directory, Codex's own bwrap sandbox runs and the agent's commit lands", { skip: !withBwrap && 'no working bubblewrap on this host' }, async () => {
    server.setScript([
      { tools: [{ name: 'exec_command', input: { cmd: "printf 'own\\n' > own.txt && git add own.txt && git commit -q -m 'add own'" } }] },
      { text: 'Done: own.txt is committed.' },
    ]);
    // Codex's temporary directory is elsewhere, so it may make its codex-linux-sandbox helper in CODEX_HOME.
    const otherTmp = join(box.root, 'other-tmp');
    mkdirSync(otherTmp, { recursive: true });
    const env = { HOME: box.home, CODEX_HOME: codexHome, PATH: bwrapPath, TMPDIR: otherTmp };
    assert.equal(codexInnerSandbox(env, false).state, 'own');
    const events = await collect(codex.launch(codexSpec({ env, sandbox: undefined })));
    assert.deepEqual(ofType(events, 'error').filter((e) => e.fatal), [], JSON.stringify(events));
    assert.equal(ofType(events, 'exited')[0]?.code, 0);
    assert.equal(git(box.workspace, 'log', '-1', '--format=%s'), 'add own');
  });

  it('keeps the sandbox on: in readonly mode the agent cannot write to its workspace', async () => {
    server.setScript([{ tools: [{ name: 'exec_command', input: { cmd: 'touch forbidden.txt' } }] }, { text: 'Could not.' }]);
    const events = await collect(codex.launch(codexSpec({ permissions: { mode: 'readonly', allowedTools: [], skipPermissions: false } })));
    assert.equal(ofType(events, 'exited')[0]?.code, 0);
    assert.equal(existsSync(join(box.workspace, 'forbidden.txt')), false);
  });
});
