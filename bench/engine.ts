// bench/engine: what the pipeline engine costs per step, beside the raw operation beneath it.
//   node --import tsx bench/engine.ts      (PostgreSQL rows need GANTRY_TEST_DATABASE_URL)
// Part 1 — overhead per step: a pipeline of agent steps whose agent does nothing, driven to the
//   end. "engine only" uses an agent that answers in-process, so the number is the engine's own
//   cost (3 compare-and-set transitions with events, the reads between them, the dispatch table);
//   "+ scripted agent" launches the real scripted agent process with an empty script per step.
//   Raw: one compare-and-set UPDATE on the run row in a write transaction, in the same run.
// Part 2 (bench/engine-fleet.ts once fleet and workspaces are wired): tasks/minute through `quick`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDb } from '../test/support/db.js';
import { openStore } from '../src/store/open.js';
import type { SqlStore } from '../src/store/sql-store.js';
import { RunRepoSql } from '../src/store/run-repo.js';
import { BudgetRepoSql } from '../src/store/budget-repo.js';
import { MergeIntentRepoSql } from '../src/store/merge-intent-repo.js';
import { PipelineEngine } from '../src/engine/engine.js';
import { drive } from '../src/engine/driver.js';
import { SessionTable } from '../src/engine/dispatch.js';
import { builtinRegistry } from '../src/engine/registry.js';
import { LauncherAgentRunner } from '../src/engine/agent-runner.js';
import { createAgentLauncher } from '../src/agents/launcher.js';
import type { AgentRunner, Checks, EngineWorkspace, Scm } from '../src/ports/engine.js';
import type { PipelineDef } from '../src/domain/pipeline/types.js';
import { pgUrl, printTable, ratio } from './lib.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 10);
const TASKS = Number(process.env.BENCH_TASKS ?? 10);
const REAL_TASKS = Number(process.env.BENCH_REAL_TASKS ?? 2);

const pipeline: PipelineDef = { name: 'bench', steps: Array.from({ length: STEPS }, (_, i) => ({ id: `s${i}`, kind: 'agent', role: 'noop' })) };
const instant: AgentRunner = { run: async () => ({ status: 'completed', agentSessionId: null, text: '', usage: { tokens: 0, costUsd: 0 } }) };
const unused = (what: string) => () => Promise.reject(new Error(`${what} is not used by this benchmark`));
const scm = { pushBranch: unused('scm'), openChange: unused('scm'), changeState: unused('scm'), mergeability: unused('scm'), merge: unused('scm') } as Scm;
const checks: Checks = { run: unused('checks') };

async function perStepMs(store: SqlStore, runner: AgentRunner, dir: string, tasks: number): Promise<number> {
  const runs = new RunRepoSql(store);
  const workspace: EngineWorkspace = { prepare: async () => ({ path: dir, branch: 'b', baseSha: 'x' }), checkpoint: async () => null, diff: async () => '' };
  const engine = new PipelineEngine({
    store, runs, budgets: new BudgetRepoSql(store), merges: new MergeIntentRepoSql(store), registry: builtinRegistry(), sessions: new SessionTable(runner),
    workspace, scmFor: () => scm, checks, logRoot: join(dir, 'logs'),
    settings: () => ({ pipelines: new Map([['bench', pipeline]]), checks: [], budgets: { global: { costUsd: 1e9 } }, defaultAgent: 'scripted' }),
  });
  const p = await store.projects.create({ name: `bench-${Math.random().toString(36).slice(2, 8)}`, path: dir, defaultBranch: 'main', config: { agents: { scripted: { roles: { noop: [] } } } } });
  let total = 0;
  for (let i = 0; i < tasks; i++) {
    const { task } = await store.tasks.submit({ projectId: p.id, title: `t${i}`, body: '', pipeline: 'bench', agent: 'scripted', priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 });
    const lease = await store.write((tx) => tx.get<{ e: number }>("UPDATE tasks SET lease_epoch = lease_epoch + 1, lease_factory_id = 'bench', stage = 'assigned' WHERE id = ? RETURNING lease_epoch AS e", [task.id]));
    const fence = { taskId: task.id, epoch: Number(lease!.e), factoryId: 'bench' };
    const t0 = performance.now();
    const snap = await engine.start(task, fence);
    const out = await drive(engine, snap.run.id, fence, new AbortController().signal, { sleep: async () => undefined });
    total += performance.now() - t0;
    if (out.type !== 'done') throw new Error(`bench run ended ${out.type}`);
  }
  return total / (tasks * STEPS);
}

async function rawCasMs(store: SqlStore): Promise<number> {
  const { task } = await store.tasks.submit({ projectId: (await store.projects.list())[0]!.id, title: 'raw', body: '', pipeline: 'bench', agent: null, priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 });
  const snap = await new RunRepoSql(store).create({ taskId: task.id, pipeline, fence: null, event: { type: 'run.started' } });
  const n = 500;
  let rev = snap.run.rev;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await store.write((tx) => tx.run('UPDATE runs SET rev = rev + 1, updated_at = NOW_MS WHERE id = ? AND rev = ?', [snap.run.id, rev]));
    rev++;
  }
  return (performance.now() - t0) / n;
}

async function row(kind: 'sqlite' | 'postgres'): Promise<(string | number)[]> {
  const db = await freshDb(kind);
  const store = await openStore(db.target);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-bench-engine-'));
  try {
    await perStepMs(store, instant, dir, 2); // warm-up
    const engineMs = await perStepMs(store, instant, dir, TASKS);
    const raw = await rawCasMs(store);
    const launcher = createAgentLauncher({ logsDir: join(dir, 'sessions'), sink: { activity: () => undefined, runtime: () => undefined }, clock: { now: () => Date.now() } });
    const real = new LauncherAgentRunner({ launcher, agentsConfig: async () => ({ scripted: { roles: { noop: [] } } }) });
    const realMs = await perStepMs(store, real, dir, REAL_TASKS);
    return [kind, raw, engineMs, ratio(engineMs, raw), realMs, realMs - engineMs];
  } finally {
    await store.close();
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [await row('sqlite')];
if (pgUrl()) rows.push(await row('postgres'));
else console.log('PostgreSQL row skipped: set GANTRY_TEST_DATABASE_URL to include it');
printTable(
  `bench/engine — ms per step (${STEPS}-step pipeline; ${TASKS} runs engine-only, ${REAL_TASKS} with the scripted agent)`,
  ['store', 'raw CAS ms', 'engine ms/step', 'engine ÷ raw', 'step + scripted agent ms', 'agent process ms'],
  rows,
);
