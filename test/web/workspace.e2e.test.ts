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
import { browserUnavailable, launchBrowser, signedIn, shot, watchPage } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

describe('checkpoints, diff and rollback in a browser', { skip: unavailable ?? false }, () => {
  let api: TestApi;
  let browser: Browser;
  let task: Task;
  let wsPath: string;
  let repoPath: string;
  before(async () => {
    [api, browser] = await Promise.all([startTestApi('sqlite'), launchBrowser()]);
    repoPath = makeRepo({ 'README.md': '# Shop\n', 'cart.ts': 'export const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);\n' });
    const project = (await api.req('POST', '/api/projects', { path: repoPath, name: 'shop' })).body.project as { id: string; name: string };
    task = (await api.req('POST', '/api/tasks', { title: 'Apply coupon codes at checkout', project: project.id })).body.task as Task;
    const ws = workspaceService(api.home, api.coordinator.store, []);
    const w = await ws.provision({ taskId: task.id, project: { id: project.id, name: project.name, path: repoPath, defaultBranch: 'main' }, config: parseWorkspaceConfig({}) });
    wsPath = w.path;
    writeFileSync(join(wsPath, 'cart.ts'), 'export const total = (xs: number[], off = 0) => xs.reduce((a, b) => a + b, 0) - off;\n');
    await ws.checkpoint(task.id, { step: 'implement', reason: 'step_end' });
    writeFileSync(join(wsPath, 'cart.ts'), 'export const total = () => 0; // broken\n');
    writeFileSync(join(wsPath, 'coupon.ts'), 'export const coupon = (code: string) => code.length; // <img src=x onerror="document.title=\'pwned\'">\n');
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
    const { errors, refused } = watchPage(page);
    const cps = page.getByTestId('checkpoints');
    await cps.locator('tr[data-checkpoint="2"]').waitFor();
    await cps.locator('tr[data-checkpoint="1"]').waitFor();

    // Diff between #1 and #2 in the diff viewer: the file tree, the broken edit (highlighted) and the new file.
    await cps.locator('tr[data-checkpoint="2"]').getByRole('button', { name: 'Diff' }).click();
    const diff = page.getByTestId('diff');
    await diff.locator('.diff-tree').getByRole('button', { name: /coupon\.ts/ }).waitFor();
    const cart = diff.locator('[data-file="cart.ts"]');
    await cart.locator('tr', { hasText: 'export const total = () => 0; // broken' }).first().waitFor();
    assert.ok((await cart.locator('.token.keyword').count()) > 0, 'TypeScript is syntax-highlighted');
    // Split shows old and new side by side; unified one column. Both draw the same change.
    await diff.getByRole('button', { name: 'Split' }).click();
    await cart.locator('table.diff-split').waitFor();
    await diff.getByRole('button', { name: 'Unified' }).click();
    await cart.locator('table.diff-unified').waitFor();
    // A file collapses to its header and opens again.
    await cart.getByRole('button', { name: 'Collapse cart.ts' }).click();
    await diff.locator('[data-file="cart.ts"][data-collapsed="true"]').waitFor();
    assert.equal(await cart.locator('.diff-lines').count(), 0, 'a collapsed file shows no lines');
    // The file tree opens a collapsed file and brings it into view.
    await diff.locator('.diff-tree').getByRole('button', { name: /cart\.ts/ }).click();
    await cart.locator('.diff-lines').waitFor();
    await cart.getByRole('button', { name: 'Collapse cart.ts' }).waitFor();
    // Markup in a changed file is shown as text, never parsed.
    await diff.locator('[data-file="coupon.ts"] tr', { hasText: '<img src=x onerror=' }).first().waitFor();
    assert.equal(await diff.locator('img').count(), 0, 'a file’s markup cannot run in the page');
    await shot(page, 'checkpoints', { fullPage: true });

    // Compare any two checkpoints: base → #2 has both files as added/modified against the project.
    const list = (await api.req('GET', `/api/tasks/${task.id}/checkpoints`)).body.checkpoints as Array<{ seq: number; sha: string }>;
    const compare = cps.getByTestId('compare');
    await compare.getByLabel('From').selectOption('base');
    await compare.getByLabel('To').selectOption(list.find((c) => c.seq === 2)!.sha);
    await compare.getByRole('button', { name: 'Compare' }).click();
    await diff.getByText('Diff base → #2').waitFor();
    await diff.locator('[data-file="coupon.ts"] .fs-added, [data-file="coupon.ts"] .fs', { hasText: 'added' }).first().waitFor();
    await diff.locator('[data-file="cart.ts"]').locator('tr', { hasText: 'export const total = () => 0; // broken' }).first().waitFor();
    assert.equal(await diff.locator('[data-file="cart.ts"]').locator('tr', { hasText: 'off = 0' }).count(), 0, 'base never had #1’s edit');

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
    // The diff route takes only this task's own checkpoints (by number or sha) and its base.
    const bySha = await api.req('GET', `/api/tasks/${task.id}/diff?from=${list[0]!.sha.slice(0, 10)}&to=${list[1]!.sha}`);
    assert.equal(bySha.status, 200);
    assert.deepEqual((bySha.body.diff as { files: Array<{ path: string }> }).files.map((f) => f.path).sort(), ['cart.ts', 'coupon.ts']);
    const other = (await api.req('POST', '/api/tasks', { title: 'Another task', project: task.projectId })).body.task as Task;
    const ws = workspaceService(api.home, api.coordinator.store, []);
    await ws.provision({ taskId: other.id, project: { id: task.projectId, name: 'shop', path: repoPath, defaultBranch: 'main' }, config: parseWorkspaceConfig({}) });
    const foreign = (await ws.checkpoint(other.id, { step: 'implement', reason: 'step_end' })).checkpoint.sha;
    const refusedDiff = await api.req('GET', `/api/tasks/${task.id}/diff?from=base&to=${foreign}`);
    assert.equal(refusedDiff.status, 404);
    assert.match(JSON.stringify(refusedDiff.body), /is not a checkpoint of task/);
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, []);
    await context.close();
  });

  it('at 390 px the diff viewer scrolls inside its own box: the page never scrolls sideways', async () => {
    const { context, page } = await signedIn(browser, api, `/tasks/${task.id}`, { width: 390, height: 844 });
    const { errors, refused } = watchPage(page);
    const cps = page.getByTestId('checkpoints');
    await cps.locator('tr[data-checkpoint="2"]').getByRole('button', { name: 'vs base' }).click();
    const diff = page.getByTestId('diff');
    await diff.locator('[data-file="coupon.ts"] .diff-lines').waitFor();
    for (const layout of ['Unified', 'Split']) {
      await diff.getByRole('button', { name: layout }).click();
      await diff.locator(layout === 'Split' ? 'table.diff-split' : 'table.diff-unified').first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${layout}: the page scrolls sideways by ${overflow}px at 390 px`);
    }
    await diff.locator('[data-file="coupon.ts"]').scrollIntoViewIfNeeded();
    await shot(page, 'diff-phone');
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, []);
    await context.close();
  });
});
