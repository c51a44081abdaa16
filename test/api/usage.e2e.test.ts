// Usage and cost per step, run, task and project through the real API and CLI: an in-process
// coordinator with one factory, the scripted agent (a real child process) reporting tokens, one
// turn with a cost and one without, on SQLite and PostgreSQL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator, type Coordinator } from '../../src/app/coordinator.js';
import { resolveHome } from '../../src/app/home.js';
import { silentLogger } from '../../src/api/logger.js';
import type { Usage } from '../../src/domain/usage.js';
import { gantry } from '../support/cli.js';
import { freshDb, pgSkip } from '../support/db.js';
import { makeRepo } from '../support/git.js';

const YAML = `
version: 1
pipelines:
  metered:
    steps:
      - { id: build, kind: agent, role: impl_priced }
      - { id: polish, kind: agent, role: impl_unpriced }
      - { id: merge, kind: merge }
agents:
  scripted:
    roles:
      impl_priced:
        - { usage: { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 200, costUsd: 0.0125 } }
        - { write: { path: a.txt, content: "a\\n" } }
        - { commit: "add a" }
      impl_unpriced:
        - { usage: { inputTokens: 500, outputTokens: 100 } }
        - { write: { path: b.txt, content: "b\\n" } }
        - { commit: "add b" }
`;

async function until<T>(f: () => Promise<T | undefined>, what: () => string, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`usage and cost (${kind})`, { skip: kind === 'postgres' ? pgSkip() : false }, () => {
    it('per step, run and task on the run view, per project on /usage, and in gantry show', async () => {
      const db = await freshDb(kind);
      const homeDir = mkdtempSync(join(tmpdir(), 'gantry-usage-'));
      let coord: Coordinator | undefined;
      try {
        coord = await startCoordinator({ home: resolveHome(homeDir), port: 0, host: '127.0.0.1', database: db.target, factories: 1, logger: silentLogger, pollMs: 100, fleet: { heartbeatMs: 200 } });
        const c = coord;
        const call = async (method: string, path: string, body?: unknown) => {
          const res = await fetch(`${c.url}${path}`, { method, headers: { Authorization: `Bearer ${c.adminToken}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
          const text = await res.text();
          return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
        };
        const repo = makeRepo({ 'README.md': '# usage\n', 'gantry.yaml': YAML });
        const p = await call('POST', '/api/projects', { path: repo, name: 'metered' });
        assert.equal(p.status, 201, JSON.stringify(p.body));
        const projectId = (p.body.project as { id: string }).id;

        // Before any task: nothing spent, nothing unknown.
        const empty = await call('GET', `/api/projects/${projectId}/usage`);
        assert.equal(empty.status, 200);
        assert.deepEqual(empty.body.usage, { turns: 0, tokensIn: 0, tokensOut: 0, tokensCached: 0, costUsd: null, costKnown: true });

        const t = await call('POST', '/api/tasks', { title: 'metered work', project: projectId, pipeline: 'metered', agent: 'scripted' });
        assert.equal(t.status, 201, JSON.stringify(t.body));
        const taskId = (t.body.task as { id: string }).id;
        await until(async () => {
          const r = await call('GET', `/api/tasks/${taskId}`);
          const stage = (r.body.task as { stage: string }).stage;
          if (stage === 'failed' || stage === 'dead_letter') assert.fail(`task ${stage}: ${JSON.stringify(r.body.task)}`);
          return stage === 'shipped' ? true : undefined;
        }, () => `task ${taskId} shipped`);

        const runs = await call('GET', `/api/tasks/${taskId}/runs`);
        assert.equal(runs.status, 200);
        const current = runs.body.current as { id: string; usage: Usage; steps: Array<{ id: string; usage: Usage | null }> };
        const step = (id: string) => current.steps.find((s) => s.id === id)?.usage;
        assert.deepEqual(step('build'), { turns: 1, tokensIn: 1200, tokensOut: 300, tokensCached: 200, costUsd: 0.0125, costKnown: true });
        // The scripted agent has no price in the table: the cost stays unknown, never $0.
        assert.deepEqual(step('polish'), { turns: 1, tokensIn: 500, tokensOut: 100, tokensCached: 0, costUsd: null, costKnown: false });
        assert.equal(step('merge'), null, 'a step without an agent turn has no usage');
        const total = { turns: 2, tokensIn: 1700, tokensOut: 400, tokensCached: 200, costUsd: 0.0125, costKnown: false };
        assert.deepEqual(current.usage, total);
        assert.deepEqual(runs.body.usage, total);
        assert.deepEqual((runs.body.runs as Array<{ id: string; usage: Usage }>).find((r) => r.id === current.id)?.usage, total);

        const proj = await call('GET', '/api/projects/metered/usage');
        assert.equal(proj.status, 200);
        assert.deepEqual(proj.body, { project: { id: projectId, name: 'metered' }, tasks: 1, usage: total });
        const missing = await call('GET', '/api/projects/nope/usage');
        assert.equal(missing.status, 404);

        // The CLI: per-step tokens and cost, the run's and the task's totals; --json carries them.
        const env = { GANTRY_HOME: homeDir };
        const [human, json] = await Promise.all([gantry(['show', taskId], { env }), gantry(['show', taskId, '--json'], { env })]);
        assert.equal(human.code, 0, human.stderr);
        assert.match(human.stdout, /TOKENS\s+COST/);
        assert.match(human.stdout, /build\s.*1200 in \/ 300 out\s+\$0\.0125/);
        assert.match(human.stdout, /polish\s.*500 in \/ 100 out\s+\?/);
        assert.match(human.stdout, /run usage {2}2100 tokens · ≥ \$0\.0125/);
        assert.match(human.stdout, /task usage 2100 tokens · ≥ \$0\.0125 \(200 cached\)/);
        assert.equal(json.code, 0, json.stderr);
        const doc = JSON.parse(json.stdout) as { usage: Usage; run: { usage: Usage; steps: Array<{ id: string; usage: Usage | null }> } };
        assert.deepEqual(doc.usage, total);
        assert.deepEqual(doc.run.usage, total);
        assert.equal(doc.run.steps.find((s) => s.id === 'build')?.usage?.costUsd, 0.0125);
      } finally {
        await coord?.close();
        await db.dispose();
        rmSync(homeDir, { recursive: true, force: true });
      }
    });
  });
}
