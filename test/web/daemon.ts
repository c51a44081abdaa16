// A real `gantry up` child process in a temp home, for browser and CLI tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GANTRY_BIN } from '../support/cli.js';

export interface Daemon {
  url: string;
  token: string;
  home: string;
  child: ChildProcess;
  req<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** SIGTERM and wait; the home is removed unless `keepHome`. */
  stop(opts?: { keepHome?: boolean }): Promise<void>;
}

export interface DaemonOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Reuse a home (and its database) from an earlier daemon. */
  home?: string;
  port?: number;
}

/** `gantry up --json` (port 0 unless given) in a fresh home; resolves once it serves. */
export async function startDaemon(o: DaemonOptions = {}): Promise<Daemon> {
  const env = o.env ?? {};
  const args = o.args ?? [];
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'gantry-web-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ['GANTRY_URL', 'GANTRY_TOKEN', 'GANTRY_DATABASE_URL', 'GANTRY_HOME', 'GANTRY_PORT']) if (!(k in env)) delete childEnv[k];
  const child = spawn(process.execPath, [GANTRY_BIN, 'up', '--json', '--port', String(o.port ?? 0), '--home', home, ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const info = await new Promise<{ url: string }>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      // `--json` prints one (pretty-printed) document once serving.
      const end = out.indexOf('\n}');
      if (end >= 0) {
        try {
          resolve(JSON.parse(out.slice(0, end + 2)) as { url: string });
        } catch (e) {
          reject(e as Error);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`gantry up exited ${code}: ${err}`)));
  });
  const token = readFileSync(join(home, 'admin.token'), 'utf8').trim();
  return {
    url: info.url,
    token,
    home,
    child,
    async req<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${info.url}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
    },
    async stop(opts = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!opts.keepHome) rmSync(home, { recursive: true, force: true });
    },
  };
}
