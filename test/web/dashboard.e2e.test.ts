// The dashboard in a real browser (Debian's Chromium via playwright-core) against a real
// `gantry up` child process. Every wait is on a page condition; nothing sleeps. The screenshots in
// docs/screenshots are written by these tests, so they always show the current dashboard.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { openStore } from '../../src/store/open.js';
import type { Task } from '../../src/domain/task.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, signedIn, shot, startDaemon, type Daemon } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

const card = (page: Page, id: string, column?: string) => page.locator(`${column ? `[data-testid="column-${column}"] ` : ''}[data-task="${id}"]`);

describe('dashboard in a browser', { skip: unavailable ?? false }, () => {
  let d: Daemon;
  let browser: Browser;
  let project: string;
  let repo: string;
  const submit = async (title: string, extra: Record<string, unknown> = {}) => {
    const r = await d.req<{ task: Task }>('POST', '/api/tasks', { title, body: `Do: ${title}`, project, ...extra });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.task;
  };

  before(async () => {
    [d, browser] = await Promise.all([startDaemon({ args: ['--factories', '0'] }), launchBrowser()]);
    repo = makeRepo();
    const r = await d.req<{ project: { id: string } }>('POST', '/api/projects', { path: repo, name: 'webapp' });
    project = r.body.project.id;
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('asks for a token, shows nothing without one, refuses a wrong one', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, colorScheme: 'light' });
    const page = await context.newPage();
    const apiCalls: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) apiCalls.push(r.url());
    });
    await page.goto(`${d.url}/`);
    await page.getByLabel('Token').waitFor();
    assert.equal(apiCalls.length, 0, `the login screen reads no data: ${apiCalls.join(', ')}`);
    await shot(page, 'login');
    await page.getByLabel('Token').fill('gantry_admin_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    await page.getByLabel('Token').fill(d.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid="conn"].conn-live').waitFor();
    assert.ok(apiCalls.filter((u) => !u.includes('/api/events/stream')).every((u) => !u.includes(encodeURIComponent(d.token))), 'the token travels in a URL only to the event stream');
    // Sign out forgets the token.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('gantry.token')), null);
    await context.close();
  });

  it('the board updates live when tasks are submitted and change', async () => {
    const { context, page } = await signedIn(browser, d);
    await page.getByText('No tasks yet').waitFor();
    const login = await submit('Fix the flaky login test', { priority: 5 });
    await card(page, login.id, 'queued').waitFor();
    const dark = await submit('Add a dark mode toggle');
    const docs = await submit('Document the public API');
    await card(page, docs.id, 'queued').waitFor();
    // A change (not a new task) moves the card: a new unshipped dependency blocks it.
    assert.equal((await d.req('PATCH', `/api/tasks/${dark.id}`, { after: [login.id] })).status, 200);
    await card(page, dark.id, 'blocked').waitFor();
    assert.equal(await card(page, dark.id, 'queued').count(), 0);
    await submit('Speed up the CI cache', { after: [docs.id] });
    await page.locator('[data-testid="column-blocked"] [data-task]').nth(1).waitFor();
    await context.close();
  });

  it('a task page shows its facts and appends history live', async () => {
    const base = await submit('Migrate the settings page');
    const dep = await submit('Ship the design tokens');
    const { context, page } = await signedIn(browser, d, `/tasks/${base.id}`);
    await page.getByRole('heading', { name: 'Migrate the settings page' }).waitFor();
    await page.locator('[data-testid="timeline"] li', { hasText: 'task.submitted' }).waitFor();
    assert.equal(await page.getByTestId('task-stage').textContent(), 'queued');
    assert.equal((await d.req('PATCH', `/api/tasks/${base.id}`, { after: [dep.id] })).status, 200);
    await page.locator('[data-testid="timeline"] li', { hasText: 'task.dependencies_changed' }).waitFor();
    await page.locator('[data-testid="task-page"][data-stage="blocked"]').waitFor();
    await page.getByRole('link', { name: dep.id }).waitFor();
    await shot(page, 'task');
    // Back to the board through the breadcrumb: client-side navigation, same live stream.
    await page.getByRole('link', { name: 'Board', exact: true }).first().click();
    await card(page, base.id, 'blocked').waitFor();
    await context.close();
  });

  it('operator actions from the task page, each behind a confirmation, move the board live', async () => {
    const schema = await d.req<{ paths: Record<string, unknown> }>('GET', '/api/openapi.json');
    assert.ok(schema.body.paths['/api/fleet/jobs/{id}/actions/{action}'], 'the fleet API serves operator actions');
    const base = await submit('Extract the pricing module');
    const dependent = await submit('Add volume discounts', { after: [base.id] });
    const { context, page } = await signedIn(browser, d, `/tasks/${dependent.id}`);
    await page.locator('[data-testid="task-page"][data-stage="blocked"]').waitFor();
    const dialog = page.getByRole('dialog');

    // Reject: asks first (Cancel changes nothing), then dead-letters with the reason on record.
    await page.getByRole('button', { name: 'Reject' }).click();
    await dialog.getByText('dead-letter stage').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(((await d.req<{ task: Task }>('GET', `/api/tasks/${dependent.id}`)).body.task).stage, 'blocked');
    await page.getByRole('button', { name: 'Reject' }).click();
    await dialog.getByLabel('Reason (recorded in the event log)').fill('superseded by the pricing rewrite');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await page.locator('[data-testid="task-page"][data-stage="dead_letter"]').waitFor();
    await page.getByText('Needs you: Failed').waitFor();

    // Requeue: back to waiting for its dependency.
    await page.getByRole('button', { name: 'Requeue' }).click();
    await dialog.getByRole('button', { name: 'Requeue' }).click();
    await page.locator('[data-testid="task-page"][data-stage="blocked"]').waitFor();

    // Shipping the dependency (from its own page) unblocks this task live on the board.
    await page.goto(`${d.url}/tasks/${base.id}`);
    await page.getByRole('button', { name: 'Mark shipped' }).click();
    await dialog.getByRole('button', { name: 'Mark shipped' }).click();
    await page.locator('[data-testid="task-page"][data-stage="shipped"]').waitFor();
    await page.getByRole('link', { name: 'Board', exact: true }).first().click();
    await card(page, base.id, 'shipped').waitFor();
    await card(page, dependent.id, 'queued').waitFor();
    // A rejected task lands first in line, in "Needs you".
    const sdk = await submit('Upgrade the payment SDK');
    assert.equal((await d.req('POST', `/api/fleet/jobs/${sdk.id}/actions/reject`, { reason: 'vendor deprecated this SDK' })).status, 200);
    await page.getByTestId('needs-you').locator(`[data-task="${sdk.id}"]`).waitFor();
    await context.close();
  });

  it("settings shows each project's effective configuration", async () => {
    const { context, page } = await signedIn(browser, d, '/settings');
    const section = page.locator('[data-project="webapp"]');
    await section.getByText('Effective configuration').waitFor();
    const shown = JSON.parse((await section.locator('pre.config').textContent()) ?? '{}') as Record<string, unknown>;
    const { body } = await d.req<{ project: { config: Record<string, unknown> } }>('GET', `/api/projects/${project}`);
    assert.deepEqual(shown, body.project.config, 'exactly what the coordinator parsed');
    await shot(page, 'settings');
    await context.close();
  });

  it('works on a phone screen: no sideways scrolling, every column reachable', async () => {
    const { context, page } = await signedIn(browser, d, '/', { width: 375, height: 812 });
    await page.locator('[data-testid="column-queued"] [data-task]').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px at 375px`);
    for (const col of ['queued', 'blocked', 'shipped']) assert.ok(await page.getByTestId(`column-${col}`).isVisible() || (await page.getByTestId(`column-${col}`).count()) === 1);
    await shot(page, 'phone', { fullPage: true });
    // The task page too: facts, actions and history fit the width.
    await page.locator('[data-testid="column-blocked"] [data-task]').first().click();
    await page.getByTestId('timeline').waitFor();
    const taskOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(taskOverflow <= 0, `the task page scrolls sideways by ${taskOverflow}px at 375px`);
    await context.close();
  });

  it('resumes the event stream after the coordinator restarts and replays what it missed', async () => {
    const { context, page } = await signedIn(browser, d);
    const port = Number(new URL(d.url).port);
    await d.stop({ keepHome: true });
    await page.locator('[data-testid="conn"]:not(.conn-live)').waitFor();
    // While the dashboard is disconnected, a change is committed straight to the store.
    const store = await openStore(`${d.home}/gantry.db`);
    const missed = (await store.tasks.submit({ projectId: project, title: 'Committed while the dashboard was away', body: '', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 })).task;
    await store.close();
    d = await startDaemon({ args: ['--factories', '0'], home: d.home, port });
    await page.locator('[data-testid="conn"].conn-live').waitFor();
    await card(page, missed.id, 'queued').waitFor();
    await context.close();
  });
});
