// The board as a workplace, in a real browser against a real `gantry up` whose factory runs the
// pipeline (scripted agent, real `sh -c` checks, real git merge): the cards show the current step,
// elapsed time, ±lines, cost and merge SHA, and why a task no factory can take waits; sort, stage
// filter and a bulk cancel; a running check's log grows live on the task page; the failed-then-fixed
// checks step lists both attempts with the fixer; per-step and per-task cost; the project's spend page.
// At 1400 px and 390 px, with no horizontal scroll and no console errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { Task } from '../../src/domain/task.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, shot, signedIn, startDaemon, watchPage, type Daemon } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

// The check prints a line every 0.3 s for ~6 s, so the test watches its log grow while it runs.
const GANTRY_YAML = `
version: 1
checks:
  - { name: unit, run: "for i in $(seq 1 20); do echo \\"tick $i\\"; sleep 0.3; done; test -f fixed.txt || { echo 'FAIL: fixed.txt is missing'; exit 3; }; echo 'all green'", timeout: 60 }
pipelines:
  checked:
    steps: [ { id: implement, kind: agent, role: implementer }, { id: checks, kind: checks, maxFixes: 1 }, { id: merge, kind: merge } ]
agents:
  scripted:
    roles:
      implementer: [ { run: "rm -f fixed.txt; echo $GANTRY_SESSION_ID > app.txt; printf 'a\\\\nb\\\\nc\\\\n' > lines.txt" }, { usage: { inputTokens: 1200, outputTokens: 300, costUsd: 0.25 } }, { commit: "the app" } ]
      fixer: [ { run: "echo $GANTRY_SESSION_ID > fixed.txt" }, { usage: { inputTokens: 400, outputTokens: 100, costUsd: 0.05 } }, { commit: "fix the checks" } ]
`;

