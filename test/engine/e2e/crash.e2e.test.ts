// (b) The full pipeline with a factory process SIGKILLed in the middle of each step kind in turn
// (agent, approval, review, checks, script, conflicts, merge): a new factory resumes every time
// and the task ships exactly once — never merged twice.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { git, makeRepo } from '../../support/git.js';
import { freshDb } from '../../support/db.js';
import { newTask } from '../../support/fixtures.js';
import { openStore } from '../../../src/store/open.js';
import { RunRepoSql } from '../../../src/store/run-repo.js';
import { MergeIntentRepoSql } from '../../../src/store/merge-intent-repo.js';
import { HumanActions } from '../../../src/engine/human-actions.js';
import type { GantryEvent } from '../../../src/domain/events.js';
import { addProject, until as untilRaw } from './rig.js';
import { BASE_FILES, projectYaml } from './scripts.js';

const WORKER = fileURLToPath(new URL('./factory-worker.ts', import.meta.url));

/** Every process below `pid` (the factory and the agents and checks it started). */
function tree(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    /* no children */
  }
  return [pid, ...kids.flatMap(tree)];
}

describe('crash recovery end to end (sqlite, real processes)', () => {
  const cleanup: (() => void)[] = [];
  after(() => cleanup.reverse().forEach((f) => f()));

  it('(b) SIGKILL in every step kind: another factory resumes; ships exactly once', { timeout: 400_000 }, async () => {
    const db = await freshDb('sqlite');
    const store = await openStore(db.target, { pollMs: 100 });
    const repo = makeRepo(BASE_FILES);
    const root = mkdtempSync(join(tmpdir(), 'gantry-crash-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }), () => rmSync(repo, { recursive: true, force: true }), () => void db.dispose());
    const projectId = (await addProject(store, 'demo', repo, projectYaml({ slow: true }))).id;
    const runs = new RunRepoSql(store);
    const actions = new HumanActions({ store, runs });
    let n = 0;
    let current: { child: ChildProcess; home: string } | null = null;
    const start = async (env: Record<string, string> = {}): Promise<void> => {
      const home = join(root, `f${++n}`);
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, db.target, home, `f${n}`], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
      cleanup.push(() => child.kill('SIGKILL'));
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`worker exited ${code}`)));
      });
      current = { child, home };
    };
    /** The host dies: the factory and everything it started, and its disk. */
    const killCurrent = (): void => {
      const c = current!;
      for (const pid of tree(c.child.pid!)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      // Its mirror and worktrees live under its home and die with it; only the project remote and
      // the checkpoint refs pushed there survive.
      rmSync(c.home, { recursive: true, force: true });
      current = null;
    };
    const events = async (taskId: string): Promise<GantryEvent[]> => store.events.list({ taskId, limit: 1000 });
    const seen = async (taskId: string, type: string, step?: string, after = 0): Promise<GantryEvent | undefined> =>
      (await events(taskId)).find((e) => e.seq > after && e.type === type && (step === undefined || e.payload.step === step));
    const stage = async (id: string) => (await store.tasks.get(id))!.stage;
    let watched = '';
    /** Waits like `until`, and on timeout prints what the task was doing (steps, last events, task row). */
    const until = <T,>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, ms?: number): Promise<T> =>
      untilRaw(check, what, ms).then((v) => (process.env.GANTRY_TEST_TRACE && console.error(`${new Date().toISOString().slice(11, 23)} ${what}`), v)).catch(async (err: unknown) => {
        if (watched) {
          console.error(JSON.stringify((await runs.current(watched))?.steps.map((x) => [x.stepId, x.state, x.kindState.phase, x.failureMessage])));
          // Renewals would crowd out what the task last did.
          console.error((await events(watched)).filter((x) => x.type !== 'lease.renewed').slice(-25).map((x) => `${x.seq} ${x.type} ${JSON.stringify(x.payload).slice(0, 300)}`).join('\n'));
          console.error(JSON.stringify(await store.tasks.get(watched)));
        }
        throw err;
      });

    await start();
    const a = (await store.tasks.submit(newTask(projectId, { title: 'A', pipeline: 'full', agent: 'scripted', maxAttempts: 20 }))).task;
    watched = a.id;

    const killAt = async (what: string, type: string, step?: string): Promise<void> => {
      const e = await until(() => seen(a.id, type, step), what, 120_000);
      killCurrent();
      await start();
      return void e;
    };
    await killAt('plan agent running', 'session.dispatched', 'plan');
    await until(async () => (await stage(a.id)) === 'blocked', 'A parks at the gate', 120_000);
    // Another task merges first, so A will conflict with base later.
    const b = (await store.tasks.submit(newTask(projectId, { title: 'B', pipeline: 'other', agent: 'scripted' }))).task;
    await until(async () => (await stage(b.id)) === 'shipped', 'B ships', 120_000);
    const before = (await store.events.latestSeq());
    await actions.act(a.id, { action: 'approve' });
    // approval: the factory that resumes the gate dies as it takes the lease back.
    await until(async () => (await events(a.id)).find((e) => e.seq > before && e.type === 'lease.granted'), 'gate resumed', 120_000);
    killCurrent();
    await start();
    await killAt('implementer running', 'session.dispatched', 'implement');
    await killAt('reviewer running', 'session.dispatched', 'review');
    await killAt('checks running', 'step.started', 'checks');
    await killAt('script running', 'step.started', 'lint');
    await until(() => seen(a.id, 'session.dispatched', 'conflicts'), 'resolver running', 120_000).catch(async (e) => {
      console.error(JSON.stringify((await runs.current(a.id))?.steps.map((s) => [s.stepId, s.state, s.kindState.phase, s.failureMessage]), null, 0));
      console.error((await events(a.id)).slice(-15).map((x) => `${x.type} ${JSON.stringify(x.payload)}`).join('\n'));
      console.error(await stage(a.id));
      throw e;
    });
    killCurrent();
    await start({ GANTRY_TEST_CRASH_AFTER_MERGE: '1' });
    await until(() => seen(a.id, 'merge.intent'), 'merge intent recorded', 120_000);
    await until(async () => current!.child.exitCode !== null || current!.child.signalCode !== null || undefined, 'the merging factory died after update-ref', 120_000);
    killCurrent();
    await start();
    await until(async () => ['shipped', 'failed', 'dead_letter'].includes(await stage(a.id)), 'A finishes', 90_000);
    assert.equal(await stage(a.id), 'shipped', JSON.stringify((await runs.current(a.id))?.run));
    killCurrent();

    const snap = (await runs.current(a.id))!;
    assert.ok(snap.steps.every((s) => s.state === 'done'), snap.steps.map((s) => `${s.stepId}:${s.state}`).join(' '));
    const shared = git(repo, 'show', 'main:shared.txt');
    assert.match(shared, /TASK-A/);
    assert.match(shared, /TASK-B/);
    // Exactly one merge of A's branch into main, one intent, recorded as merged.
    const merges = git(repo, 'log', '--merges', '--format=%s', 'main').split('\n').filter((s) => s.startsWith(`Merge gantry/${a.id}`));
    assert.equal(merges.length, 1, merges.join('\n'));
    const intents = await new MergeIntentRepoSql(store).forTask(a.id);
    assert.deepEqual(intents.map((i) => i.state), ['merged']);
    const leases = await store.db.all<{ factory_id: string }>('SELECT factory_id FROM leases WHERE task_id = ? ORDER BY epoch', [a.id]);
    assert.ok(new Set(leases.map((l) => l.factory_id)).size >= 8, `leases held by ${leases.map((l) => l.factory_id).join(',')}`);
    await store.close();
  });
});
