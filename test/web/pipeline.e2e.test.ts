// The whole loop in a real browser against a real `gantry up` whose in-process factory runs the
// pipeline engine (workspaces over real git, the scripted agent as a real child process, git-remote
// merge). A question appears in "Needs you" and answering it from the page resumes the run, which
// merges and ships; a plan approved from the page advances the pipeline to implement and merge; an
// answer that lost the race to another person is refused with the reason.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Task } from '../../src/domain/task.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, shot, signedIn, startDaemon, watchPage, type Daemon } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

// The planner copies its prompt out of the worktree for the test to read: a path the sandbox grants.
const GANTRY_YAML = `
version: 1
sandbox: { grant: [ { path: "FEEDBACK_DIR", write: true } ] }
pipelines:
  ask:
    steps: [ { id: implement, kind: agent, role: asker }, { id: merge, kind: merge } ]
  gated:
    steps: [ { id: plan, kind: agent, role: planner, approval: true }, { id: implement, kind: agent, role: implementer }, { id: merge, kind: merge } ]
agents:
  scripted:
    roles:
      asker:
        attempts: [ [ { say: "Sessions need a store." }, { ask: { question: "Which store should sessions use?", options: [ postgres, sqlite ] } } ] ]
        resumed: [ { write: { path: store.txt, content: "postgres\\n" } }, { commit: "sessions on the chosen store" } ]
      planner:
        attempts:
          - [ { say: "## Plan\\n\\n1. Add **coupon.txt** with the coupon rules\\n2. <img src=x onerror=alert(1)>Nothing else" } ]
          - [ { run: "cp \\"$GANTRY_PROMPT_FILE\\" FEEDBACK_FILE" }, { say: "## Plan v2\\n\\n- Add **coupon.txt**, a table of rules" } ]
      implementer: [ { write: { path: coupon.txt, content: "10% off\\n" } }, { run: "echo $GANTRY_SESSION_ID > coupon.session" }, { commit: "coupon rules" } ]
`;

