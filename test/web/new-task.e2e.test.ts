// Creating a task from the board in a real browser against a real `gantry up` whose factory runs the
// pipeline (scripted agent as a real child process, landing through the mirror): the form shows the API's own
// validation messages, opens with the `n` key, and the task it creates ships. At 1400 px and 390 px,
// with no sideways scrolling and no console errors. Unknown paths get a 404 view, not the board.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { BrowserContext, Browser, Page } from 'playwright-core';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, shot, signedIn, startDaemon, type Daemon } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

const GANTRY_YAML = `
version: 1
pipelines:
  ship:
    steps: [ { id: implement, kind: agent, role: implementer }, { id: merge, kind: merge } ]
agents:
  scripted:
    roles:
      implementer: [ { say: "Adding the changelog." }, { write: { path: CHANGELOG.md, content: "# Changes\\n" } }, { commit: "add a changelog" } ]
`;

const WIDE = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };

/** A signed-in page that records console errors and uncaught exceptions. */
/**
 * A signed-in page that records console errors, uncaught exceptions and failed API calls (Chromium
 * logs every 4xx as a console error; `refused` lists those calls so a test can expect its own).
 */
async function watched(browser: Browser, d: Daemon, path: string, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; errors: string[]; refused: string[] }> {
  const { context, page } = await signedIn(browser, d, path, viewport);
  const errors: string[] = [];
  const refused: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => {
    // A transcript asked for before the agent's log exists answers 404 by contract ("no log on this host yet").
    if (r.status() >= 400 && !(r.status() === 404 && r.url().endsWith('/transcript'))) refused.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
  });
  return { context, page, errors, refused };
}

