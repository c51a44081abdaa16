// A webhook delivery wakes only the forge polls it is about. Two `pr-review` waits on two pull requests
// and a hosted-CI wait on a third sleep an hour between looks (GitHub adapter, real git, the GitHub
// stand-in); a signed delivery about one pull request goes through the real webhook route over real
// HTTP: that wait looks again (five API calls), the others sleep on and GitHub hears nothing about
// their pull requests.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { GitHubScm, githubSettings } from '../../src/scm/github.js';
import { HostedChecks } from '../../src/scm/hosted-checks.js';
import { ForgeWake, wakeableClock } from '../../src/scm/clock.js';
import { Mirror } from '../../src/workspace/mirror.js';
import { createApiServer } from '../../src/api/server.js';
import { silentLogger } from '../../src/api/logger.js';
import { forgeWebhookRoutes } from '../../src/api/routes/forge-webhooks.js';
import { signBody } from '../../src/scm/webhook-signature.js';
import type { CheckResult, ReviewWaitResult } from '../../src/ports/engine.js';
import { makeRepo } from '../support/git.js';
import { gitAsync } from '../support/git-http.js';
import { startGitHubStandIn, type GitHubStandIn } from '../support/github/stand-in.js';

const TOKEN = 'ghp_forgeWakeToken0123456789';
const SECRET = 'forge-wake-secret';
const HOUR = 3_600_000;

