// The fleet page in a real browser: a real `gantry factory` process joins a real `gantry up`, takes
// a task, and is SIGKILLed; the page shows it joining, holding the lease, and going stale.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { Task } from '../../src/domain/task.js';
import { GANTRY_BIN } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, signedIn, shot, startDaemon, type Daemon } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);
// Fast fleet timings so "dying" is observable in a test; heartbeats stay within a third of the window.
const FLEET_ENV = { GANTRY_STALE_MS: '1500', GANTRY_HEARTBEAT_MS: '250', GANTRY_REAP_MS: '250' };

describe('fleet page in a browser', { skip: unavailable ?? false }, () => {
  let d: Daemon;
  let browser: Browser;
  let repo: string;
  let factoryHome: string;
  let factory: ChildProcess | null = null;

  before(async () => {
    [d, browser] = await Promise.all([startDaemon({ args: ['--factories', '0'], env: FLEET_ENV }), launchBrowser()]);
    repo = makeRepo();
    factoryHome = mkdtempSync(join(tmpdir(), 'gantry-factory-'));
  });
  after(async () => {
    if (factory && factory.exitCode === null && factory.signalCode === null) factory.kill('SIGKILL');
    await browser?.close();
    await d?.stop();
    rmSync(repo, { recursive: true, force: true });
    rmSync(factoryHome, { recursive: true, force: true });
  });

  it('shows a factory joining, holding a lease, and dying', async (t) => {
    const { body } = await d.req<{ paths: Record<string, unknown> }>('GET', '/api/openapi.json');
    if (!body.paths['/api/fleet/factories']) {
      t.skip('this build has no fleet API');
      return;
    }
    const { context, page } = await signedIn(browser, d, '/fleet');
    await page.getByText('No factory has joined').waitFor();

    // A task waiting for a factory: the fleet page's alerts say there is no capacity.
    const project = (await d.req<{ project: { id: string } }>('POST', '/api/projects', { path: repo, name: 'fleet-demo' })).body.project.id;
    const task = (await d.req<{ task: Task }>('POST', '/api/tasks', { title: 'Build the release notes', project })).body.task;
    await page.getByTestId('alerts').getByText('no live capacity').waitFor();

    // A real factory process joins over HTTP; its long-running executor holds the lease.
    factory = spawn(process.execPath, [GANTRY_BIN, 'factory', '--url', d.url, '--token', d.token, '--name', 'builder-1', '--home', factoryHome, '--executor', 'steps:600000'], {
      env: { ...process.env, ...FLEET_ENV, GANTRY_URL: '', GANTRY_TOKEN: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let ferr = '';
    factory.stderr!.on('data', (b: Buffer) => (ferr += b));
    const row = page.locator('[data-testid="factories"] tr[data-factory="builder-1"]');
    try {
      await row.and(page.locator('[data-state="live"]')).waitFor();
      await row.getByRole('link', { name: task.id }).waitFor();
    } catch (e) {
      throw new Error(`${(e as Error).message}\nfactory stderr: ${ferr}`);
    }
    await shot(page, 'fleet');

    // On a 390 px phone every factory is a card: the Drain button is in view, nothing scrolls sideways.
    const phone = await signedIn(browser, d, '/fleet', { width: 390, height: 844 });
    const drainBtn = phone.page.locator('[data-testid="factories"] tr[data-factory="builder-1"]').getByRole('button', { name: 'Drain' });
    await drainBtn.waitFor();
    const box = (await drainBtn.boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `Drain is off-screen at 390 px (x ${box.x}, width ${box.width})`);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the fleet page scrolls sideways by ${overflow}px at 390 px`);
    await shot(phone.page, 'fleet-phone', { fullPage: true });
    await phone.context.close();

    // SIGKILL: no goodbye. Its heartbeat falls out of the stale window and the page says so.
    factory.kill('SIGKILL');
    await row.and(page.locator('[data-state="stale"]')).waitFor();
    await page.getByTestId('alerts').getByText('stale').first().waitFor();
    assert.equal(await row.getAttribute('data-state'), 'stale');
    await context.close();
  });
});
