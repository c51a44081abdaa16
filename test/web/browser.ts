// Test support for the dashboard: a real `gantry up` child process in a temp home, and Debian's
// Chromium driven by playwright-core. Nothing here sleeps: callers wait on page conditions.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { GANTRY_BIN } from '../support/cli.js';

export const CHROMIUM = process.env.GANTRY_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p)) ?? null;
export const WEB_BUILT = existsSync(new URL('../../web/dist/index.html', import.meta.url));

/** Why browser tests cannot run here, or null. CI installs Chromium, so there it is a failure, not a skip. */
export function browserUnavailable(): string | null {
  if (!CHROMIUM) return 'Chromium is not installed (apt-get install chromium)';
  if (!WEB_BUILT) return 'the dashboard is not built (npm run build:web)';
  return null;
}

export interface Daemon {
  url: string;
  token: string;
  home: string;
  child: ChildProcess;
  req<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** `gantry up --json` on port 0 in a fresh home; resolves once it serves. */
export async function startDaemon(args: string[] = [], env: Record<string, string> = {}): Promise<Daemon> {
  const home = mkdtempSync(join(tmpdir(), 'gantry-web-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ['GANTRY_URL', 'GANTRY_TOKEN', 'GANTRY_DATABASE_URL', 'GANTRY_HOME', 'GANTRY_PORT']) if (!(k in env)) delete childEnv[k];
  const child = spawn(process.execPath, [GANTRY_BIN, 'up', '--json', '--port', '0', '--home', home, ...args], {
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
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM!,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A signed-in page: the one-click login link puts the token in the fragment, never in a request. */
export async function signedIn(browser: Browser, d: Daemon, path = '/', viewport = { width: 1400, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
  const page = await context.newPage();
  await page.goto(`${d.url}${path}#token=${encodeURIComponent(d.token)}`);
  await page.locator('[data-testid="conn"].conn-live').waitFor();
  return { context, page };
}
