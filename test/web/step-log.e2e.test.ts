// A checks step as a CI run view, in a real browser against a real `gantry up` whose factory runs the
// pipeline: the checks go red (a real `sh -c` with a non-zero exit), the scripted fixer repairs them,
// they go green, and the task ships. On the page the step lists both attempts; the failed one shows
// the command, exit code and the failing output with line numbers, searchable and downloadable.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { Task } from '../../src/domain/task.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, shot, signedIn, startDaemon, watchPage, type Daemon } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

const GANTRY_YAML = `
version: 1
checks:
  - { name: unit, run: "echo 'running 3 unit tests'; test -f fixed.txt || { echo 'FAIL: fixed.txt is missing'; exit 3; }; echo 'all green'", timeout: 30 }
pipelines:
  checked:
    steps: [ { id: implement, kind: agent, role: implementer }, { id: checks, kind: checks, maxFixes: 1 }, { id: merge, kind: merge } ]
agents:
  scripted:
    roles:
      implementer: [ { run: "rm -f fixed.txt" }, { write: { path: app.txt, content: "app\\n" } }, { commit: "the app" } ]
      fixer: [ { write: { path: fixed.txt, content: "ok\\n" } }, { commit: "fix the checks" } ]
`;

describe('step logs like a CI run view', { skip: unavailable ?? false }, () => {
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

  for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
    it(`a failed-then-fixed checks step shows the failing output (${viewport.width} px)`, async () => {
      const task = (await d.req<{ task: Task }>('POST', '/api/tasks', { title: `Ship the app at ${viewport.width}`, project, pipeline: 'checked', agent: 'scripted' })).body.task;
      const { context, page } = await signedIn(browser, d, `/tasks/${task.id}`, viewport);
      const { errors, refused } = watchPage(page);
      await page.locator('[data-testid="task-page"][data-stage="shipped"]').waitFor({ timeout: 90_000 });

      // The API keeps both rounds on the step.
      const runs = await d.req<{ current: { steps: Array<{ id: string; rounds?: Array<{ ok: boolean; results: Array<{ exitCode: number; command: string }> }> }> } }>('GET', `/api/tasks/${task.id}/runs`);
      const rounds = runs.body.current.steps.find((s) => s.id === 'checks')!.rounds!;
      assert.deepEqual(rounds.map((r) => [r.ok, r.results[0]!.exitCode]), [[false, 3], [true, 0]]);
      assert.match(rounds[0]!.results[0]!.command, /test -f fixed\.txt/);

      const step = page.locator('[data-testid="pipeline"] [data-step="checks"][data-state="done"]');
      await step.getByText('2 attempts · red, then fixed').click();
      const failed = step.locator('[data-round="0"][data-ok="false"]');
      await failed.getByText('exit 3 ·').waitFor();
      await failed.locator('[data-check="unit"] summary').click();
      const log = failed.getByRole('list', { name: 'unit log' });
      await log.locator('li[data-line="2"]', { hasText: 'FAIL: fixed.txt is missing' }).waitFor();
      assert.equal(await log.locator('li[data-line="1"] .lt').textContent(), 'running 3 unit tests');
      // Search marks the matching lines.
      await failed.getByLabel('Search the unit log').fill('fail');
      await failed.getByText('1 matching lines').waitFor();
      assert.equal(await log.locator('li.hit').count(), 1);
      // Download gives the whole log.
      const [download] = await Promise.all([page.waitForEvent('download'), failed.getByRole('link', { name: 'Download' }).click()]);
      assert.equal(readFileSync((await download.path())!, 'utf8'), 'running 3 unit tests\nFAIL: fixed.txt is missing\n');
      // The green attempt is listed after it.
      await step.locator('[data-round="1"][data-ok="true"]').getByText('passed').waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      if (viewport.width === 1400) await shot(page, 'step-log');
      assert.deepEqual(errors, []);
      assert.deepEqual(refused, []);
      await context.close();
    });
  }

  it('the log route serves only logs the engine recorded, and says why when there is none', async () => {
    const task = (await d.req<{ task: Task }>('GET', '/api/tasks?limit=1')).body as unknown as { tasks: Task[] };
    const id = task.tasks[0]!.id;
    const r = await fetch(`${d.url}/api/tasks/${id}/run/steps/checks/log?round=0&check=unit`, { headers: { Authorization: `Bearer ${d.token}` } });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /FAIL: fixed\.txt is missing/);
    assert.equal((await d.req('GET', `/api/tasks/${id}/run/steps/checks/log?round=7&check=unit`)).status, 404);
    assert.equal((await d.req('GET', `/api/tasks/${id}/run/steps/checks/log?round=0&check=../../etc/passwd`)).status, 404);
    assert.equal((await d.req('GET', `/api/tasks/${id}/run/steps/checks/log?round=-1&check=unit`)).status, 400);
    assert.equal((await fetch(`${d.url}/api/tasks/${id}/run/steps/checks/log?round=0&check=unit`)).status, 401);
  });
});
