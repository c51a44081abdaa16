// End to end with the real Claude Code CLI against the scripted model server: a session goes
// spawning → working → needs_input (a scripted question) → working (after `gantry reply`) → done,
// and every transition arrives on the coordinator's SSE stream.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from '../support/api.js';
import { gantry } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { startModelServer, type ModelServer } from '../support/model-server/server.js';
import { requireCli, sandbox, type Sandbox } from '../agents/support.js';
import { connectSse } from '../../src/lib/sse-client.js';
import { createAgentLauncher } from '../../src/agents/launcher.js';
import type { AgentEvent } from '../../src/ports/agent.js';
import type { InputSink } from '../../src/ports/lifecycle.js';
import type { SessionRecord } from '../../src/domain/session.js';

const skip = requireCli('claude', '@anthropic-ai/claude-code');
const QUESTION = 'Before I start I need a decision.\n```gantry-question\n{"question":"Which database?","options":["SQLite","PostgreSQL"]}\n```';

describe('lifecycle with the real Claude Code CLI', { skip, timeout: 240_000 }, () => {
  let api: TestApi;
  let model: ModelServer;
  let box: Sandbox;
  let taskId = '';
  before(async () => {
    model = await startModelServer([{ text: QUESTION }, { text: 'Going with SQLite. Done.' }]);
    box = sandbox('claude-lifecycle');
    api = await startTestApi('sqlite');
    const p = await api.req('POST', '/api/projects', { path: makeRepo() });
    const t = await api.req('POST', '/api/tasks', { title: 'pick a database', body: 'decide', project: (p.body.project as { id: string }).id });
    taskId = (t.body.task as { id: string }).id;
  });
  after(async () => {
    await api?.close();
    await model?.close();
    box?.cleanup();
  });

  it('spawning → working → needs_input → (gantry reply) → working → done, all on the event stream', async (t) => {
    const m = api.coordinator.lifecycle.manager;
    // The composition a factory uses: the agent launcher reports into the lifecycle's evidence sink.
    const launcher = createAgentLauncher({
      logsDir: box.logs,
      sink: api.coordinator.lifecycle.evidence,
      clock: Date,
      env: { HOME: box.home, ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-test-dummy', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1' },
    });
    const agentEvents: { at: number; gen: number; e: AgentEvent }[] = [];
    const runs: Promise<void>[] = [];
    const launch = async (s: SessionRecord, gen: number, prompt: string, resume?: string) => {
      const h = launcher.launch({ agent: 'claude-code', sessionId: s.id, launchGeneration: gen, workspace: box.workspace, prompt, ...(resume ? { resumeAgentSessionId: resume } : {}) });
      await m.onSpawned(s.id, { launchGeneration: gen, pid: h.pid });
      runs.push((async () => {
        for await (const e of h.events) agentEvents.push({ at: Date.now(), gen, e });
      })());
    };
    // The agent runtime's side of the input queue: resume the same conversation with the reply.
    const sink: InputSink = {
      deliver: async (s, input) => launch(s, s.launchGeneration + 1, input.text, s.agentSessionId ?? undefined),
    };
    await m.attachSink(sink);

    const s = await m.create({ taskId, agent: 'claude-code' });
    const start = await api.coordinator.store.events.latestSeq();
    const ac = new AbortController();
    const stream = await connectSse({ url: `${api.url}/api/events/stream?after=${start}`, token: api.token, signal: ac.signal });
    const seen: { at: number; display: string }[] = [];
    let asked: () => void = () => undefined;
    const question = new Promise<void>((r) => (asked = r));
    const reading = (async () => {
      for await (const msg of stream) {
        const e = JSON.parse(msg.data) as { type: string; sessionId: string; payload: { display: string } };
        if (e.type !== 'session.updated' || e.sessionId !== s.id) continue;
        seen.push({ at: Date.now(), display: e.payload.display });
        if (e.payload.display === 'needs_input') asked();
        if (e.payload.display === 'done') break;
      }
    })();

    await launch(await m.get(s.id), 1, 'Pick a database for the app.');
    // The question reaches the stream; a person sees it and answers.
    await question;
    const notes = await gantry(['notifications', '--json', '--url', api.url, '--token', api.token]);
    assert.ok((JSON.parse(notes.stdout) as { notifications: { sessionId: string; kind: string }[] }).notifications.some((n) => n.sessionId === s.id && n.kind === 'needs-input'));
    const reply = await gantry(['reply', s.id, 'Use SQLite.', '--url', api.url, '--token', api.token]);
    assert.equal(reply.code, 0, reply.stderr);
    await reading;
    ac.abort();
    await Promise.all(runs);
    await api.coordinator.lifecycle.evidence.idle();
    await m.idle();

    const displays = seen.map((x) => x.display).filter((d, i, all) => i === 0 || all[i - 1] !== d);
    assert.deepEqual(displays, ['spawning', 'working', 'needs_input', 'working', 'idle', 'done'], displays.join(' → '));
    const inputs = await m.inputs.list(s.id);
    assert.deepEqual(inputs.map((i) => [i.text, i.state]), [['Use SQLite.', 'acknowledged']]);
    assert.deepEqual((await m.notifications.list({ sessionId: s.id, states: ['raised', 'escalated', 'acknowledged', 'resolved'] })).map((n) => [n.kind, n.state]), [['needs-input', 'resolved']]);
    const final = await m.get(s.id);
    assert.equal(final.launchGeneration, 2, 'the reply resumed the same conversation in a second launch');
    assert.ok(final.agentSessionId);
    const types = agentEvents.map((x) => `${x.gen}:${x.e.type}`);
    assert.ok(types.includes('1:needs_input') && types.includes('2:turn_started'), types.join(' '));
    // How long after the agent's event (as its reader saw it) the transition reached the stream:
    // reported, not asserted (bench/lifecycle measures hook → SSE latency properly).
    const lag = (type: AgentEvent['type'], gen: number, display: string) => {
      const a = agentEvents.find((x) => x.gen === gen && x.e.type === type)?.at;
      const b = seen.find((x) => x.display === display && a !== undefined && x.at >= a)?.at;
      return a !== undefined && b !== undefined ? b - a : null;
    };
    t.diagnostic(`lag (ms): working ${lag('session_started', 1, 'working')}, needs_input ${lag('needs_input', 1, 'needs_input')}, working-after-reply ${lag('session_started', 2, 'working')}, done ${lag('exited', 2, 'done')}`);
  });
});
