// Checkpoints, diff and rollback from the dashboard, in a real browser against the real coordinator,
// over a real git worktree. As on a factory, the workspace service in this process provisions and
// checkpoints; the coordinator serves what it recorded, and the page's rollback restores the files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { Task } from '../../src/domain/task.js';
import { workspaceService } from '../../src/app/workspaces.js';
import { parseWorkspaceConfig } from '../../src/config/workspace.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, signedIn, shot } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

describe('checkpoints, diff and rollback in a browser', { skip: unavailable ?? false }, () => {
  let api: TestApi;
  let browser: Browser;
  let task: Task;
  let wsPath: string;
  before(async () => {
    [api, browser] = await Promise.all([startTestApi('sqlite'), launchBrowser()]);
    const repo = makeRepo({ 'README.md': '# Shop\n', 'cart.ts': 'export const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);\n' });
    const project = (await api.req('POST', '/api/projects', { path: repo, name: 'shop' })).body.project as { id: string; name: string };
    task = (await api.req('POST', '/api/tasks', { title: 'Apply coupon codes at checkout', project: project.id })).body.task as Task;
    const ws = workspaceService(api.home, api.coordinator.store);
    const w = await ws.provision({ taskId: task.id, project: { id: project.id, name: project.name, path: repo, defaultBranch: 'main' }, config: parseWorkspaceConfig({}) });
    wsPath = w.path;
    writeFileSync(join(wsPath, 'cart.ts'), 'export const total = (xs: number[], off = 0) => xs.reduce((a, b) => a + b, 0) - off;\n');
    await ws.checkpoint(task.id, { step: 'implement', reason: 'step_end' });
    writeFileSync(join(wsPath, 'cart.ts'), 'export const total = () => 0; // broken\n');
    writeFileSync(join(wsPath, 'coupon.ts'), 'export const coupon = (code: string) => code.length;\n');
    await ws.checkpoint(task.id, { step: 'review', reason: 'step_end' });
    // Work in progress that no checkpoint holds yet: rollback must save it first.
    writeFileSync(join(wsPath, 'notes.txt'), 'try a percentage coupon next\n');
  });
  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('lists checkpoints, shows their diff, and rollback from the page restores a checkpoint', async (t) => {
    const { body } = await api.req('GET', '/api/openapi.json');
    if (!(body.paths as Record<string, unknown>)['/api/tasks/{id}/rollback']) {
      t.skip('this build has no workspace API');
      return;
    }
    const { context, page } = await signedIn(browser, api, `/tasks/${task.id}`);
    const cps = page.getByTestId('checkpoints');
    await cps.locator('tr[data-checkpoint="2"]').waitFor();
    await cps.locator('tr[data-checkpoint="1"]').waitFor();

    // Diff between #1 and #2: the broken edit and the new file.
    await cps.locator('tr[data-checkpoint="2"]').getByRole('button', { name: 'Diff' }).click();
    const diff = page.getByTestId('diff');
    await diff.locator('.diff-files').getByText('coupon.ts', { exact: true }).waitFor();
    await diff.getByText('+export const total = () => 0; // broken').waitFor();
    await shot(page, 'checkpoints', { fullPage: true });

    // Roll back to #1 through the confirmation dialog.
    await cps.locator('tr[data-checkpoint="1"]').getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('saved first as a new checkpoint').waitFor();
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The safety checkpoint (#3, holding the work in progress) appears, and the worktree is back at #1.
    await cps.locator('tr[data-checkpoint="3"]').waitFor();
    await diff.getByText('rollback: #3 (safety) → #1').waitFor();
    assert.equal(readFileSync(join(wsPath, 'cart.ts'), 'utf8'), 'export const total = (xs: number[], off = 0) => xs.reduce((a, b) => a + b, 0) - off;\n');
    assert.equal(existsSync(join(wsPath, 'coupon.ts')), false, 'a file added after #1 is gone');
    assert.equal(existsSync(join(wsPath, 'notes.txt')), false);
    const saved = (await api.req('GET', `/api/tasks/${task.id}/diff?from=1&to=3`)).body.diff as { files: Array<{ path: string }> };
    assert.ok(saved.files.some((f) => f.path === 'notes.txt'), 'the work in progress is kept in the safety checkpoint');
    await context.close();
  });
});
