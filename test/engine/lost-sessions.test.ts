// An agent session is "lost" when the process that launched it died (its factory was killed): the
// next holder re-launches it. How many deaths a step survives follows the task's own attempts budget
// (maxAttempts, at least 3), the one knob that already dead-letters a task whose leases keep being
// reclaimed — not a second, hard-wired 3 that fails a task its submitter allowed more attempts.
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
import type { AgentRunner, Checks, Scm } from '../../src/ports/engine.js';
import type { SqlStore } from '../../src/store/sql-store.js';

async function dieThenFinish(store: SqlStore, maxAttempts: number, deaths: number): Promise<{ out: string; launches: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-lost-'));
  try {
    const { runs, budgets, merges } = repos(store);
    // Each factory process has its own session table: a new one per holder.
    const engineWith = (runner: AgentRunner) =>
      new PipelineEngine({
        store, runs, budgets, merges, registry: builtinRegistry(), sessions: new SessionTable(runner),
        workspace: { prepare: async () => ({ path: dir, branch: 'b', baseSha: 'x' }), checkpoint: async () => null, diff: async () => '' },
        scmFor: () => ({}) as Scm, checks: { run: () => Promise.reject(new Error('unused')) } as Checks, logRoot: dir,
        settings: () => ({ pipelines: new Map([['one', { name: 'one', steps: [{ id: 'work', kind: 'agent' }] }]]), checks: [], budgets: {}, defaultAgent: 'scripted' }),
      });
    const p = await store.projects.create({ name: `lost-${maxAttempts}`, path: dir, defaultBranch: 'main', config: {} });
    const { task } = await store.tasks.submit(newTask(p.id, { pipeline: 'one', maxAttempts }));
    let launches = 0;
    let launched = (): void => undefined;
    const hang: AgentRunner = {
      run: (req) => {
        launches++;
        launched();
        return new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new Error('killed'))));
      },
    };
    let snap: Awaited<ReturnType<PipelineEngine['start']>> | undefined;
    for (let i = 0; i < deaths; i++) {
      const fence = await grantLease(store, task.id, `f${i}`);
      snap ??= await engineWith(hang).start(task, fence);
      const dead = new AbortController();
      const seen = new Promise<void>((r) => (launched = r));
      const d = drive(engineWith(hang), snap.run.id, fence, dead.signal, { sleep: async () => undefined });
      // The holder dies once its agent runs, or its drive ends at once (the step failed).
      const ended = await Promise.race([seen.then(() => false), d.then(() => true)]);
      dead.abort();
      const r = await d;
      if (ended) return { out: r.type, launches };
    }
    const done: AgentRunner = { run: async () => (launches++, { status: 'completed', agentSessionId: null, text: 'ok', usage: { tokens: 1, costUsd: 0 } }) };
    const fence = await grantLease(store, task.id, 'survivor');
    const out = await drive(engineWith(done), snap!.run.id, fence, new AbortController().signal, { sleep: async () => undefined });
    return { out: out.type, launches };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const c of storeCases()) {
  describe(`lost agent sessions: ${c.kind}`, { skip: c.skip }, () => {
    it('a task allowed 6 attempts survives 5 factory deaths mid-agent and finishes', () =>
      withStore(c.kind, async (store) => {
        const r = await dieThenFinish(store, 6, 5);
        assert.deepEqual(r, { out: 'done', launches: 6 });
      }));

    it('with the default budget (3) the third lost session still fails the step', () =>
      withStore(c.kind, async (store) => {
        const r = await dieThenFinish(store, 3, 4);
        assert.equal(r.out, 'failed');
        assert.equal(r.launches, 3);
      }));
  });
}
