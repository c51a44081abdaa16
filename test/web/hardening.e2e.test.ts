// The dashboard under the coordinator's security headers, in a real browser: every page works with
// the Content-Security-Policy in force (no violation, no console error), the page may not be
// framed, and the bundle arrives compressed and cached by content hash.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { Task } from '../../src/domain/task.js';
import { makeRepo } from '../support/git.js';
import { browserUnavailable, launchBrowser, signedIn, startDaemon, type Daemon } from './browser.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const unavailable = browserUnavailable();
if (unavailable && inCI) throw new Error(`CI=true but ${unavailable}: browser tests are mandatory in CI`);

describe('dashboard under CSP and hardened HTTP', { skip: unavailable ?? false }, () => {
  let d: Daemon;
  let browser: Browser;
  let repo: string;
  before(async () => {
    [d, browser] = await Promise.all([startDaemon({ args: ['--factories', '0'] }), launchBrowser()]);
    repo = makeRepo();
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('every page renders with the CSP in force and logs no error', async () => {
    const project = (await d.req<{ project: { id: string } }>('POST', '/api/projects', { path: repo, name: 'csp' })).body.project.id;
    const task = (await d.req<{ task: Task }>('POST', '/api/tasks', { title: 'Under CSP', body: 'b', project })).body.task;
    const { context, page } = await signedIn(browser, d, '/');
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
    await page.evaluate(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
    const doc = await page.request.get(`${d.url}/`);
    const csp = doc.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(doc.headers()['x-content-type-options'], 'nosniff');
    assert.equal(doc.headers()['x-frame-options'], 'DENY');
    assert.equal(doc.headers()['cache-control'], 'no-cache');
    for (const path of ['/', `/tasks/${task.id}`, '/fleet', '/settings']) {
      await page.evaluate((p) => {
        history.pushState(null, '', p);
        dispatchEvent(new PopStateEvent('popstate'));
      }, path);
      await page.locator('[data-testid="conn"].conn-live').waitFor();
      await page.waitForLoadState('networkidle');
    }
    // A fresh load of a deep link (the app shell) under the same policy.
    await page.goto(`${d.url}/tasks/${task.id}`);
    await page.locator('[data-testid="conn"].conn-live').waitFor();
    await page.getByText('Under CSP').first().waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('serves the bundle compressed and immutable, and refuses to be framed', async () => {
    const { context, page } = await signedIn(browser, d, '/');
    const script = await page.locator('script[type="module"]').getAttribute('src');
    assert.ok(script?.startsWith('/assets/'));
    const js = await page.request.get(`${d.url}${script}`, { headers: { 'Accept-Encoding': 'gzip, br' } });
    assert.equal(js.status(), 200);
    assert.match(js.headers()['content-encoding'] ?? '', /^(br|gzip)$/);
    assert.equal(js.headers()['cache-control'], 'public, max-age=31536000, immutable');
    assert.ok(js.headers().etag);
    const missing = await page.request.get(`${d.url}/assets/index-00000000.js`);
    assert.equal(missing.status(), 404, 'a missing hashed asset is a 404, never the app shell');
    assert.doesNotMatch(missing.headers()['cache-control'] ?? '', /immutable/);
    // Framed from another origin: the browser refuses to render the dashboard.
    const framer = await context.newPage();
    await framer.setContent(`<iframe id="f" src="${d.url}/"></iframe>`);
    const frame = await (await framer.$('#f'))!.contentFrame();
    await framer.waitForLoadState('load');
    const framedRoot = frame ? await frame.$('#root').catch(() => null) : null;
    assert.equal(framedRoot, null, 'the dashboard never renders inside a frame');
    await context.close();
  });
});