const noSideScroll = async (page: Page, what: string): Promise<void> => {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px`);
};

describe('the board as a workplace: card facts, sort and filter, live step logs, cost', { skip: unavailable ?? false }, () => {
  let d: Daemon;
  let browser: Browser;
  let repo: string;
  let project: string;
  before(async () => {
    repo = makeRepo({ 'README.md': '# app\n', 'gantry.yaml': GANTRY_YAML });
    [d, browser] = await Promise.all([startDaemon({ args: ['--factories', '1'], env: { GANTRY_HEARTBEAT_MS: '200' } }), launchBrowser()]);
    project = (await d.req<{ project: { id: string } }>('POST', '/api/projects', { path: repo, name: 'app' })).body.project.id;
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  let spent = 0;
  for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
    it(`a real run: the card's facts, the running check's live log, the attempts and the cost (${viewport.width} px)`, async () => {
      const { context, page: board } = await signedIn(browser, d, '/', viewport);
      const boardWatch = watchPage(board);
      const task = (await d.req<{ task: Task }>('POST', '/api/tasks', { title: `Ship the app at ${viewport.width}`, project, pipeline: 'checked', agent: 'scripted' })).body.task;
      const card = board.locator(`[data-task="${task.id}"]`);
      // Live: the card shows the step the run is in now.
      await card.locator('[data-fact="step"]', { hasText: 'checks' }).waitFor({ timeout: 60_000 });
      await card.locator('[data-fact="elapsed"]').waitFor();
      if (viewport.width === 1400) await shot(board, 'board-card-facts');

      const page = await context.newPage();
      const watch = watchPage(page);
      await page.goto(`${d.url}/tasks/${task.id}`);
      const step = page.locator('[data-testid="pipeline"] [data-step="checks"]');
      await step.locator('summary', { hasText: 'Attempts · live log' }).click();
      const running = step.locator('[data-attempt][data-state="running"] [data-check="unit"]').first();
      await running.locator('summary').click();
      const log = running.getByRole('list', { name: 'unit log' });
      await log.locator('li[data-line="1"]').waitFor();
      const first = await log.locator('li[data-line]').count();
      // The log grows while the check runs, without reloading the page.
      await page.waitForFunction((n) => document.querySelectorAll('[data-step="checks"] [data-check="unit"] [aria-label="unit log"] li[data-line]').length > n, first, { timeout: 30_000 });
      assert.equal(await log.locator('li[data-line="1"] .lt').textContent(), 'tick 1');

      await page.locator('[data-testid="task-page"][data-stage="shipped"]').waitFor({ timeout: 120_000 });
      // The failed-then-fixed step: the red attempt with its output, then the fixer and the green attempt.
      const attempts = step.locator('[data-testid="step-log"] > li');
      await attempts.nth(1).locator('[data-session]').waitFor();
      assert.equal(await attempts.count(), 2);
      const red = step.locator('[data-attempt="1"][data-ok="false"]');
      await red.getByText('exit 3 ·').waitFor();
      if (!(await red.getByRole('list', { name: 'unit log' }).isVisible())) await red.locator('[data-check="unit"] summary').click();
      await red.getByRole('list', { name: 'unit log' }).locator('li', { hasText: 'FAIL: fixed.txt is missing' }).waitFor();
      const green = step.locator('[data-attempt="2"][data-ok="true"]');
      await green.locator('[data-session][data-status="completed"]', { hasText: 'fixer' }).waitFor();
      await green.locator('[data-check="unit"][data-status="ok"]').waitFor();
      // An agent step's attempt: its session, agent and log.
      const impl = page.locator('[data-testid="pipeline"] [data-step="implement"]');
      await impl.locator('summary', { hasText: 'Attempts and logs' }).click();
      const session = impl.locator('[data-attempt="1"][data-ok="true"] [data-session]');
      await session.getByText('(scripted)').waitFor();
      await session.locator('summary').click();
      await impl.getByRole('list', { name: 'implementer log' }).locator('li[data-line="1"]').waitFor();
      // Cost per step and per task.
      await page.locator('[data-step="implement"] [data-testid="step-cost"]', { hasText: '$0.25' }).waitFor();
      await page.locator('[data-testid="task-cost"]', { hasText: 'Task cost: $0.30' }).waitFor();
      await noSideScroll(page, 'the task page');
      if (viewport.width === 1400) await shot(page, 'step-attempts');

      // The card, once shipped: merge SHA, lines, cost; no current step.
      const merged = (await d.req<{ current: { steps: Array<{ id: string; output: { mergedSha?: string } | null }> } }>('GET', `/api/tasks/${task.id}/runs`)).body.current.steps.find((s) => s.id === 'merge')!.output!.mergedSha!;
      await card.locator('[data-fact="merge"]', { hasText: merged.slice(0, 8) }).waitFor();
      assert.equal(await card.locator('[data-fact="cost"]').textContent(), '$0.30');
      assert.match((await card.locator('[data-fact="lines"]').textContent()) ?? '', /^\+\d+ −\d+$/);
      assert.equal(await card.locator('[data-fact="step"]').count(), 0);
      await noSideScroll(board, 'the board');
      spent += 0.3;

      // The project page: the total, a bar for today, the task by cost.
      await board.goto(`${d.url}/projects/${project}`);
      const total = board.locator('[data-testid="project-total"] [data-fact="cost"]');
      await total.filter({ hasText: `$${spent.toFixed(2)}` }).waitFor();
      await board.locator(`[data-testid="spend-chart"] li[data-day="${new Date().toISOString().slice(0, 10)}"]`).waitFor();
      assert.equal(await board.locator(`[data-task-row="${task.id}"] [data-fact="cost"]`).textContent(), '$0.30');
      await noSideScroll(board, 'the project page');
      if (viewport.width === 1400) await shot(board, 'project-spend');

      for (const w of [watch, boardWatch]) {
        assert.deepEqual(w.errors, []);
        assert.deepEqual(w.refused, []);
      }
      await context.close();
    });
  }

  for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
    it(`why queued work waits; sort, stage filter and a confirmed bulk cancel (${viewport.width} px)`, async () => {
      // No factory offers `gpu`: these stay queued, and their cards say why.
      const ids: string[] = [];
      for (const priority of [0, 5, 2]) {
        ids.push((await d.req<{ task: Task }>('POST', '/api/tasks', { title: `GPU job p${priority} at ${viewport.width}`, project, pipeline: 'checked', agent: 'scripted', priority, capabilities: ['gpu'] })).body.task.id);
      }
      const { context, page } = await signedIn(browser, d, '/', viewport);
      const { errors, refused } = watchPage(page);
      await page.locator(`[data-task="${ids[0]}"] [data-fact="waiting"]`, { hasText: 'no live factory offers gpu' }).waitFor();

      await page.getByLabel('Filter tasks').fill(`at ${viewport.width}`);
      await page.getByLabel('Stage').selectOption('queued');
      const queued = page.locator('[data-testid="column-queued"] [data-task]');
      const shown = async () => queued.evaluateAll((els) => els.map((e) => e.getAttribute('data-task')));
      await page.getByLabel('Sort').selectOption('priority');
      assert.deepEqual(await shown(), [ids[1], ids[2], ids[0]]);
      await page.getByLabel('Sort').selectOption('age');
      assert.deepEqual(await shown(), ids);
      // The stage filter hides the shipped column's cards.
      assert.equal(await page.locator('[data-testid="column-shipped"] [data-task]').count(), 0);
      await noSideScroll(page, 'the filtered board');

      // Bulk cancel: select two, confirm, both move to cancelled; the third stays queued.
      await page.getByLabel(`Select ${ids[0]}`).check();
      await page.getByLabel(`Select ${ids[2]}`).check();
      const bar = page.getByTestId('bulk-bar');
      await bar.getByText('2 selected').waitFor();
      if (viewport.width === 1400) await shot(page, 'board-bulk');
      await bar.getByRole('button', { name: 'Cancel…' }).click();
      const dialog = page.locator('dialog[open]');
      await dialog.getByText('Cancel 2 tasks?').waitFor();
      await dialog.getByRole('button', { name: 'Cancel 2' }).click();
      await bar.waitFor({ state: 'detached' });
      for (const id of [ids[0], ids[2]]) assert.equal((await d.req<{ task: Task }>('GET', `/api/tasks/${id}`)).body.task.stage, 'cancelled');
      assert.equal((await d.req<{ task: Task }>('GET', `/api/tasks/${ids[1]}`)).body.task.stage, 'queued');
      await page.getByLabel('Stage').selectOption('stopped');
      await page.locator(`[data-task="${ids[2]}"][data-stage="cancelled"]`).waitFor();
      await noSideScroll(page, 'the board');
      assert.deepEqual(errors, []);
      assert.deepEqual(refused, []);
      await context.close();
    });
  }

  // The README's first picture: a board with work in every state — one task mid-run with its facts,
  // another queued behind it, the shipped ones with merge SHA and cost, a failure in "Needs you".
  it('the whole board while a task runs (the README picture, 1400 px)', async () => {
    const { context, page } = await signedIn(browser, d, '/', { width: 1400, height: 900 });
    const { errors, refused } = watchPage(page);
    const submit = async (title: string) => (await d.req<{ task: Task }>('POST', '/api/tasks', { title, project, pipeline: 'checked', agent: 'scripted' })).body.task.id;
    const running = await submit('Add retries to the webhook client');
    const next = await submit('Paginate the audit log');
    await page.locator(`[data-task="${running}"] [data-fact="step"]`, { hasText: 'checks' }).waitFor({ timeout: 60_000 });
    const failed = await submit('Upgrade the payment SDK');
    assert.equal((await d.req('POST', `/api/fleet/jobs/${failed}/actions/reject`, { reason: 'vendor deprecated this SDK' })).status, 200);
    await page.getByTestId('needs-you').locator(`[data-task="${failed}"]`).waitFor();
    await page.locator(`[data-task="${next}"][data-stage="queued"]`).waitFor();
    await noSideScroll(page, 'the board');
    await shot(page, 'board');
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, []);
    await context.close();
  });
});
