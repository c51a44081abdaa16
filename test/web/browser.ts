// Test support for the dashboard: Debian's Chromium driven by playwright-core. Nothing here
// sleeps: callers wait on page conditions.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Daemon } from './daemon.js';
export { startDaemon, type Daemon } from './daemon.js';

export const CHROMIUM = process.env.GANTRY_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p)) ?? null;
export const WEB_BUILT = existsSync(new URL('../../web/dist/index.html', import.meta.url));

/** Why browser tests cannot run here, or null. CI installs Chromium, so there it is a failure, not a skip. */
export function browserUnavailable(): string | null {
  if (!CHROMIUM) return 'Chromium is not installed (apt-get install chromium)';
  if (!WEB_BUILT) return 'the dashboard is not built (npm run build:web)';
  return null;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM!,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A signed-in page: the one-click login link puts the token in the fragment, never in a request. */
export async function signedIn(browser: Browser, d: Pick<Daemon, 'url' | 'token'>, path = '/', viewport = { width: 1400, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
  const page = await context.newPage();
  await page.goto(`${d.url}${path}#token=${encodeURIComponent(d.token)}`);
  await page.locator('[data-testid="conn"].conn-live').waitFor();
  return { context, page };
}

/**
 * Screenshots for the README and docs are taken by these tests. A normal run writes them to a temp
 * dir so `npm test` leaves the working tree clean; `npm run screenshots` (GANTRY_UPDATE_SCREENSHOTS=1)
 * rewrites docs/screenshots/<name>.png. GANTRY_SCREENSHOTS_DIR sends them anywhere else.
 */
export const SHOTS_DIR =
  process.env.GANTRY_SCREENSHOTS_DIR ||
  (process.env.GANTRY_UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : join(tmpdir(), 'gantry-screenshots'));

export async function shot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), ...(opts.fullPage ? { fullPage: true } : {}) });
}

/**
 * Console errors, uncaught exceptions and refused API calls on a page. Chromium logs every 4xx as a
 * console error, so those are listed by call in `refused` instead, for a test to expect its own; a
 * transcript asked for before the agent's log exists answers 404 by contract and is left out.
 */
export function watchPage(page: Page): { errors: string[]; refused: string[] } {
  const errors: string[] = [];
  const refused: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400 && !(r.status() === 404 && r.url().endsWith('/transcript'))) refused.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
  });
  return { errors, refused };
}
