// Line comments on a diff reach the agent: a real `gantry up` whose factory runs the pipeline engine
// and the scripted agent on a real repository. The implement step waits for approval; in the diff
// viewer inside the prompt a person comments lines, and "Request changes" sends them; the rerun
// agent's prompt (copied out by the agent itself) names each comment as path:line. At 1400 and 390 px,
// with no console errors and no sideways scrolling.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Task } from '../../src/domain/task.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, shot, signedIn, startDaemon, watchPage, type Daemon } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

// The second attempt (only the first test requests changes) copies its prompt out of the worktree (a path the sandbox grants) for the test to read.
const GANTRY_YAML = `
version: 1
sandbox: { grant: [ { path: "PROMPT_DIR", write: true } ] }
pipelines:
  reviewed:
    steps: [ { id: implement, kind: agent, role: coder, approval: true }, { id: merge, kind: merge } ]
agents:
  scripted:
    roles:
      coder:
        attempts:
          - [ { write: { path: src/rules.ts, content: "export const rules = [\\n  { code: 'SPRING', off: 0.1 },\\n  { code: 'VIP', off: 0.5 },\\n];\\n" } }, { run: "echo $GANTRY_SESSION_ID > coder.session" }, { commit: "coupon rules" } ]
          - [ { run: "cp \\"$GANTRY_PROMPT_FILE\\" \\"PROMPT_DIR/prompt.txt\\"" }, { write: { path: src/rules.ts, content: "export const rules = [{ code: 'SPRING', off: 0.15 }];\\n" } }, { commit: "coupon rules, as reviewed" } ]
`;

describe('line comments on a diff reach the agent', { skip: unavailable ?? false }, () => {
  let d: Daemon;
  let browser: Browser;
  let project: string;
  let repo: string;
  const promptDir = mkdtempSync(join(tmpdir(), 'gantry-prompts-'));
  before(async () => {
    repo = makeRepo({ 'README.md': '# shop\n', 'gantry.yaml': GANTRY_YAML.replaceAll('PROMPT_DIR', promptDir) });
    [d, browser] = await Promise.all([startDaemon({ args: ['--factories', '1'], env: { GANTRY_HEARTBEAT_MS: '200' } }), launchBrowser()]);
    project = (await d.req<{ project: { id: string } }>('POST', '/api/projects', { path: repo, name: 'shop' })).body.project.id;
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
    rmSync(repo, { recursive: true, force: true });
    rmSync(promptDir, { recursive: true, force: true });
  });

  const submit = async (title: string): Promise<Task> => {
    const r = await d.req<{ task: Task }>('POST', '/api/tasks', { title, project, pipeline: 'reviewed', agent: 'scripted' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.task;
  };
  const openApproval = async (page: Page, task: Task) => {
    const card = page.getByTestId('needs-you').locator(`[data-task="${task.id}"]`);
    await card.getByText('Approval', { exact: true }).waitFor({ timeout: 60_000 });
    await card.click();
    const subject = page.getByTestId('waiting').getByTestId('approval-subject');
    await subject.locator('[data-file="src/rules.ts"] .diff-lines').waitFor();
    return subject;
  };
  const comment = async (page: Page, place: string, text: string) => {
    await page.getByRole('button', { name: `Comment on ${place}`, exact: true }).click();
    const form = page.locator('.line-comment-form');
    await form.getByLabel(`Comment on ${place}`).fill(text);
    await form.getByRole('button', { name: 'Add comment' }).click();
    await page.locator(`.line-comment[data-comment="${place}"]`).getByText(text).waitFor();
  };
  const noSidewaysScroll = async (page: Page) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  };

  it('comments on two lines go with "request changes"; the rerun agent’s prompt names each as path:line', async () => {
    const { context, page } = await signedIn(browser, d, '/');
    const { errors, refused } = watchPage(page);
    const task = await submit('Add coupon rules');
    const subject = await openApproval(page, task);
    // Highlighted TypeScript in the prompt's diff; every line number takes a comment.
    assert.ok((await subject.locator('.token.string').count()) > 0, 'the diff is syntax-highlighted');
    await comment(page, 'src/rules.ts:3', 'VIP at 50% is too much: cap it at 15%.');
    await subject.getByRole('button', { name: 'Split' }).click();
    await subject.locator('[data-file="src/rules.ts"] table.diff-split').waitFor();
    await comment(page, 'src/rules.ts:2', 'Make SPRING 15%.');
    await subject.locator('.chip', { hasText: '2 comments' }).waitFor();
    await noSidewaysScroll(page);
    await shot(page, 'diff-comments');

    await page.getByTestId('waiting').getByRole('button', { name: 'Request changes' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('changes-comments').getByText('src/rules.ts:3').waitFor();
    // With line comments the text is optional: the comments are the feedback.
    await dialog.getByRole('button', { name: 'Request changes' }).click();
    await dialog.waitFor({ state: 'detached' });

    // The agent reruns with the comments and parks again on its new diff.
    await subject.locator('[data-file="src/rules.ts"] tr', { hasText: "off: 0.15" }).first().waitFor({ timeout: 60_000 });
    const promptFile = join(promptDir, 'prompt.txt');
    assert.ok(existsSync(promptFile), 'the rerun agent copied its prompt');
    const prompt = readFileSync(promptFile, 'utf8');
    assert.match(prompt, /Line comments \(path:line\):\n- src\/rules\.ts:2: Make SPRING 15%\.\n- src\/rules\.ts:3: VIP at 50% is too much: cap it at 15%\./);
    assert.equal(await subject.locator('.line-comment').count(), 0, 'sent comments are cleared');

    await page.getByTestId('waiting').getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reject' }).click();
    await page.locator('[data-testid="task-page"]:not([data-stage="blocked"])').waitFor({ timeout: 60_000 });
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, []);
    await context.close();
  });

  it('at 390 px a line comment is written in the prompt’s diff without the page scrolling sideways', async () => {
    const { context, page } = await signedIn(browser, d, '/', { width: 390, height: 844 });
    const { errors, refused } = watchPage(page);
    const task = await submit('Add loyalty coupons');
    const subject = await openApproval(page, task);
    await noSidewaysScroll(page);
    await page.getByRole('button', { name: 'Comment on src/rules.ts:2', exact: true }).click();
    await page.locator('.line-comment-form textarea').waitFor();
    await noSidewaysScroll(page);
    await page.locator('.line-comment-form').getByLabel('Comment on src/rules.ts:2').fill('Fine on a phone.');
    await page.locator('.line-comment-form').getByRole('button', { name: 'Add comment' }).click();
    await subject.locator('.line-comment[data-comment="src/rules.ts:2"]').waitFor();
    for (const layout of ['Split', 'Unified']) {
      await subject.getByRole('button', { name: layout }).click();
      await subject.locator(`[data-file="src/rules.ts"] table.diff-${layout.toLowerCase()}`).waitFor();
      await noSidewaysScroll(page);
    }
    await subject.locator('[data-file="src/rules.ts"]').scrollIntoViewIfNeeded();
    await shot(page, 'diff-comments-phone');
    // Answering anything but "request changes" says the drafted comment is not sent, never drops it silently.
    await page.getByTestId('waiting').getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('dialog').getByTestId('comments-not-sent').getByText('Your line comment is not sent').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Reject' }).click();
    await page.locator('[data-testid="task-page"]:not([data-stage="blocked"])').waitFor({ timeout: 60_000 });
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, []);
    await context.close();
  });
});
