// What needs a person, in a real browser against the real coordinator (the code `gantry up` runs):
// a real (scripted) agent runs and writes its session log, then reports over HTTP that it waits for
// input, exactly as its hook would; the task lands in "Needs you", the bell counts it, the task page
// shows the agent's transcript, the person messages the agent and clears the notification.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { Task } from '../../src/domain/task.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, signedIn, shot } from './browser.js';
import { ActivityHub } from '../../src/agents/activity/hub.js';
import { createAgentLauncher } from '../../src/agents/launcher.js';
import { sessionLogDirs } from '../../src/app/coordinator.js';
import { resolveHome } from '../../src/app/home.js';
import { collect, sandbox } from '../agents/support.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

describe('needs-you and notifications in a browser', { skip: unavailable ?? false }, () => {
  let api: TestApi;
  let browser: Browser;
  let project: string;
  before(async () => {
    [api, browser] = await Promise.all([startTestApi('sqlite'), launchBrowser()]);
    project = ((await api.req('POST', '/api/projects', { path: makeRepo(), name: 'shop' })).body.project as { id: string }).id;
  });
  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('an agent waiting for input shows in Needs you and the bell; messaging it and resolving clears it', async (t) => {
    if (!('lifecycle' in api.coordinator)) {
      t.skip('this build has no lifecycle manager');
      return;
    }
    await api.req('POST', '/api/tasks', { title: 'Add coupon codes to checkout', project });
    const task = (await api.req('POST', '/api/tasks', { title: 'Migrate payments to the v2 API', project })).body.task as Task;
    const { context, page } = await signedIn(browser, api, '/');
    await page.locator(`[data-testid="column-queued"] [data-task="${task.id}"]`).waitFor();

    // The runtime starts an agent session for the task; the agent's hook then reports it is waiting.
    const m = api.coordinator.lifecycle.manager;
    const s = await m.create({ taskId: task.id, agent: 'scripted' });
    await m.onSpawned(s.id, { launchGeneration: 1 });
    const box = sandbox('people');
    t.after(() => box.cleanup());
    const launcher = createAgentLauncher({ logsDir: sessionLogDirs(resolveHome(api.home))[0]!, sink: new ActivityHub(), clock: Date });
    const script = [{ say: 'Payments v1 is called in three places.' }, { run: 'echo grep -rn v1/payments' }, { ask: { question: 'Keep the v1 fallback for refunds?', options: ['yes', 'no'] } }];
    await collect(launcher.launch({ agent: 'scripted', sessionId: s.id, launchGeneration: 1, workspace: box.workspace, prompt: 'go', role: 'implementer', agentsConfig: { scripted: { roles: { implementer: script } } } }));
    const posted = await api.req('POST', `/api/sessions/${s.id}/observations`, { kind: 'activity', value: 'waiting_input', source: 'hook', launchGeneration: 1 });
    assert.equal(posted.status, 200, JSON.stringify(posted.body));

    const lane = page.getByTestId('needs-you');
    await lane.locator(`[data-task="${task.id}"]`).getByText('Needs input', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Notifications (1 open)' }).waitFor();
    await shot(page, 'needs-you');

    // Message the agent from the task page, through the confirmation dialog.
    await lane.locator(`[data-task="${task.id}"]`).click();
    const row = page.locator(`[data-session="${s.id}"]`);
    await row.getByText('needs input').waitFor();
    const transcript = row.getByTestId('transcript');
    await transcript.getByText('Payments v1 is called in three places.').waitFor();
    await transcript.getByText('Keep the v1 fallback for refunds? (yes · no)').waitFor();
    await shot(page, 'transcript');
    await row.getByRole('button', { name: 'Message' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Message').fill('Use the v2 endpoints; keep the v1 fallback for refunds.');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.waitFor({ state: 'detached' });
    const inputs = (await api.req('GET', `/api/sessions/${s.id}`)).body.inputs as Array<{ text: string; state: string }>;
    assert.deepEqual(inputs.map((i) => i.text), ['Use the v2 endpoints; keep the v1 fallback for refunds.']);

    // The notifications panel: acknowledge, then resolve; the task leaves "Needs you".
    await page.getByTestId('bell').click();
    const panel = page.getByTestId('notifications');
    await panel.getByText('Agent needs input').waitFor();
    await shot(page, 'notifications');
    await panel.getByRole('button', { name: 'Acknowledge' }).click();
    await panel.getByText('acknowledged').waitFor();
    await panel.getByRole('button', { name: 'Resolve' }).click();
    await panel.getByText('All clear').waitFor();
    await page.getByRole('button', { name: 'Close notifications' }).click();
    await page.getByRole('link', { name: 'Board', exact: true }).first().click();
    await page.locator(`[data-testid="column-queued"] [data-task="${task.id}"]`).waitFor();
    assert.equal(await lane.locator(`[data-task="${task.id}"]`).count(), 0);
    await context.close();
  });
});
