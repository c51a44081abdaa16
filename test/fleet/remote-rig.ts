// The remote-factory rig: a coordinator with no in-process factories that can go away and come back on
// the same address, a project remote served over smart HTTP with basic auth, and `gantry factory`
// processes in their own homes holding only a token file (the remote's password comes from the
// host's own git credential helper).
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDb, type TestDb } from '../support/db.js';
import { GANTRY_BIN, GIT_IDENTITY, NO_AGENTS_PATH } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { gitAsync, startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { newTask } from '../support/fixtures.js';
import { until } from './support.js';
import { startCoordinator, type Coordinator } from '../../src/app/coordinator.js';
import { resolveHome } from '../../src/app/home.js';
import { jsonLogger } from '../../src/api/logger.js';
import type { FleetConfig } from '../../src/fleet/coordinator.js';

export const USER = 'gantry';
export const SECRET = 's3cret-remote';

export interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

export interface FactoryOpts {
  slots?: number;
  /** Extra environment (tuning knobs). */
  env?: Record<string, string>;
}

/** `gantry factory` with the token in a file, in its own home; the remote's password reaches git only through this host's credential helper. */
export function factory(url: string, tokenFile: string, name: string, home: string, o: FactoryOpts = {}): Proc {
  const env: Record<string, string> = {
    PATH: NO_AGENTS_PATH,
    HOME: home,
    ...GIT_IDENTITY,
    GANTRY_HEARTBEAT_MS: '200',
    GANTRY_POLL_MS: '500',
    ...o.env,
  };
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, '.gitconfig'), `[credential]\n\thelper = "!f() { echo username=${USER}; echo password=${SECRET}; }; f"\n`);
  const args = [GANTRY_BIN, 'factory', '--url', url, '--token-file', tokenFile, '--name', name, '--home', home, '--drain-grace', '200', '--no-detect-caps', '--slots', String(o.slots ?? 1)];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  return { child, out: () => out, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

export async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  await p.exited;
}

export interface RemoteEnv {
  db: TestDb;
  dir: string;
  git: GitHttpServer;
  bare: string;
  markers: string;
  /** The database the coordinator runs on (a PostgreSQL URL or the SQLite file). */
  target: string;
  /** The coordinator now up (replaced by `restart`). */
  c: Coordinator;
  projectId: string;
  /** Stops the coordinator: its address refuses connections until `restart`. */
  down(): Promise<void>;
  /** Starts a coordinator on the same home, database and address. */
  restart(): Promise<Coordinator>;
  dispose(): Promise<void>;
}

/** The project remote: a bare `app.git` under `root` with one commit on main. */
export async function seedRemote(root: string): Promise<string> {
  mkdirSync(root, { recursive: true });
  const seed = makeRepo({ 'README.md': '# app\n' });
  await gitAsync(root, 'init', '-q', '--bare', '-b', 'main', 'app.git');
  await gitAsync(seed, 'push', '-q', join(root, 'app.git'), 'main:main');
  rmSync(seed, { recursive: true, force: true });
  return join(root, 'app.git');
}

export async function setupRemote(kind: 'sqlite' | 'postgres', config: (markers: string) => Record<string, unknown>, fleet: Partial<FleetConfig> = {}, more: { lifecycleTickMs?: number } = {}): Promise<RemoteEnv> {
  const db = await freshDb(kind);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-remote-'));
  const root = join(dir, 'remotes');
  const bare = await seedRemote(root);
  const git = await startGitHttp(root, { user: USER, password: SECRET });
  const markers = join(dir, 'markers');
  mkdirSync(markers);
  const target = kind === 'postgres' ? db.target : join(dir, 'gantry.db');
  const start = (port: number) =>
    startCoordinator({
      home: resolveHome(join(dir, 'coordinator')),
      port,
      host: '127.0.0.1',
      database: target,
      factories: 0,
      logger: jsonLogger(() => undefined),
      pollMs: 100,
      fleet: { reapIntervalMs: 200, staleMs: 60_000, heartbeatMs: 200, ...fleet },
      ...more,
    });
  const first = await start(0);
  const port = Number(new URL(first.url).port);
  const p = await first.store.projects.create({ name: 'app', path: '', remote: git.url('app.git', { user: USER, password: SECRET }), defaultBranch: 'main', config: config(markers) });
  let up = true;
  const e: RemoteEnv = {
    db, dir, git, bare, markers, target, c: first, projectId: p.id,
    down: async () => {
      up = false;
      await e.c.close();
    },
    restart: async () => {
      e.c = await start(port);
      up = true;
      return e.c;
    },
    dispose: async () => {
      if (up) await e.c.close();
      await git.close();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return e;
}

export async function enroll(e: RemoteEnv, name: string): Promise<{ factoryId: string; token: string; tokenFile: string }> {
  const r = await e.c.fleet.enroll({ name });
  const tokenFile = join(e.dir, `${name}.token`);
  writeFileSync(tokenFile, `${r.token}\n`, { mode: 0o600 });
  return { factoryId: r.factoryId, token: r.token, tokenFile };
}

export async function submit(e: RemoteEnv, title: string): Promise<string> {
  return (await e.c.store.tasks.submit(newTask(e.projectId, { title, pipeline: 'quick', agent: 'scripted' }))).task.id;
}

/** A call to the coordinator's API with a bearer token. */
export async function api(e: RemoteEnv, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${e.c.url.replace(/\/$/, '')}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Waits for the task to ship; on a timeout, says where it stood and what the factory printed. */
export async function shipped(e: RemoteEnv, id: string, f: Proc, timeoutMs = 120_000): Promise<void> {
  try {
    await until(async () => {
      const stage = (await e.c.store.tasks.get(id))?.stage;
      if (stage === 'failed' || stage === 'dead_letter' || stage === 'cancelled') throw new Error(`${id} ${stage}`);
      return stage === 'shipped' || undefined;
    }, `${id} shipped`, timeoutMs);
  } catch (err) {
    const t = await e.c.store.tasks.get(id);
    const ev = await e.c.store.events.list({ taskId: id, limit: 200 });
    throw new Error(`${(err as Error).message}: stage ${t?.stage} ${t?.failureKind ?? ''} ${t?.failureMessage ?? ''}\nevents: ${ev.map((x) => `${x.type} ${JSON.stringify(x.payload).slice(0, 300)}`).join('\n')}\nfactory:\n${f.out().slice(-4000)}`);
  }
}

/** Merge intents of a task that reached `merged` (a shipped task merges exactly once). */
export async function mergedIntents(e: RemoteEnv, taskId: string): Promise<number> {
  const r = await e.c.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM merge_intents WHERE task_id = ? AND state = 'merged'", [taskId]);
  return Number(r?.n ?? 0);
}
