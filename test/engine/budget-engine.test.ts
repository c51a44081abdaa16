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
            settings: () => ({ pipelines: new Map([['one', { name: 'one', steps: [{ id: 'work', kind: 'agent' }] }]]), checks: [], budgets: { project: { costUsd: 3 } }, defaultAgent: 'scripted' }),
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

    it("a session lost with its factory does not keep its reservation: the re-launch forfeits it, and ended runs are swept", () =>
      withStore(c.kind, async (store) => {
        const dir = mkdtempSync(join(tmpdir(), 'gantry-budget-'));
        try {
          const { runs, budgets, merges } = repos(store);
          const engineWith = (runner: AgentRunner) =>
            new PipelineEngine({
              store, runs, budgets, merges, registry: builtinRegistry(), sessions: new SessionTable(runner),
              workspace: { prepare: async () => ({ path: dir, branch: 'b', baseSha: 'x' }), checkpoint: async () => null, diff: async () => '' },
              scmFor: () => ({}) as Scm, checks: { run: () => Promise.reject(new Error('unused')) } as Checks, logRoot: dir,
              settings: () => ({ pipelines: new Map([['one', { name: 'one', steps: [{ id: 'work', kind: 'agent' }] }]]), checks: [], budgets: { project: { costUsd: 10 } }, defaultAgent: 'scripted' }),
              defaultReserve: { tokens: 0, costUsd: 1 },
            });
          const p = await store.projects.create({ name: 'lost', path: dir, defaultBranch: 'main', config: {} });
          const { task } = await store.tasks.submit(newTask(p.id, { pipeline: 'one' }));
          // Factory A launches the agent, then dies: its process (and the session's outcome) is gone.
          const hang: AgentRunner = { run: (req) => new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new Error('killed')))) };
          const fenceA = await grantLease(store, task.id, 'fa');
          const snap = await engineWith(hang).start(task, fenceA);
          const dead = new AbortController();
          const a = drive(engineWith(hang), snap.run.id, fenceA, dead.signal, { sleep: async () => undefined });
          for (let i = 0; i < 400 && (await budgets.held()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
          assert.equal(await budgets.held(), 1, 'A reserved before launching');
          dead.abort();
          await a;
          // Factory B takes the task over and re-launches the step.
          const done: AgentRunner = { run: async () => ({ status: 'completed', agentSessionId: null, text: 'ok', usage: { tokens: 10, costUsd: 0.25 } }) };
          const fenceB = await grantLease(store, task.id, 'fb');
          const out = await drive(engineWith(done), snap.run.id, fenceB, new AbortController().signal, { sleep: async () => undefined });
          assert.equal(out.type, 'done');
          assert.equal(await budgets.held(), 0, 'nothing stays reserved');
          const states = await store.db.all<{ state: string; cost_usd: number }>('SELECT state, cost_usd FROM budget_reservations ORDER BY created_at, id');
          assert.deepEqual(states.map((r) => r.state).sort(), ['forfeited', 'settled']);
          const ledger = await budgets.ledger(`project:${p.id}`);
          assert.equal(ledger.reservedCost, 0);
          assert.equal(ledger.usedCost, 1.25, 'the lost session counts at its reservation (never under-count), plus what B spent');

          // A run that ended while a reservation was still held (cancelled mid-session): the sweep forfeits it.
          const { task: t2 } = await store.tasks.submit(newTask(p.id, { title: 'cancelled', pipeline: 'one' }));
          const fence2 = await grantLease(store, t2.id, 'fa');
          const snap2 = await engineWith(hang).start(t2, fence2);
          const r = await budgets.reserve({ id: `${snap2.run.id}:0:main:1`, taskId: t2.id, projectId: p.id, runId: snap2.run.id, stepRowId: snap2.steps[0]!.id, amount: { tokens: 0, costUsd: 1 }, limits: { project: { costUsd: 10 } } });
          assert.ok(r.ok);
          assert.equal(await budgets.forfeitFinished(), 0, 'a running run keeps its reservation');
          await store.db.run("UPDATE runs SET state = 'cancelled' WHERE id = ?", [snap2.run.id]);
          assert.equal(await budgets.forfeitFinished(), 1);
          assert.equal(await budgets.forfeitFinished(), 0, 'idempotent');
          assert.equal(await budgets.held(), 0);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }));
  });
}
