// GitHub webhooks over real HTTP against a real coordinator: a delivery signed with the configured
// secret is accepted and wakes the forge polls sleeping in the process; a wrong, missing or unsigned
// one is refused with 401 and wakes nothing; a re-delivered id is acknowledged and not acted on again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';
import { realClock } from '../../src/scm/clock.js';
import { signBody } from '../../src/scm/webhook-signature.js';
import { createApiServer } from '../../src/api/server.js';
import { silentLogger } from '../../src/api/logger.js';
import { DUMMY_WEBHOOK_KEY, forgeWebhookRoutes } from '../../src/api/routes/forge-webhooks.js';
import { verifySignature } from '../../src/scm/webhook-signature.js';
import { startGitHubStandIn, type GitHubStandIn } from '../support/github/stand-in.js';

const SECRET = 'webhook-secret-for-tests';
const HOUR = 3_600_000;

/** A real-clock poll sleep of an hour: `woken` turns true only if something wakes it. */
function sleeper(): { done: Promise<void>; woken: () => boolean; stop: () => void } {
  const ac = new AbortController();
  let woken = false;
  const done = realClock.sleep(HOUR, ac.signal).then(() => void (woken = true));
  return { done, woken: () => woken, stop: () => ac.abort() };
}

async function deliver(api: TestApi, o: { event: string; body: string; signature?: string | null; delivery?: string; contentType?: string }): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': o.contentType ?? 'application/json', 'X-GitHub-Event': o.event };
  const sig = o.signature === undefined ? signBody(SECRET, o.body) : o.signature;
  if (sig !== null) headers['X-Hub-Signature-256'] = sig;
  if (o.delivery) headers['X-GitHub-Delivery'] = o.delivery;
  const res = await fetch(`${api.url}/api/forge/github/webhook`, { method: 'POST', headers, body: o.body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('GitHub webhook: secret from the environment', () => {
  let api: TestApi;
  const prev = process.env.GANTRY_GITHUB_WEBHOOK_SECRET;
  before(async () => {
    process.env.GANTRY_GITHUB_WEBHOOK_SECRET = SECRET;
    api = await startTestApi('sqlite');
  });
  after(async () => {
    if (prev === undefined) delete process.env.GANTRY_GITHUB_WEBHOOK_SECRET;
    else process.env.GANTRY_GITHUB_WEBHOOK_SECRET = prev;
    await api?.close();
  });

  it('accepts a correctly signed check_run delivery and wakes a sleeping poll', async () => {
    const s = sleeper();
    const body = JSON.stringify({ action: 'completed', check_run: { head_sha: 'a'.repeat(40), conclusion: 'success' } });
    const r = await deliver(api, { event: 'check_run', body, delivery: 'd-accept-1' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.event, 'check_run');
    assert.ok(Number(r.body.woke) >= 1, `woke ${String(r.body.woke)}`);
    await s.done; // an hour-long sleep that ends here was woken, not timed out
    assert.equal(s.woken(), true);
  });

  it('a signed delivery with no JSON payload is refused (400) and can be redelivered; the form content type works; an issues event for a repository no project takes in changes nothing', async () => {
    const notJson = await deliver(api, { event: 'pull_request', body: 'payload=%7B%7D', delivery: 'd-form-1' });
    assert.equal(notJson.status, 400);
    assert.match(JSON.stringify(notJson.body), /no JSON payload.*application\/json/);
    // GitHub's other content type: the same bytes as a form field `payload`; the refused id is not remembered.
    const form = await deliver(api, { event: 'pull_request', body: 'payload=%7B%22action%22%3A%22x%22%7D', delivery: 'd-form-1', contentType: 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 200, JSON.stringify(form.body));
    assert.equal(form.body.duplicate, undefined);
    assert.equal((await deliver(api, { event: 'pull_request', body: 'payload=%7B%7D', delivery: 'd-form-1', contentType: 'application/x-www-form-urlencoded' })).body.duplicate, true);
    const body = JSON.stringify({ action: 'opened', repository: { full_name: 'someone/else' }, issue: { number: 1, title: 'x', state: 'open', labels: [{ name: 'gantry-task' }] } });
    const r = await deliver(api, { event: 'issues', body, delivery: 'd-issue-1' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.taken, []);
    assert.match(String(r.body.ignored), /no project takes issues in from someone\/else/);
  });

  for (const event of ['check_suite', 'status', 'pull_request_review', 'pull_request']) {
    it(`wakes on ${event}`, async () => {
      const s = sleeper();
      const r = await deliver(api, { event, body: '{"action":"x"}' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await s.done;
    });
  }

  it('refuses a wrong, a malformed and a missing signature with 401 and wakes nothing', async () => {
    const s = sleeper();
    const body = '{"action":"completed"}';
    const cases = [signBody('another-secret', body), signBody(SECRET, `${body} `), 'sha256=zz', 'sha1=abc', null];
    for (const signature of cases) {
      const r = await deliver(api, { event: 'check_run', body, signature });
      assert.equal(r.status, 401, `${String(signature)}: ${JSON.stringify(r.body)}`);
      assert.match(String((r.body.error as { message: string }).message), /signature/);
    }
    assert.equal(s.woken(), false);
    s.stop();
  });

  it('a re-delivered id is acknowledged without acting again', async () => {
    const body = '{"action":"submitted"}';
    const first = await deliver(api, { event: 'pull_request_review', body, delivery: 'd-replay' });
    assert.equal(first.status, 200);
    const s = sleeper();
    const again = await deliver(api, { event: 'pull_request_review', body, delivery: 'd-replay' });
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(s.woken(), false);
    s.stop();
  });

  it('answers ping, and ignores events it does not act on without waking', async () => {
    assert.equal((await deliver(api, { event: 'ping', body: '{"zen":"x"}' })).status, 200);
    const s = sleeper();
    const r = await deliver(api, { event: 'star', body: '{}' });
    assert.equal(r.status, 202);
    assert.equal(s.woken(), false);
    s.stop();
  });
});

describe('GitHub webhook: secret from scm.github.webhookSecretFile', () => {
  let api: TestApi;
  const prev = process.env.GANTRY_GITHUB_WEBHOOK_SECRET;
  before(async () => {
    delete process.env.GANTRY_GITHUB_WEBHOOK_SECRET;
    api = await startTestApi('sqlite');
  });
  after(async () => {
    if (prev !== undefined) process.env.GANTRY_GITHUB_WEBHOOK_SECRET = prev;
    await api?.close();
  });

  it('refuses every delivery while no secret is configured, then accepts one about the project\'s repository signed with the file\'s secret', async () => {
    const body = '{"action":"completed","repository":{"full_name":"acme/app"}}';
    const none = await deliver(api, { event: 'status', body });
    assert.equal(none.status, 401);
    assert.match(String((none.body.error as { message: string }).message), /no webhook secret/);

    const dir = mkdtempSync(join(tmpdir(), 'gantry-whsecret-'));
    writeFileSync(join(dir, 'secret'), `${SECRET}\n`, { mode: 0o600 });
    const r = await api.req('POST', '/api/projects', { path: makeRepo() });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const p = r.body.project as { id: string; rev: number; config: Record<string, unknown> };
    await api.coordinator.store.projects.updateConfig(p.id, { ...p.config, scm: { adapter: 'github', github: { repo: 'acme/app', webhookSecretFile: join(dir, 'secret') } } }, p.rev);

    const s = sleeper();
    const ok = await deliver(api, { event: 'status', body });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await s.done;
    const wrong = await deliver(api, { event: 'status', body, signature: signBody('nope', body) });
    assert.equal(wrong.status, 401);
  });
});

describe('GitHub webhook: a refusal costs the same work whether the repository is served or not', () => {
  it('a delivery about a repository with no candidate secret is verified against a dummy key (one HMAC), then refused', async () => {
    const verified: string[] = [];
    const routes = forgeWebhookRoutes({
      secrets: async (repo) => (repo === 'acme/app' ? { secrets: [SECRET], configured: true } : { secrets: [], configured: true }),
      verify: (secret, body, header) => {
        verified.push(secret === SECRET ? 'served' : secret === DUMMY_WEBHOOK_KEY ? 'dummy' : 'other');
        return verifySignature(secret, body, header);
      },
      wake: () => 0,
    });
    const server = createApiServer({ routes, tokens: { verify: async () => undefined }, logger: silentLogger });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      const api = { url } as TestApi;
      const about = (repo: string) => JSON.stringify({ action: 'completed', repository: { full_name: repo } });
      const unknown = await deliver(api, { event: 'status', body: about('someone/else'), signature: signBody('guess', about('someone/else')) });
      assert.equal(unknown.status, 401);
      const wrong = await deliver(api, { event: 'status', body: about('acme/app'), signature: signBody('guess', about('acme/app')) });
      assert.equal(wrong.status, 401);
      assert.deepEqual(unknown.body, wrong.body, 'the same answer');
      const none = await deliver(api, { event: 'status', body: '{"action":"completed"}', signature: signBody('guess', '{"action":"completed"}') });
      assert.equal(none.status, 401);
      assert.deepEqual(verified, ['dummy', 'served', 'dummy'], 'one verification per refusal, served or not');
    } finally {
      await server.close();
    }
  });
});

describe('GitHub webhook: a delivery that failed is acted on when redelivered', () => {
  it('an issues delivery whose handling failed (500) is not remembered: its redelivery (same id) is handled', async () => {
    let calls = 0;
    const routes = forgeWebhookRoutes({
      secrets: async () => ({ secrets: [SECRET], configured: true }),
      wake: () => 0,
      events: {
        change: async () => ({ observed: [] }),
        issue: async () => {
          calls++;
          if (calls === 1) throw new Error('database went away');
          return { taken: [{ issue: 7, taskId: 't-7', created: true }] };
        },
      },
    });
    const server = createApiServer({ routes, tokens: { verify: async () => undefined }, logger: silentLogger });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      const api = { url } as TestApi;
      const body = JSON.stringify({ action: 'labeled', repository: { full_name: 'acme/app' }, issue: { number: 7 } });
      const first = await deliver(api, { event: 'issues', body, delivery: 'd-retry-1' });
      assert.equal(first.status, 500);
      const again = await deliver(api, { event: 'issues', body, delivery: 'd-retry-1' });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body.taken, [{ issue: 7, taskId: 't-7', created: true }]);
      assert.equal((await deliver(api, { event: 'issues', body, delivery: 'd-retry-1' })).body.duplicate, true, 'handled once, then remembered');
      assert.equal(calls, 2);
    } finally {
      await server.close();
    }
  });
});


describe('GitHub webhook: a project\'s secret authenticates deliveries about that project\'s repository only', () => {
  // Two projects, each with its own secret and its own GitHub repository (A's read from its remote, B's
  // from scm.github.repo). Whoever holds A's secret must not be able to speak for B's repository.
  const TOKEN = 'ghp_webhookScopeToken123';
  const A_SECRET = 'secret-of-project-a';
  const B_SECRET = 'secret-of-project-b';
  let api: TestApi;
  let gh: GitHubStandIn;
  let root: string;
  let issue: number;
  const prev = { secret: process.env.GANTRY_GITHUB_WEBHOOK_SECRET, token: process.env.GANTRY_GITHUB_TOKEN };
  before(async () => {
    delete process.env.GANTRY_GITHUB_WEBHOOK_SECRET;
    process.env.GANTRY_GITHUB_TOKEN = TOKEN;
    root = mkdtempSync(join(tmpdir(), 'gantry-whscope-'));
    gh = await startGitHubStandIn(join(root, 'srv'), TOKEN);
    for (const name of ['a', 'b']) {
      const seed = makeRepo();
      await gh.createRepo('acme', name, seed);
      rmSync(seed, { recursive: true, force: true });
    }
    issue = gh.openIssue('acme', 'b', { title: 'Work for B', body: 'from B', labels: ['gantry-task'] });
    writeFileSync(join(root, 'a.secret'), `${A_SECRET}\n`, { mode: 0o600 });
    writeFileSync(join(root, 'b.secret'), `${B_SECRET}\n`, { mode: 0o600 });
    api = await startTestApi('sqlite');
    const store = api.coordinator.store;
    const github = (secret: string, extra: Record<string, unknown> = {}) => ({ adapter: 'github', github: { apiUrl: gh.apiUrl, webhookSecretFile: join(root, secret), intake: { label: 'gantry-task' }, ...extra } });
    await store.projects.create({ name: 'a', path: '', remote: 'https://github.com/acme/a.git', defaultBranch: 'main', config: { version: 1, scm: github('a.secret') } });
    await store.projects.create({ name: 'b', path: '', remote: gh.cloneUrl('acme', 'b'), defaultBranch: 'main', config: { version: 1, scm: github('b.secret', { repo: 'acme/b' }) } });
  });
  after(async () => {
    for (const [k, v] of [['GANTRY_GITHUB_WEBHOOK_SECRET', prev.secret], ['GANTRY_GITHUB_TOKEN', prev.token]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await api?.close();
    await gh?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const issuesPayload = (repo: string) => JSON.stringify({ action: 'labeled', repository: { full_name: repo }, issue: { number: issue, title: 'Work for B', state: 'open', labels: [{ name: 'gantry-task' }] } });
  const counts = async () => ({
    tasks: (await api.coordinator.store.db.all<{ n: number }>('SELECT COUNT(*) AS n FROM tasks', []))[0]!.n,
    events: (await api.coordinator.store.db.all<{ n: number }>('SELECT COUNT(*) AS n FROM events', []))[0]!.n,
  });

  it('a delivery about B\'s repository signed with A\'s secret is refused (401) and changes nothing; signed with B\'s it is acted on', async () => {
    const before = await counts();
    for (const repo of ['acme/b', 'ACME/B']) {
      const s = sleeper();
      const forged = await deliver(api, { event: 'issues', body: issuesPayload(repo), signature: signBody(A_SECRET, issuesPayload(repo)), delivery: `d-forged-${repo}` });
      assert.equal(forged.status, 401, JSON.stringify(forged.body));
      const woke = await deliver(api, { event: 'pull_request', body: JSON.stringify({ action: 'closed', repository: { full_name: repo }, pull_request: { number: 1, head: { ref: 'gantry/x' } } }), signature: signBody(A_SECRET, JSON.stringify({ action: 'closed', repository: { full_name: repo }, pull_request: { number: 1, head: { ref: 'gantry/x' } } })) });
      assert.equal(woke.status, 401, JSON.stringify(woke.body));
      assert.equal(s.woken(), false, 'a refused delivery wakes nothing');
      s.stop();
    }
    // A delivery naming no repository, or one no project has, cannot be vouched for by any project's secret.
    for (const body of ['{"action":"completed"}', JSON.stringify({ action: 'completed', repository: { full_name: 'someone/else' } })]) {
      assert.equal((await deliver(api, { event: 'status', body, signature: signBody(A_SECRET, body) })).status, 401, body);
    }
    assert.deepEqual(await counts(), before, 'no task, no event');
    assert.equal(gh.requests.length, 0, 'GitHub was not asked about B\'s issue');

    // The control: B's own secret (its repository named in another case) is accepted and takes the issue in.
    const ok = await deliver(api, { event: 'issues', body: issuesPayload('Acme/b'), signature: signBody(B_SECRET, issuesPayload('Acme/b')), delivery: 'd-b-own' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((ok.body.taken as { created: boolean }[])[0]?.created, true);
    // And A's secret still speaks for A's repository (read from A's remote).
    const aBody = JSON.stringify({ action: 'completed', repository: { full_name: 'acme/a' } });
    assert.equal((await deliver(api, { event: 'status', body: aBody, signature: signBody(A_SECRET, aBody) })).status, 200);
  });

  it('GANTRY_GITHUB_WEBHOOK_SECRET, when set, stays valid for every repository', async () => {
    process.env.GANTRY_GITHUB_WEBHOOK_SECRET = 'process-wide-secret';
    try {
      const body = JSON.stringify({ action: 'completed', repository: { full_name: 'acme/b' } });
      assert.equal((await deliver(api, { event: 'status', body, signature: signBody('process-wide-secret', body) })).status, 200);
    } finally {
      delete process.env.GANTRY_GITHUB_WEBHOOK_SECRET;
    }
  });
});
