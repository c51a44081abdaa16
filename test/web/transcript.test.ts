// Agent transcripts for the dashboard: recorded Claude Code and Codex streams read back through their
// parsers, and a real scripted agent's log served by the coordinator's transcript route.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ActivityHub } from '../../src/agents/activity/hub.js';
import { createAgentLauncher } from '../../src/agents/launcher.js';
import { sessionLogDirs } from '../../src/app/coordinator.js';
import { resolveHome } from '../../src/app/home.js';
import { entryOf, transcriptOf, type Transcript } from '../../src/api/transcript.js';
import type { Task } from '../../src/domain/task.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';
import { collect, sandbox, type Sandbox } from '../agents/support.js';

const fixture = (name: string) => readFileSync(new URL(`../agents/fixtures/${name}`, import.meta.url), 'utf8');

describe('agent transcripts', () => {
  it('reads a recorded Claude Code question: tool calls, the question, the turn', () => {
    const entries = transcriptOf('claude-code', fixture('claude-code-question.jsonl'));
    assert.ok(entries.some((e) => e.kind === 'question'), JSON.stringify(entries));
    assert.ok(entries.some((e) => e.kind === 'turn'));
    assert.ok(entries.every((e) => !e.text.startsWith('{')), 'no raw protocol lines');
  });

  it('reads a recorded Codex edit: commands and messages', () => {
    const entries = transcriptOf('codex', fixture('codex-edit-commit.jsonl'));
    assert.ok(entries.some((e) => e.kind === 'tool'), JSON.stringify(entries));
    assert.ok(entries.some((e) => e.kind === 'message'));
  });

  it('keeps what a parser does not understand as plain output, and shows unknown agents raw', () => {
    assert.deepEqual(transcriptOf('codex', 'warning: low disk\n'), [{ kind: 'output', text: 'warning: low disk' }]);
    assert.deepEqual(transcriptOf('someday-agent', 'hello\n\nworld\n'), [{ kind: 'output', text: 'hello' }, { kind: 'output', text: 'world' }]);
    assert.equal(entryOf({ type: 'error', message: 'noise', fatal: false }), null);
    assert.deepEqual(entryOf({ type: 'needs_input', question: 'Which DB?', options: ['pg', 'sqlite'] }), { kind: 'question', text: 'Which DB? (pg · sqlite)' });
  });

  describe('served by the coordinator', () => {
    let api: TestApi;
    let box: Sandbox;
    before(async () => {
      [api, box] = [await startTestApi('sqlite'), sandbox('transcript')];
    });
    after(async () => {
      await api?.close();
      box?.cleanup();
    });

    it("serves a real scripted agent's session log as a transcript", async () => {
      const project = ((await api.req('POST', '/api/projects', { path: makeRepo(), name: 't' })).body.project as { id: string }).id;
      const task = (await api.req('POST', '/api/tasks', { title: 'say hi', project })).body.task as Task;
      const m = api.coordinator.lifecycle.manager;
      const s = await m.create({ taskId: task.id, agent: 'scripted' });
      await m.onSpawned(s.id, { launchGeneration: 1 });
      // The launcher writes the log where this coordinator's factories write theirs.
      const launcher = createAgentLauncher({ logsDir: sessionLogDirs(resolveHome(api.home))[0]!, sink: new ActivityHub(), clock: Date });
      const agentsConfig = { scripted: { roles: { implementer: [{ say: 'Adding the coupon field' }, { run: 'echo building' }, { write: { path: 'c.txt', content: 'c\n' } }, { commit: 'add coupon' }] } } };
      await collect(launcher.launch({ agent: 'scripted', sessionId: s.id, launchGeneration: 1, workspace: box.workspace, prompt: 'go', role: 'implementer', agentsConfig }));

      const r = await api.req('GET', `/api/ui/sessions/${s.id}/transcript`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const tr = r.body.transcript as Transcript;
      assert.equal(tr.generation, 1);
      assert.ok(tr.entries.some((e) => e.kind === 'message' && e.text.includes('Adding the coupon field')), JSON.stringify(tr.entries));
      assert.ok(tr.entries.some((e) => e.kind === 'tool' && e.text.includes('echo building')), JSON.stringify(tr.entries));

      const missing = await api.req('GET', `/api/ui/sessions/${s.id}/transcript?generation=7`);
      assert.equal(missing.status, 404);
      assert.match(JSON.stringify(missing.body), /host that ran the agent/);
      assert.equal((await api.req('GET', '/api/ui/sessions/s-nope/transcript')).status, 404);
      assert.equal((await api.req('GET', `/api/ui/sessions/${s.id}/transcript`, undefined, { token: null })).status, 401);
    });

    it('finds a session the pipeline engine dispatched through its session.dispatched event', async () => {
      const project = ((await api.req('POST', '/api/projects', { path: makeRepo(), name: 't2' })).body.project as { id: string }).id;
      const task = (await api.req('POST', '/api/tasks', { title: 'engine run', project })).body.task as Task;
      const id = 'r-abc:2:k1:1'; // the engine's session id; the launcher names the log directory without colons
      await api.coordinator.store.write(async (tx) => tx.emit({ type: 'session.dispatched', taskId: task.id, sessionId: id, payload: { step: 'implement', idx: 2, role: 'implementer', agent: 'scripted', launch: 1 } }));
      const launcher = createAgentLauncher({ logsDir: sessionLogDirs(resolveHome(api.home))[0]!, sink: new ActivityHub(), clock: Date });
      const agentsConfig = { scripted: { roles: { implementer: [{ say: 'Engine-dispatched hello' }] } } };
      await collect(launcher.launch({ agent: 'scripted', sessionId: id.replace(/[^\w.-]/g, '_'), launchGeneration: 1, workspace: box.workspace, prompt: 'go', role: 'implementer', agentsConfig }));
      const r = await api.req('GET', `/api/ui/sessions/${encodeURIComponent(id)}/transcript`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok((r.body.transcript as Transcript).entries.some((e) => e.text.includes('Engine-dispatched hello')));
    });
  });
});
