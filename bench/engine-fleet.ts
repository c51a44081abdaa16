// bench/engine-fleet: tasks/minute through the `quick` pipeline (implement → checks → conflicts →
// merge) with the real scripted agent, real git and 1, 4 and 8 in-process factories, beside the raw
// work underneath each task measured in the same run: launching the scripted agent once plus the raw
// git of a task (worktree, commit, merge-tree, commit-tree, update-ref), done sequentially.
//   node --import tsx bench/engine-fleet.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDb } from '../test/support/db.js';
import { git, makeRepo } from '../test/support/git.js';
import { newTask } from '../test/support/fixtures.js';
import { openStore } from '../src/store/open.js';
import { createAgentLauncher } from '../src/agents/launcher.js';
import { addProject, engineParts, fleet, startFactory, until } from '../test/engine/e2e/rig.js';
import { printTable, ratio } from './lib.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 16);
const YAML = `
version: 1
checks: [ { name: ok, run: "true", timeout: 30 } ]
agents:
  scripted:
    roles:
      implementer: [ { run: "echo $GANTRY_SESSION_ID > \\"f-$(date +%s%N).txt\\"" }, { commit: "work" } ]
`;

async function gantry(factories: number): Promise<number> {
  const db = await freshDb('sqlite');
  const store = await openStore(db.target, { pollMs: 100 });
  const repo = makeRepo();
  const home = mkdtempSync(join(tmpdir(), 'gantry-bench-fleet-'));
  const c = fleet(store, { leaseTtlMs: 60_000, reapIntervalMs: 1000 });
  c.start();
  try {
    const p = await addProject(store, 'bench', repo, YAML);
    const fs = Array.from({ length: factories }, (_, i) => startFactory(c, engineParts(store, join(home, `f${i}`), `f${i}`), join(home, `f${i}`), `f${i}`, 1));
    await Promise.all(fs.map((f) => f.start()));
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i++) ids.push((await store.tasks.submit(newTask(p.id, { title: `t${i}`, pipeline: 'quick', agent: 'scripted' }))).task.id);
    await until(async () => (await store.tasks.list({ stages: ['shipped', 'failed', 'dead_letter'], limit: 500 })).tasks.length === TASKS, 'all tasks finish', 600_000);
    const ms = performance.now() - t0;
    const shipped = (await store.tasks.list({ stages: ['shipped'], limit: 500 })).tasks.length;
    if (shipped !== TASKS) throw new Error(`${TASKS - shipped} task(s) did not ship`);
    await Promise.all(fs.map((f) => f.drain()));
    return (TASKS / ms) * 60_000;
  } finally {
    await c.stop();
    await store.close();
    await db.dispose();
    rmSync(home, { recursive: true, force: true });
    rmSync(repo, { recursive: true, force: true });
  }
}

/** The raw work of one task, sequential: one scripted agent launch plus raw git. */
async function raw(): Promise<number> {
  const repo = makeRepo();
  const dir = mkdtempSync(join(tmpdir(), 'gantry-bench-raw-'));
  const launcher = createAgentLauncher({ logsDir: join(dir, 'logs'), sink: { activity: () => undefined, runtime: () => undefined }, clock: { now: () => Date.now() } });
  try {
    const n = Math.min(TASKS, 8);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const wt = join(dir, `w${i}`);
      git(repo, 'worktree', 'add', '-q', '-b', `raw/${i}`, wt, 'main');
      const h = launcher.launch({ agent: 'scripted', sessionId: `raw${i}`, launchGeneration: 1, workspace: wt, prompt: '', role: 'noop', agentsConfig: { scripted: { roles: { noop: [] } } } });
      for await (const _e of h.events) void _e;
      writeFileSync(join(wt, `f${i}.txt`), `${i}\n`);
      git(wt, 'add', '-A');
      git(wt, 'commit', '-qm', 'work');
      const base = git(repo, 'rev-parse', 'main');
      const head = git(repo, 'rev-parse', `raw/${i}`);
      const tree = git(repo, 'merge-tree', '--write-tree', base, head).split('\n')[0]!;
      const merged = execFileSync('git', ['commit-tree', tree, '-p', base, '-p', head, '-m', 'merge'], { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' } }).trim();
      git(repo, 'update-ref', 'refs/heads/main', merged, base);
    }
    return (n / (performance.now() - t0)) * 60_000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(repo, { recursive: true, force: true });
  }
}

const base = await raw();
const rows: (string | number)[][] = [];
for (const f of [1, 4, 8]) {
  const tpm = await gantry(f);
  rows.push([`${f} factor${f === 1 ? 'y' : 'ies'}`, base, tpm, ratio(tpm, base)]);
}
printTable(`bench/engine-fleet — ${TASKS} tasks through quick (SQLite, scripted agent, real git)`, ['factories', 'raw tasks/min (sequential)', 'gantry tasks/min', 'ratio'], rows);