const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe('new task from the board', { skip: unavailable ?? false }, () => {
  let d: Daemon;
  let browser: Browser;
  let repo: string;
  before(async () => {
    repo = makeRepo({ 'README.md': '# site\n', 'gantry.yaml': GANTRY_YAML });
    [d, browser] = await Promise.all([startDaemon({ args: ['--factories', '1'], env: { GANTRY_HEARTBEAT_MS: '200' } }), launchBrowser()]);
    assert.equal((await d.req('POST', '/api/projects', { path: repo, name: 'site' })).status, 201);
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it('shows the API’s validation messages, then creates a task that ships through the real pipeline (1400 px)', async () => {
    const { context, page, errors, refused } = await watched(browser, d, '/', WIDE);
    await page.getByText('No tasks yet').waitFor();
    // The keyboard shortcut opens the form.
    await page.keyboard.press('n');
    const dialog = page.getByRole('dialog', { name: 'New task' });
    await dialog.waitFor();
    await dialog.getByLabel('Pipeline').locator('option[value="ship"]').waitFor({ state: 'attached' });

    // An empty title and a priority out of range: the message is the API's, word for word.
    await dialog.getByLabel('Priority').fill('500');
    await dialog.getByRole('button', { name: 'Create task' }).click();
    const projectId = (await d.req<{ projects: Array<{ id: string }> }>('GET', '/api/projects')).body.projects[0]!.id;
    const api = await d.req<{ error: { message: string } }>('POST', '/api/tasks', { title: '', body: '', project: projectId, priority: 500 });
    assert.equal(api.status, 400);
    await dialog.getByRole('alert').getByText(api.body.error.message).waitFor();
    assert.equal(await dialog.getByLabel('Title').getAttribute('aria-invalid'), 'true');
    assert.equal(await dialog.getByLabel('Priority').getAttribute('aria-invalid'), 'true', 'every field the API names is marked');
    assert.equal(await dialog.getByLabel('Pipeline').getAttribute('aria-invalid'), null);
    assert.equal((await d.req<{ tasks: unknown[] }>('GET', '/api/tasks')).body.tasks.length, 0, 'a refused form creates nothing');

    await dialog.getByLabel('Title').fill('Add a changelog');
    await dialog.getByLabel('Brief (Markdown)').fill('Start a **changelog** with:\n\n- a title\n- <script>alert(1)</script>nothing else');
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await dialog.getByTestId('brief-preview').locator('strong', { hasText: 'changelog' }).waitFor();
    assert.equal(await dialog.getByTestId('brief-preview').locator('script').count(), 0, 'the preview is sanitized');
    await dialog.getByRole('button', { name: 'Edit' }).click();
    await dialog.getByLabel('Pipeline').selectOption('ship');
    await dialog.getByLabel('Agent').selectOption('scripted');
    await dialog.getByLabel('Priority').fill('3');
    await shot(page, 'new-task');
    assert.ok((await sideways(page)) <= 0, 'no sideways scrolling with the form open');
    await dialog.getByRole('button', { name: 'Create task' }).click();

    // The new task's page: it runs and ships; the change is on the base branch.
    await page.locator('[data-testid="task-page"]').waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const task = (await d.req<{ task: { title: string; pipeline: string; agent: string; priority: number; body: string } }>('GET', `/api/tasks/${id}`)).body.task;
    assert.deepEqual([task.title, task.pipeline, task.agent, task.priority], ['Add a changelog', 'ship', 'scripted', 3]);
    assert.match(task.body, /\*\*changelog\*\*/);
    await page.locator('[data-testid="task-page"][data-stage="shipped"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="pipeline"] [data-step="merge"][data-state="done"]').waitFor();
    assert.equal(execFileSync('git', ['-C', repo, 'show', 'main:CHANGELOG.md'], { encoding: 'utf8' }), '# Changes\n');
    await page.getByRole('link', { name: 'Board', exact: true }).first().click();
    await page.locator(`[data-testid="column-shipped"] [data-task="${id}"]`).waitFor();
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, ['POST /api/tasks 400'], 'the only refused call is the invalid form');
    await context.close();
  });

  it('fits a 390 px phone: the button opens the form, errors show, no sideways scrolling', async () => {
    const { context, page, errors, refused } = await watched(browser, d, '/', PHONE);
    await page.locator('[data-task]').first().waitFor();
    await page.getByRole('button', { name: 'New task' }).click();
    const dialog = page.getByRole('dialog', { name: 'New task' });
    await dialog.getByLabel('Capabilities').fill(`${'x'.repeat(65)}`);
    await dialog.getByLabel('Title').fill('Too long a capability');
    await dialog.getByRole('button', { name: 'Create task' }).click();
    await dialog.getByRole('alert').waitFor();
    assert.match((await dialog.getByRole('alert').textContent()) ?? '', /body\.capabilities\[0\]: .*64 characters/);
    assert.equal(await dialog.getByLabel('Capabilities').getAttribute('aria-invalid'), 'true');
    assert.ok((await sideways(page)) <= 0, `sideways by ${await sideways(page)}px at 390 px`);
    // Escape closes it, creating nothing.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await d.req<{ tasks: unknown[] }>('GET', '/api/tasks')).body.tasks.length, 1);
    // Typing in the board's filter does not open the form.
    await page.getByLabel('Filter tasks').fill('n');
    assert.equal(await page.getByRole('dialog').count(), 0);
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, ['POST /api/tasks 400']);
    await context.close();
  });

  it('unknown paths show a 404 view, not the board', async () => {
    for (const viewport of [WIDE, PHONE]) {
      const { context, page, errors, refused } = await watched(browser, d, '/no/such/page', viewport);
      await page.getByTestId('not-found').getByText('/no/such/page').waitFor();
      assert.equal(await page.locator('[data-testid="column-queued"]').count(), 0);
      await page.getByRole('link', { name: 'Back to the board' }).click();
      await page.locator('[data-testid="column-shipped"]').waitFor();
      assert.ok((await sideways(page)) <= 0);
      assert.deepEqual(errors, []);
      assert.deepEqual(refused, []);
      await context.close();
    }
  });
});
