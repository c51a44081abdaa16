// `gantry demo`: a sample repository, a coordinator on embedded SQLite with in-process factories
// running the pipeline engine and the scripted agent, four tasks that show the standard pipeline's
// people and repair loops, progress from the event stream, and a summary. Thin I/O around decideDemo.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../api/logger.js';
import { GantryError } from '../../domain/errors.js';
import { RunRepoSql } from '../../store/run-repo.js';
import { startCoordinator, type Coordinator } from '../coordinator.js';
import { ensureHome, resolveHome, type HomeLayout } from '../home.js';
import { registerProject } from '../projects.js';
import { submitTask } from '../submit.js';
import { decideDemo, type DemoTaskFacts } from './decide.js';
import { progressLine } from './progress.js';
import { createSampleRepo, ensureGitIdentity } from './sample.js';
import { summarize, summaryTable, type DemoTaskSummary } from './summary.js';
import { DEMO_TASKS } from './tasks.js';

export interface DemoOptions {
  home?: string | undefined;
  port: number;
  /** The port was not asked for: when it is taken, any free port will do. */
  anyPortIfTaken?: boolean;
  host: string;
  exitWhenDone: boolean;
  json: boolean;
  timeoutS: number;
  factories: number;
  /** Resolves when the person asks to stop (Ctrl-C). */
  stopSignal: Promise<void>;
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface DemoResult {
  ok: boolean;
  home: string;
  repo: string;
  url: string;
  tasks: DemoTaskSummary[];
  pending: string[];
  timedOut: boolean;
}

/** A fresh home: the one asked for if it is new or empty, else demo-<timestamp> under the Gantry home. */
export function demoHome(flag: string | undefined, now = new Date()): HomeLayout {
  if (flag) {
    const h = resolveHome(flag);
    if (existsSync(h.dir) && readdirSync(h.dir).length > 0) {
      throw new GantryError('validation', `--home ${h.dir} is not empty`, { field: 'home', hint: 'the demo needs a fresh directory: pass a new or empty one, or leave --home out' });
    }
    return h;
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return resolveHome(join(resolveHome().dir, `demo-${stamp}`));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const home = demoHome(o.home);
  const existed = existsSync(home.dir);
  const phase = { started: false };
  try {
    return await runDemoIn(home, o, phase);
  } catch (e) {
    // A start that failed (a taken port, a broken git) leaves nothing behind, so a retry with the
    // same --home is not refused as "not empty".
    if (!phase.started) {
      if (existed) for (const f of readdirSync(home.dir)) rmSync(join(home.dir, f), { recursive: true, force: true });
      else rmSync(home.dir, { recursive: true, force: true });
    }
    throw e;
  }
}

async function runDemoIn(home: HomeLayout, o: DemoOptions, phase: { started: boolean }): Promise<DemoResult> {
  ensureHome(home);
  ensureGitIdentity();
  const repo = join(home.dir, 'greeter');
  createSampleRepo(repo);
  const log = createLogger({ level: 'info', destination: { kind: 'file', path: join(home.logs, 'coordinator.log'), maxSize: '10M', keep: 5 } });
  let c: Coordinator | undefined;
  let unfollow: (() => void) | undefined;
  try {
    const start = (port: number) => startCoordinator({ home, port, host: o.host, factories: o.factories, logger: log.logger, pollMs: 200 });
    c = await start(o.port).catch(async (e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      if (!o.anyPortIfTaken) throw new GantryError('conflict', `port ${o.port} is already in use`, { hint: 'pass another --port, or --port 0 for any free one' });
      return start(0);
    });
    const { store } = c;
    const runs = new RunRepoSql(store);
    const { project } = await registerProject(store, { path: repo });
    phase.started = true;
    const login = `${c.url}/#token=${encodeURIComponent(c.adminToken)}`;
    const h = `--home ${home.dir}`;
    if (!o.json) {
      o.out(
        [
          `Gantry demo on embedded SQLite, scripted agent (no agent CLI or API key needed).`,
          `  home        ${home.dir}`,
          `  sample repo ${repo}`,
          `  dashboard   ${login}`,
          `  try         gantry ls ${h}`,
          `              gantry show <task> ${h}`,
          `              gantry approve <task> ${h}`,
          ``,
          `Tasks:`,
          ...DEMO_TASKS.map((t) => `  ${t.title.padEnd(32)} ${t.shows}`),
          ``,
        ].join('\n'),
      );
    }

    // Progress from the event stream (stderr), for demo tasks only.
    const titles = new Map<string, string>();
    const from = await store.events.latestSeq();
    unfollow = store.events.follow(from, (e) => {
      const title = e.taskId ? titles.get(e.taskId) : undefined;
      const line = title ? progressLine(e, title) : null;
      if (line) o.err(line);
    });

    const ids = new Map<string, string>();
    const handled = new Set<string>();
    const deadline = o.exitWhenDone ? Date.now() + o.timeoutS * 1000 : Infinity;
    let stopped = false;
    void o.stopSignal.then(() => (stopped = true));
    const collect = async (): Promise<DemoTaskSummary[]> =>
      Promise.all(DEMO_TASKS.map(async (t) => {
        const id = ids.get(t.key);
        return summarize(t.key, t.title, id ? await store.tasks.get(id) : undefined, id ? await runs.current(id) : undefined);
      }));
    const result = (ok: boolean, tasks: DemoTaskSummary[], timedOut = false): DemoResult => ({
      ok, home: home.dir, repo, url: c!.url, tasks, pending: tasks.filter((t) => t.stage !== 'shipped').map((t) => t.title), timedOut,
    });

    let outcome: DemoResult | undefined;
    while (!outcome && !stopped) {
      const facts: Record<string, DemoTaskFacts> = {};
      for (const t of DEMO_TASKS) {
        const id = ids.get(t.key);
        if (!id) continue;
        const task = await store.tasks.get(id);
        const run = (await runs.current(id))?.run;
        facts[t.key] = { id, stage: task?.stage, blockedReason: task?.blockedReason, waiting: run?.state === 'parked' ? (run.waiting?.kind ?? null) : null };
      }
      for (const m of decideDemo({ tasks: DEMO_TASKS, facts, exitWhenDone: o.exitWhenDone, handled })) {
        if (m.type === 'failed' || m.type === 'finished') {
          outcome = result(m.type === 'finished', await collect());
          break;
        }
        const t = DEMO_TASKS.find((x) => x.key === m.key)!;
        if (m.type === 'submit') {
          const r = await submitTask(store, {
            title: t.title, body: t.body, project: project.id, pipeline: t.pipeline, agent: 'scripted', priority: 0, capabilities: [],
            after: t.after.map((k) => ids.get(k)!), idempotencyKey: `demo:${t.key}`,
          });
          ids.set(t.key, r.task.id);
          titles.set(r.task.id, t.title);
          o.err(`  ${t.title.padEnd(32)} submitted as ${r.task.id} (${t.pipeline})`);
        } else if (m.type === 'approve') {
          handled.add(m.key);
          o.err(`  ${t.title.padEnd(32)} approving the plan on your behalf (--exit-when-done)`);
          const res = await fetch(`${c.url}/api/tasks/${ids.get(m.key)}/run/approve`, {
            method: 'POST', headers: { Authorization: `Bearer ${c.adminToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'approved by gantry demo --exit-when-done' }),
          });
          if (!res.ok) throw new GantryError('internal', `approving ${t.title} failed: HTTP ${res.status} ${await res.text()}`);
        } else {
          handled.add(m.key);
          o.err(`\n  → "${t.title}" waits for your approval of its plan: approve it in the dashboard, or run\n      gantry approve ${ids.get(m.key)} ${h}\n`);
        }
      }
      if (!outcome && Date.now() > deadline) outcome = result(false, await collect(), true);
      if (!outcome) await sleep(200);
    }
    if (!outcome) outcome = result(false, await collect());
    unfollow();
    unfollow = undefined;

    if (o.json) o.out(JSON.stringify(outcome, null, 2));
    else {
      o.out(`\n${outcome.ok ? 'Every demo task shipped.' : outcome.timedOut ? `Timed out after ${o.timeoutS}s; still pending: ${outcome.pending.join(', ')}.` : stopped ? 'Stopped.' : 'A demo task did not ship.'}\n${summaryTable(outcome.tasks)}\n`);
      if (outcome.ok) o.out(`The sample repository's main branch now holds every change: git -C ${repo} log --oneline main\n`);
    }
    if (!o.exitWhenDone && !stopped) {
      if (!o.json) o.out(`Still serving ${login} — Ctrl-C to stop.`);
      await o.stopSignal;
    }
    return outcome;
  } finally {
    unfollow?.();
    await c?.close();
    await log.close();
  }
}
