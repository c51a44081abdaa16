// The home directory convention (DESIGN §10): database, admin.token (0600), daemon.json, workspaces, logs.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface HomeLayout {
  dir: string;
  database: string;
  adminToken: string;
  daemon: string;
  workspaces: string;
  logs: string;
}

export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): HomeLayout {
  const dir = resolve(flag || env.GANTRY_HOME || join(homedir(), '.gantry'));
  return {
    dir,
    database: join(dir, 'gantry.db'),
    adminToken: join(dir, 'admin.token'),
    daemon: join(dir, 'daemon.json'),
    workspaces: join(dir, 'workspaces'),
    logs: join(dir, 'logs'),
  };
}

export function ensureHome(h: HomeLayout): void {
  mkdirSync(h.dir, { recursive: true, mode: 0o700 });
  chmodSync(h.dir, 0o700); // holds the database (task bodies) and the admin token
  mkdirSync(h.workspaces, { recursive: true });
  mkdirSync(h.logs, { recursive: true });
}

export interface DaemonInfo {
  url: string;
  pid: number;
  startedAt: string;
  store: 'sqlite' | 'postgres';
}

export function readDaemon(h: HomeLayout): DaemonInfo | null {
  try {
    const d = JSON.parse(readFileSync(h.daemon, 'utf8')) as Partial<DaemonInfo>;
    return typeof d.url === 'string' && typeof d.pid === 'number' ? (d as DaemonInfo) : null;
  } catch {
    return null;
  }
}

/** Atomic replace so a reader never sees half a file. */
export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

export function writeDaemon(h: HomeLayout, d: DaemonInfo): void {
  writeFileAtomic(h.daemon, `${JSON.stringify(d, null, 2)}\n`, 0o644);
}

export function removeDaemon(h: HomeLayout, pid: number): void {
  if (readDaemon(h)?.pid === pid) rmSync(h.daemon, { force: true });
}

export function readAdminToken(h: HomeLayout): string | null {
  if (!existsSync(h.adminToken)) return null;
  const t = readFileSync(h.adminToken, 'utf8').trim();
  return t || null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * This home's identity (`<home>/instance-id`, created once): several coordinators sharing one
 * database each name their in-process factories after it, so they never share factory rows, and a
 * restart of the same home finds its factories (and their outboxes) again.
 */
export function instanceId(dir: string): string {
  const file = join(dir, 'instance-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-z]{8}$/.test(id)) return id;
  } catch {
    // first start of this home
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const id = randomBytes(5).readUIntBE(0, 5).toString(36).padStart(8, '0').slice(-8);
  writeFileAtomic(file, `${id}\n`, 0o644);
  return id;
}

/** The id of the `n`th (1-based) in-process factory of `gantry up` in this home. */
export function localFactoryId(dir: string, n: number): string {
  return `f-${instanceId(dir)}-${n}`;
}