async function until<T>(check: () => T | undefined | false, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = check();
    if (v) return v;
    await delay(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('a webhook delivery wakes only the polls it is about', () => {
  let gh: GitHubStandIn;
  let root: string;
  let hooks: { url: string; close(): Promise<void> };
  const wake = new ForgeWake();
  interface Wait { branch: string; head: string; stop: AbortController; looks: number; done?: Promise<ReviewWaitResult | CheckResult[]> }
  const waits: Wait[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-wake-'));
    gh = await startGitHubStandIn(join(root, 'srv'), TOKEN);
    const seed = makeRepo({ 'README.md': '# app\n' });
    await gh.createRepo('acme', 'app', seed);
    rmSync(seed, { recursive: true, force: true });
    const mirror = Mirror.of(join(root, 'home'), { dirName: 'app', remote: gh.cloneUrl('acme', 'app') });
    await mirror.fetch(['main']);
    // The adapter sleeps on a clock this test's route wakes (the coordinator's is the process-wide one).
    const clock = wakeableClock(wake);
    const scm = new GitHubScm(mirror, githubSettings({ apiUrl: gh.apiUrl }, 'https://github.com/acme/app.git'), TOKEN, clock);
    for (const n of [1, 2, 3]) {
      const branch = `gantry/t-${n}`;
      const ws = join(root, `ws${n}`);
      await gitAsync(mirror.path, 'worktree', 'add', '-q', '-b', branch, ws, 'main');
      writeFileSync(join(ws, `f${n}.txt`), `${n}\n`);
      await gitAsync(ws, 'add', '-A');
      await gitAsync(ws, 'commit', '-q', '-m', `work ${n}`);
      const w: Wait = { branch, head: await gitAsync(ws, 'rev-parse', 'HEAD'), stop: new AbortController(), looks: 0 };
      waits.push(w);
      const onPull = async (): Promise<void> => void w.looks++;
      const task = { taskId: `t-${n}`, branch, base: 'main', title: `Task ${n}` };
      // 1 and 2 wait on reviews; 3 on hosted CI (the stand-in reports none, so it waits on).
      w.done = n < 3
        ? scm.awaitReview({ workspace: ws, ...task, approvals: 1, everyMs: HOUR, timeoutMs: 10 * HOUR, signal: w.stop.signal, onPull })
        : new HostedChecks(clock).run(ws, [{ name: 'ci', hosted: true, pollSeconds: 3600, timeout: 36000 }], { logDir: join(root, 'logs'), signal: w.stop.signal, target: { scm, ...task, onPull } });
      await until(() => w.looks === 1 && wake.sleepers() === n, `wait ${n} looked once and sleeps`);
    }
    const api = createApiServer({
      routes: forgeWebhookRoutes({ secrets: async () => ({ secrets: [SECRET], configured: true }), wake: (t) => wake.wake(t) }),
      tokens: { verify: async () => undefined }, logger: silentLogger,
    });
    hooks = { url: (await api.listen(0, '127.0.0.1')).url, close: () => api.close() };
  });
  after(async () => {
    for (const w of waits) w.stop.abort();
    await Promise.all(waits.map((w) => w.done));
    await hooks?.close();
    await gh.close();
    rmSync(root, { recursive: true, force: true });
  });

  const deliver = async (event: string, payload: unknown): Promise<Record<string, unknown>> => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${hooks.url}/api/forge/github/webhook`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': event, 'X-Hub-Signature-256': signBody(SECRET, body) } });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  };
  /** The API calls since `from` about wait n's pull request (its number, or its head's check runs and status). */
  const callsAbout = (from: number, n: number): string[] => gh.requests.slice(from).map((r) => r.path).filter((p) => p.includes(`/pulls/${n}`) || p.includes(waits[n - 1]!.head));

  it('a review on pull request 1 wakes the wait on pull request 1 only', async () => {
    const [one, two, three] = waits as [Wait, Wait, Wait];
    assert.deepEqual(gh.pulls().map((p) => [p.number, p.head]), [[1, one.branch], [2, two.branch], [3, three.branch]]);
    const from = gh.requests.length;
    const answer = await deliver('pull_request_review', { action: 'submitted', repository: { full_name: 'Acme/App' }, review: { state: 'commented' }, pull_request: { number: 1, head: { ref: one.branch, sha: one.head } } });
    assert.equal(answer.woke, 1, JSON.stringify(answer));
    await until(() => one.looks === 2 && wake.sleepers() === 3, 'wait 1 looked again and sleeps');
    assert.equal(callsAbout(from, 1).length, 5, `one look: the pull request, its reviews and review comments, its check runs and status: ${callsAbout(from, 1).join(' ')}`);
    assert.deepEqual([...callsAbout(from, 2), ...callsAbout(from, 3)], [], 'nothing was asked about pull requests 2 and 3');
    assert.deepEqual([two.looks, three.looks], [1, 1]);
  });

  it('a status on wait 2\'s head wakes wait 2 only; a delivery about another repository or another branch wakes nothing', async () => {
    const [one, two, three] = waits as [Wait, Wait, Wait];
    assert.equal((await deliver('check_suite', { action: 'completed', repository: { full_name: 'acme/other' }, check_suite: { head_branch: two.branch, head_sha: two.head, pull_requests: [] } })).woke, 0);
    assert.equal((await deliver('pull_request', { action: 'synchronize', repository: { full_name: 'acme/app' }, pull_request: { number: 9, head: { ref: 'gantry/t-9', sha: 'f'.repeat(40) } } })).woke, 0);
    const from = gh.requests.length;
    assert.equal((await deliver('status', { repository: { full_name: 'acme/app' }, sha: two.head, state: 'success', branches: [] })).woke, 1);
    await until(() => two.looks === 2 && wake.sleepers() === 3, 'wait 2 looked again and sleeps');
    assert.deepEqual([...callsAbout(from, 1), ...callsAbout(from, 3)], []);
    assert.deepEqual([one.looks, three.looks], [2, 1]);
  });

  it('a check run on pull request 3 wakes the hosted-CI wait only', async () => {
    const [one, two, three] = waits as [Wait, Wait, Wait];
    const from = gh.requests.length;
    const answer = await deliver('check_run', { action: 'completed', repository: { full_name: 'acme/app' }, check_run: { head_sha: three.head, check_suite: { head_branch: three.branch }, pull_requests: [{ number: 3, head: { ref: three.branch } }] } });
    assert.equal(answer.woke, 1);
    await until(() => three.looks === 2 && wake.sleepers() === 3, 'wait 3 looked again and sleeps');
    assert.deepEqual([...callsAbout(from, 1), ...callsAbout(from, 2)], []);
    assert.deepEqual([one.looks, two.looks], [2, 2]);
  });
});
