// The README's example gantry.yaml, used verbatim — `defaults: { agent: claude-code }` included —
// ships a task through the standard pipeline (plan with approval, implement, review, checks,
// conflicts, merge) with the real Claude Code CLI against the scripted model server: setup runs
// `npm ci` with its cache, checks run `npm test`, the guard, budget and notification settings apply.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireCli, sandbox, type Sandbox } from '../../agents/support.js';
import { git } from '../../support/git.js';
import { startModelServer, type ModelServer, type ScriptedResponse } from '../../support/model-server/server.js';
import { startGantry, until, type Gantry } from './gantry.js';

const skip = requireCli('claude', '@anthropic-ai/claude-code');
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The yaml block of the README's Configuration section, exactly as written there. */
export function readmeExampleConfig(): string {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Configuration'));
  const m = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!m?.[1]) throw new Error('README.md has no yaml example under ## Configuration');
  return m[1];
}

const PACKAGE = JSON.stringify({ name: 'app', version: '1.0.0', private: true, scripts: { test: 'node test.js' } }, null, 2);
const LOCK = JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'app', version: '1.0.0' } } }, null, 2);
const TEST = "const fs = require('fs');\nif (fs.readFileSync('greet.txt', 'utf8') !== 'hello\\n') process.exit(1);\n";

/** Each agent of the pipeline is its own conversation; the router tells them apart by their prompt. */
function route(body: Record<string, unknown>): readonly ScriptedResponse[] {
  const first = JSON.stringify((body.messages as unknown[] | undefined)?.[0] ?? '');
  const cwd = /Working directory: ([^\s<"\\]+)/.exec(JSON.stringify(body.system ?? ''))?.[1] ?? '.';
  if (first.includes('gantry-review')) {
    return [{ text: 'Looks right.\n```gantry-review\n{"score": 0.95, "findings": [], "summary": "greet.txt as planned"}\n```' }];
  }
  if (first.includes('## Output of step plan')) {
    return [
      { text: 'Writing the greeting.', tools: [{ name: 'Write', input: { file_path: join(cwd, 'greet.txt'), content: 'hello\n' } }] },
      { text: 'Committing.', tools: [{ name: 'Bash', input: { command: 'git add greet.txt', description: 'stage' } }] },
      { tools: [{ name: 'Bash', input: { command: 'git commit -q -m "Add greet.txt"', description: 'commit' } }] },
      { text: 'Added greet.txt and committed it.' },
    ];
  }
  return [{ text: 'Plan: add greet.txt containing "hello", so `npm test` passes.' }];
}

describe("the README's example gantry.yaml ships a task with the real Claude Code", { skip, timeout: 300_000 }, () => {
  let model: ModelServer;
  let box: Sandbox;
  let g: Gantry;
  const saved = { ...process.env };
  before(async () => {
    model = await startModelServer();
    model.setRouter(route);
    box = sandbox('readme');
    mkdirSync(join(box.home, '.claude'), { recursive: true });
    // What a user's shell would hold: the agent's endpoint and key (passed through), a git identity.
    Object.assign(process.env, {
      HOME: box.home, ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-test-dummy', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1',
      GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com', npm_config_audit: 'false', npm_config_fund: 'false',
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

  it('plan → approve → implement → review → checks → conflicts → merge', async () => {
    const yaml = readmeExampleConfig();
    assert.match(yaml, /defaults: \{ pipeline: standard, agent: claude-code \}/, 'the README example names claude-code');
    const p = await g.project(yaml, { 'package.json': PACKAGE, 'package-lock.json': LOCK, 'test.js': TEST });
    assert.equal(readFileSync(join(p.repo, 'gantry.yaml'), 'utf8'), yaml, 'verbatim');
    const t = await g.submit({ title: 'Add a greeting', body: 'Add greet.txt saying hello.', project: p.id });
    assert.equal(t.agent, null, 'no --agent: defaults.agent applies');
    await until(async () => (await g.run(t.id))?.run.state === 'parked' && (await g.task(t.id)).stage === 'blocked', 'the plan waits for approval', 180_000);
    const plan = (await g.run(t.id))!.steps[0]!;
    assert.match(String(plan.output?.text ?? (plan.kindState.result as { text?: string } | undefined)?.text), /greet\.txt/);
    assert.equal((await g.req('POST', `/api/tasks/${t.id}/run/approve`, {})).status, 200);
    const done = await g.settle(t.id, undefined, 240_000);
    assert.equal(done.stage, 'shipped', JSON.stringify((await g.run(t.id))?.run));
    assert.equal(git(p.repo, 'show', 'main:greet.txt'), 'hello');
    const run = (await g.run(t.id))!;
    assert.deepEqual(run.steps.map((s) => `${s.stepId}:${s.state}`), ['plan:done', 'implement:done', 'review:done', 'checks:done', 'conflicts:done', 'merge:done']);
    const events = await g.coordinator.store.events.list({ taskId: t.id, limit: 5000 });
    assert.deepEqual([...new Set(events.filter((e) => e.type === 'session.dispatched').map((e) => e.payload.agent))], ['claude-code']);
    // The workspace section applied: the optional .env was missing (skipped), setup ran npm ci and saved its cache.
    const steps = events.filter((e) => e.type.startsWith('workspace.step_')).map((e) => `${e.type.slice('workspace.step_'.length)}:${String(e.payload.step)}`);
    for (const s of ['skipped:files', 'completed:setup', 'completed:cache-save']) assert.ok(steps.includes(s), `${s} in ${steps.join(' ')}`);
  });
});