describe('the pipeline answered from the dashboard', { skip: unavailable ?? false }, () => {
  let d: Daemon;
  let browser: Browser;
  let repo: string;
  let project: string;
  const scratch = mkdtempSync(join(tmpdir(), 'gantry-feedback-'));
  const feedbackFile = join(scratch, 'prompt.txt');
  before(async () => {
    repo = makeRepo({ 'README.md': '# shop\n', 'gantry.yaml': GANTRY_YAML.replace('FEEDBACK_FILE', feedbackFile).replace('FEEDBACK_DIR', scratch) });
    [d, browser] = await Promise.all([startDaemon({ args: ['--factories', '1'], env: { GANTRY_HEARTBEAT_MS: '200' } }), launchBrowser()]);
    project = (await d.req<{ project: { id: string } }>('POST', '/api/projects', { path: repo, name: 'shop' })).body.project.id;
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
    rmSync(repo, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  const submit = async (title: string, pipeline: string): Promise<Task> => {
    const r = await d.req<{ task: Task }>('POST', '/api/tasks', { title, project, pipeline, agent: 'scripted' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.task;
  };
  const openFromLane = async (page: Page, task: Task, label: string) => {
    const card = page.getByTestId('needs-you').locator(`[data-task="${task.id}"]`);
    await card.getByText(label, { exact: true }).waitFor({ timeout: 60_000 });
    await card.click();
    await page.getByTestId('waiting').waitFor();
  };
  const onBase = (path: string) => execFileSync('git', ['-C', repo, 'show', `main:${path}`], { encoding: 'utf8' });

  it('a question appears in Needs you; answering it from the page resumes the run, which ships', async () => {
    const { context, page } = await signedIn(browser, d, '/');
    const task = await submit('Pick the session store', 'ask');
    await openFromLane(page, task, 'Question');
    await page.getByTestId('waiting').getByText('Which store should sessions use?').waitFor();
    await shot(page, 'question');
    await page.getByTestId('waiting').getByRole('button', { name: 'postgres' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'postgres' }).click();
    await page.locator('[data-testid="task-page"][data-stage="shipped"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="pipeline"] [data-step="merge"][data-state="done"]').waitFor();
    assert.equal(onBase('store.txt'), 'postgres\n', 'the resumed agent’s work is merged');
    // Both agent sessions' transcripts: the question, and the work after the answer.
    const sessions = page.getByTestId('sessions');
    await sessions.locator('details.session-log summary').nth(1).click();
    await sessions.getByText('Sessions need a store.').first().waitFor();
    await sessions.getByText('write store.txt').first().waitFor();
    await context.close();
  });

  it('an approval shows the plan in the prompt; changes requested with text reach the agent; approving ships', async () => {
    const { context, page } = await signedIn(browser, d, '/');
    const { errors, refused } = watchPage(page);
    const task = await submit('Add coupon rules', 'gated');
    await openFromLane(page, task, 'Approval');
    // The plan is in the prompt, rendered as Markdown and sanitized.
    const subject = page.getByTestId('waiting').getByTestId('approval-subject');
    await subject.locator('h2', { hasText: 'Plan' }).waitFor();
    await subject.locator('strong', { hasText: 'coupon.txt' }).waitFor();
    assert.equal(await subject.locator('img, [onerror]').count(), 0, 'markup an agent wrote cannot run in the page');
    await subject.getByText('<img src=x onerror=alert(1)>Nothing else').waitFor();
    await shot(page, 'approval');
    // Request changes: the text is required, and the rerun agent receives it in its prompt.
    await page.getByTestId('waiting').getByRole('button', { name: 'Request changes' }).click();
    const dialog = page.getByRole('dialog');
    assert.equal(await dialog.getByRole('button', { name: 'Request changes' }).isDisabled(), true, 'no empty feedback');
    await dialog.getByLabel('Feedback for the agent').fill('Put the rules in a table of rules.');
    await dialog.getByRole('button', { name: 'Request changes' }).click();
    await subject.locator('h2', { hasText: 'Plan v2' }).waitFor({ timeout: 60_000 });
    assert.match(readFileSync(feedbackFile, 'utf8'), /Put the rules in a table of rules\./);
    await page.getByTestId('waiting').getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();
    await page.locator('[data-testid="pipeline"] [data-step="implement"][data-state="done"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="task-page"][data-stage="shipped"]').waitFor({ timeout: 60_000 });
    assert.equal(onBase('coupon.txt'), '10% off\n');
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, []);
    await context.close();
  });

  it('at 390 px the plan and its changes fit the phone: no sideways scrolling', async () => {
    const { context, page } = await signedIn(browser, d, '/', { width: 390, height: 844 });
    const task = await submit('Add loyalty points', 'gated');
    await openFromLane(page, task, 'Approval');
    await page.getByTestId('approval-subject').locator('h2', { hasText: 'Plan' }).waitFor();
    await page.getByTestId('approval-subject').getByRole('button', { name: 'Show the changes' }).click();
    await page.getByTestId('approval-subject').getByTestId('diff').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 390 px`);
    await page.getByTestId('waiting').getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reject' }).click();
    await page.locator('[data-testid="task-page"]:not([data-stage="blocked"])').waitFor({ timeout: 60_000 });
    await context.close();
  });

  it('an answer that lost the race to another person is refused with the reason, changing nothing', async () => {
    const { context, page } = await signedIn(browser, d, '/');
    const task = await submit('Add gift cards', 'gated');
    await openFromLane(page, task, 'Approval');
    await page.getByTestId('waiting').getByRole('button', { name: 'Reject' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('out of scope');
    // Someone else approves first (the CLI, another browser).
    assert.equal((await d.req('POST', `/api/tasks/${task.id}/run/approve`, {})).status, 200);
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await dialog.getByRole('alert').getByText('not waiting for a person').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-testid="task-page"][data-stage="shipped"]').waitFor({ timeout: 60_000 });
    await context.close();
  });
});
