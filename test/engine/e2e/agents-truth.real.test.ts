// Agents tell the truth under `gantry up`: the real Claude Code CLI, driven by the pipeline engine
// of an in-process coordinator, against the scripted model server. Its hooks reach the coordinator's
// hook route (a permission prompt shows as blocked), a hung model fails at the step's timeout with
// kind `timeout`, a prose question never ships empty, and an implementer that commits nothing fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireCli, sandbox, type Sandbox } from '../../agents/support.js';
import { startModelServer, type ModelServer, type ScriptedResponse } from '../../support/model-server/server.js';
import { startGantry, until, type Gantry } from './gantry.js';
import { git } from '../../support/git.js';

const skip = requireCli('claude', '@anthropic-ai/claude-code');

const SOLO = (extra = '') => `version: 1
defaults: { pipeline: solo, agent: claude-code }
pipelines:
  solo: { steps: [ { id: implement, kind: agent${extra} }, { id: merge, kind: merge } ] }
`;

describe('agents tell the truth under gantry up (real Claude Code)', { skip, timeout: 400_000 }, () => {
  let model: ModelServer;
  let box: Sandbox;
  let g: Gantry;
  const saved = { ...process.env };
  /** Each task's conversation, told apart by a marker in the task body. */
  const scripts = new Map<string, (cwd: string) => readonly ScriptedResponse[]>();
  before(async () => {
    model = await startModelServer();
    model.setRouter((body) => {
      const first = JSON.stringify((body.messages as unknown[] | undefined)?.[0] ?? '');
      const cwd = /Working directory: ([^\s<"\\]+)/.exec(JSON.stringify(body.system ?? ''))?.[1] ?? '.';
      for (const [marker, script] of scripts) if (first.includes(marker)) return script(cwd);
      return [{ text: 'Nothing to do.' }];
    });
    box = sandbox('truth');
    mkdirSync(join(box.home, '.claude'), { recursive: true });
    Object.assign(process.env, {
      HOME: box.home, ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-test-dummy', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1',
      GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com',
    });
    g = await startGantry('sqlite');
  });
  after(async () => {
    await g?.close();
    await model?.close();
    box?.cleanup();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const sessionUpdates = async (taskId: string) =>
    (await g.coordinator.store.events.list({ taskId, limit: 5000 })).filter((e) => e.type === 'session.updated').map((e) => ({ at: e.at, ...(e.payload as { display: string; activity: string; cause: string }) }));

  it('hooks are wired: a permission prompt shows as blocked, hook activity reaches the session', async (t) => {
    scripts.set('marker-hooks', (cwd) => [
      { text: 'Running a check.', tools: [{ name: 'Bash', input: { command: 'node -e 1', description: 'not on the allowlist' } }] },
      { text: 'Writing.', tools: [{ name: 'Write', input: { file_path: join(cwd, 'hooked.txt'), content: 'hooked\n' } }] },
      { tools: [{ name: 'Bash', input: { command: 'git add hooked.txt && git commit -q -m "add hooked"', description: 'commit' } }] },
      { text: 'Done.' },
    ]);
    const p = await g.project(SOLO());
    const task = await g.submit({ title: 'hooks', body: 'marker-hooks: add hooked.txt', project: p.id });
    const done = await g.settle(task.id, undefined, 180_000);
    assert.equal(done.stage, 'shipped', JSON.stringify((await g.run(task.id))?.run));
    const updates = await sessionUpdates(task.id);
    assert.ok(updates.some((u) => u.display === 'blocked'), `a permission prompt shows as blocked: ${updates.map((u) => `${u.cause}:${u.display}`).join(' ')}`);
    // Hook evidence reached the lifecycle through the coordinator's route (not only the protocol).
    const sessions = await g.coordinator.lifecycle.manager.list({ taskId: task.id });
    assert.equal(sessions.length, 1);
    const blockedAt = updates.find((u) => u.display === 'blocked')?.at;
    t.diagnostic(`blocked event at ${String(blockedAt)}`);
  });

  it('a hung model fails the step at its timeout with kind `timeout`, and the session ends', async () => {
    scripts.set('marker-hung', () => [{ hang: true }]);
    const p = await g.project(SOLO(', timeout: 12'));
    const task = await g.submit({ title: 'hung', body: 'marker-hung: wait forever', project: p.id });
    const done = await g.settle(task.id, undefined, 120_000);
    assert.equal(done.stage, 'failed');
    const run = (await g.run(task.id))!.run;
    assert.equal(run.failureKind, 'timeout', JSON.stringify(run));
    assert.match(run.failureMessage ?? '', /step's timeout \(12 s; raise `timeout:` on the step\)/);
    const [s] = await g.coordinator.lifecycle.manager.list({ taskId: task.id });
    await until(async () => ['done', 'terminated'].includes((await g.coordinator.lifecycle.manager.get(s!.id)).state), 'the session ends');
  });

  it('an inactivity kill is a timeout whose message names `inactivitySeconds`', async () => {
    scripts.set('marker-quiet', () => [{ hang: true }]);
    const p = await g.project(`${SOLO()}agents:\n  claude-code: { inactivitySeconds: 8 }\n`);
    const task = await g.submit({ title: 'quiet', body: 'marker-quiet: say nothing', project: p.id });
    const done = await g.settle(task.id, undefined, 120_000);
    assert.equal(done.stage, 'failed');
    const run = (await g.run(task.id))!.run;
    assert.equal(run.failureKind, 'timeout', JSON.stringify(run));
    assert.match(run.failureMessage ?? '', /agents\.claude-code\.inactivitySeconds/);
  });

  const notesOf = async (taskId: string) =>
    g.coordinator.store.db.all<{ kind: string; state: string }>('SELECT kind, state FROM notifications WHERE task_id = ? ORDER BY created_at, id', [taskId]);
  const parked = (id: string) => until(async () => (await g.run(id))?.run.state === 'parked' && (await g.task(id)).stage === 'blocked', `task ${id} parks`, 120_000);

  it('a prose question that changes nothing parks as a question (one notification); the answer resumes and ships', async () => {
    scripts.set('marker-prose', (cwd) => [
      { text: 'I can do this two ways.\n\nShould the greeting be in English or in French?' },
      { text: 'French it is.', tools: [{ name: 'Write', input: { file_path: join(cwd, 'greet.txt'), content: 'bonjour\n' } }] },
      { tools: [{ name: 'Bash', input: { command: 'git add greet.txt && git commit -q -m "add greet"', description: 'commit' } }] },
      { text: 'Done.' },
    ]);
    const p = await g.project(SOLO());
    const task = await g.submit({ title: 'prose question', body: 'marker-prose: add a greeting', project: p.id });
    await parked(task.id);
    const run = (await g.run(task.id))!;
    const waiting = run.run.waiting;
    assert.equal(waiting?.kind, 'needs_input', JSON.stringify(run.run));
    assert.equal(waiting?.question, 'Should the greeting be in English or in French?');
    await until(async () => (await notesOf(task.id)).length > 0, 'the question notification');
    const reply = await g.req('POST', `/api/tasks/${task.id}/run/reply`, { text: 'French' });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const done = await g.settle(task.id, undefined, 180_000);
    assert.equal(done.stage, 'shipped', JSON.stringify((await g.run(task.id))?.run));
    assert.equal(git(p.repo, 'show', 'main:greet.txt'), 'bonjour');
    // One question, one notification (resolved by the answer).
    assert.deepEqual((await notesOf(task.id)).map((n) => [n.kind, n.state]), [['awaiting_needs_input', 'resolved']]);
  });

  it('an implementer that commits nothing fails with the reason instead of shipping', async () => {
    scripts.set('marker-empty', () => [{ text: 'Running the build.', tools: [{ name: 'Bash', input: { command: 'node build.js', description: 'not allowed' } }] }, { text: 'Done: all set.' }]);
    const p = await g.project(SOLO());
    const task = await g.submit({ title: 'empty', body: 'marker-empty: build it', project: p.id });
    const done = await g.settle(task.id, undefined, 120_000);
    assert.equal(done.stage, 'failed', JSON.stringify((await g.run(task.id))?.run));
    const run = (await g.run(task.id))!.run;
    assert.equal(run.failureKind, 'agent');
    assert.match(run.failureMessage ?? '', /without committing anything, so there is nothing to ship[\s\S]*Done: all set\./);
    assert.ok(!(await g.eventTypes(task.id)).includes('task.shipped'));
  });

  it("a step's `model:` reaches the model's request; other steps use the agent's configured model", async () => {
    scripts.set('marker-models', (cwd) => [
      { text: 'Writing.', tools: [{ name: 'Write', input: { file_path: join(cwd, 'models.txt'), content: 'm\n' } }] },
      { tools: [{ name: 'Bash', input: { command: 'git add models.txt && git commit -q -m "add models"', description: 'commit' } }] },
      { text: 'Done.' },
    ]);
    const p = await g.project(`version: 1
defaults: { pipeline: two, agent: claude-code }
pipelines:
  two: { steps: [ { id: plan, kind: agent, role: planner, model: step-model-7 }, { id: implement, kind: agent }, { id: merge, kind: merge } ] }
agents:
  claude-code: { model: agent-model-3 }
`);
    const before = model.requests.length;
    const task = await g.submit({ title: 'models', body: 'marker-models: add models.txt', project: p.id });
    const done = await g.settle(task.id, undefined, 180_000);
    assert.equal(done.stage, 'shipped', JSON.stringify((await g.run(task.id))?.run));
    const loops = model.requests.slice(before).map((r) => r.body as { model?: string; tools?: unknown[] })
      .filter((b) => Array.isArray(b.tools) && b.tools.length > 0); // the agent loop, not helper calls
    const models = new Set(loops.map((b) => b.model));
    assert.ok(models.has('step-model-7'), [...models].join(', '));
    assert.ok(models.has('agent-model-3'), [...models].join(', '));
  });
});
