// 8 concurrent agent steps against a budget that fits 3: the engine reserves before launching, so
// never more than 3 agents run; the other runs pause with a notification and resume on retry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeCases, withStore } from '../support/db.js';
import { newTask } from '../support/fixtures.js';
import { grantLease, repos } from './support.js';
import { PipelineEngine } from '../../src/engine/engine.js';
import { drive } from '../../src/engine/driver.js';
import { SessionTable } from '../../src/engine/dispatch.js';
import { builtinRegistry } from '../../src/engine/registry.js';
import { HumanActions } from '../../src/engine/human-actions.js';
import type { AgentOutcome, AgentRunner, Checks, Scm } from '../../src/ports/engine.js';

/** Counts agents running at once; each finishes when the test releases it. */
function gatedRunner() {
  let running = 0;
  let max = 0;
  const waiting: (() => void)[] = [];
  const runner: AgentRunner = {
    async run(): Promise<AgentOutcome> {
      running++;
      max = Math.max(max, running);
      await new Promise<void>((r) => waiting.push(r));
      running--;
      return { status: 'completed', agentSessionId: null, text: 'ok', usage: { tokens: 100, costUsd: 0.5 } };
    },
  };
  return { runner, max: () => max, waiting };
}

for (const c of storeCases()) {
  describe(`budget gating in the engine (${c.kind})`, { skip: c.skip }, () => {
    it('8 concurrent steps, budget for 3: never more than 3 run; the rest pause and resume', () =>
      withStore(c.kind, async (store) => {
        const dir = mkdtempSync(join(tmpdir(), 'gantry-budget-'));
        try {
          const { runs, budgets, merges } = repos(store);
          const g = gatedRunner();
          const unused = () => Promise.reject(new Error('unused'));
          const engine = new PipelineEngine({
            store, runs, budgets, merges, registry: builtinRegistry(), sessions: new SessionTable(g.runner),
            workspace: { prepare: async () => ({ path: dir, branch: 'b', baseSha: 'x' }), checkpoint: async () => null, diff: async () => '' },
            scmFor: () => ({}) as Scm, checks: { run: unused } as Checks, logRoot: dir,
            settings: () => ({ pipelines: new Map([['one', { name: 'one', steps: [{ id: 'work', kind: 'agent' }] }]]), checks: [], budgets: { project: { costUsd: 3 } } }),
            defaultReserve: { tokens: 0, costUsd: 1 },
          });
          const p = await store.projects.create({ name: 'b', path: dir, defaultBranch: 'main', config: {} });
          const tasks = await Promise.all(Array.from({ length: 8 }, (_, i) => store.tasks.submit(newTask(p.id, { title: `t${i}`, pipeline: 'one' }))));
          const drives = tasks.map(async ({ task }) => {
            const fence = await grantLease(store, task.id, 'f');
            const snap = await engine.start(task, fence);
            return drive(engine, snap.run.id, fence, new AbortController().signal, { sleep: async () => undefined });
          });
          // Wait until every run either launched its agent or paused, then let the agents finish.
          const settled = async (): Promise<boolean> => {
            const states = await Promise.all(tasks.map(async ({ task }) => (await runs.current(task.id))?.run.state));
            return g.waiting.length + states.filter((s) => s === 'paused').length === 8;
          };
          for (let i = 0; i < 400 && !(await settled()); i++) await new Promise((r) => setTimeout(r, 25));
          assert.equal(g.waiting.length, 3);
          g.waiting.splice(0).forEach((r) => r());
          const outs = await Promise.all(drives);
          assert.equal(g.max(), 3);
          assert.equal(outs.filter((o) => o.type === 'done').length, 3);
          assert.equal(outs.filter((o) => o.type === 'paused').length, 5);
          assert.equal(await budgets.held(), 0);
          const notes = await store.db.all("SELECT * FROM notifications WHERE kind = 'budget'");
          assert.equal(notes.length, 5);
          // The three spent $0.5 each: $1.5 left fits one more step. Retry resumes a paused run.
          const paused = tasks.filter((_, i) => outs[i]!.type === 'paused').map(({ task }) => task.id);
          const actions = new HumanActions({ store, runs });
          await actions.retry(paused[0]!);
          const fence = await grantLease(store, paused[0]!, 'f');
          const resumed = drive(engine, (await runs.current(paused[0]!))!.run.id, fence, new AbortController().signal, { sleep: async () => undefined });
          for (let i = 0; i < 400 && (g.waiting as unknown[]).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
          g.waiting.splice(0).forEach((r) => r());
          assert.equal((await resumed).type, 'done');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }));
  });
}
