// GitHub pull requests end to end (issue #13 item 5): a factory, the pipeline engine, the scripted
// agent as a real child process, real git over smart HTTP, and the GitHub adapter talking through
// Octokit to the local stand-in (test/support/github/stand-in.ts). Covers: the PR opened with the
// task and a dashboard link, hosted CI red → the fixer gets its output → green, a merge at a stale
// head refused (409) then retried, branch protection refusing the merge parks it (no failure loop)
// until a person answers, and the token in no event, no log and not in the agent's environment.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../src/store/open.js';
import type { SqlStore } from '../../../src/store/sql-store.js';
import type { FleetCoordinator } from '../../../src/fleet/coordinator.js';
import type { Factory } from '../../../src/fleet/factory.js';
import { freshDb, type TestDb } from '../../support/db.js';
import { makeRepo } from '../../support/git.js';
import { gitAsync } from '../../support/git-http.js';
import { startGitHubStandIn, type GitHubStandIn } from '../../support/github/stand-in.js';
import { newTask } from '../../support/fixtures.js';
import { createApiServer } from '../../../src/api/server.js';
import { silentLogger } from '../../../src/api/logger.js';
import { forgeWebhookRoutes } from '../../../src/api/routes/forge-webhooks.js';
import { intakeRoutes } from '../../../src/api/routes/intake.js';
import { startIntakePolls, syncProjectIssues, type IntakeReport } from '../../../src/app/issue-intake.js';
import { forgeWake } from '../../../src/scm/clock.js';
import { signBody } from '../../../src/scm/webhook-signature.js';
import { engineParts, fleet, startFactory, until, type EngineParts } from './rig.js';

const TOKEN = 'ghp_e2eSecretToken9876543210';

const yaml = (apiUrl: string, root: string) => `
version: 1
sandbox: { mode: off }
scm:
  adapter: github
  github: { repo: acme/app, apiUrl: "${apiUrl}", dashboardUrl: "http://dash.example", labels: [gantry, agent-work], intake: { label: gantry-task, pollSeconds: 10 } }
defaults: { pipeline: plain, agent: scripted }
checks:
  - { name: ci, hosted: true, pollSeconds: 0.1, timeout: 120 }
pipelines:
  pr:
    steps:
      - { id: implement, kind: agent, role: impl }
      - { id: checks, kind: checks, role: fixer, maxFixes: 2 }
      - { id: merge, kind: merge }
  plain:
    steps: [ { id: implement, kind: agent, role: note }, { id: merge, kind: merge } ]
  reviewed:
    steps:
      - { id: implement, kind: agent, role: reviewed }
      - { id: pr, kind: pr-review, approvals: 1, pollSeconds: 0.1, timeout: 120 }
      - { id: merge, kind: merge }
  patient:
    steps:
      - { id: implement, kind: agent, role: patient }
      - { id: pr, kind: pr-review, approvals: 1, pollSeconds: 0.1, timeout: 0.5 }
      - { id: merge, kind: merge }
  hooked:
    steps:
      - { id: implement, kind: agent, role: hooked }
      - { id: pr, kind: pr-review, approvals: 1, pollSeconds: 3600, timeout: 7200 }
      - { id: merge, kind: merge }
agents:
  scripted:
    roles:
      impl: [ { run: "echo \${GANTRY_SESSION_ID}-bad > value.txt" }, { commit: "value" } ]
      fixer: [ { run: "echo \${GANTRY_SESSION_ID}-good > value.txt" }, { commit: "fix value" } ]
      note: [ { run: "echo \${GANTRY_SESSION_ID} > note.txt" }, { commit: "a note" } ]
      reviewed: [ { run: "echo \${GANTRY_SESSION_ID} > reviewed.txt" }, { commit: "reviewed work" } ]
      hooked: [ { run: "echo \${GANTRY_SESSION_ID} > hooked.txt" }, { commit: "hooked work" } ]
      patient: [ { run: "env > ${root}/agent-env.txt; echo \${GANTRY_SESSION_ID} > patient.txt" }, { commit: "patient work" } ]
`;

/** Every file under dir, as text (logs, session transcripts, outboxes …). */
function allText(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    if (s.isDirectory()) out += allText(p);
    else if (s.size < 5_000_000) out += readFileSync(p, 'latin1');
  }
  return out;
}

describe('GitHub pull requests through the engine', () => {
  let gh: GitHubStandIn;
  let root: string;
  let db: TestDb;
  let store: SqlStore;
  let c: FleetCoordinator;
  let parts: EngineParts;
  let factory: Factory;
  let projectId: string;
  const saved = process.env.GANTRY_GITHUB_TOKEN;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-gh-e2e-'));
    gh = await startGitHubStandIn(join(root, 'srv'), TOKEN);
    const seed = makeRepo({ 'README.md': '# app\n', 'value.txt': 'initial\n' });
    await gh.createRepo('acme', 'app', seed);
    rmSync(seed, { recursive: true, force: true });
    // "CI": green when value.txt says good, red with its reason otherwise.
    gh.setCi(async (sha, dir) => {
      const v = await gitAsync(dir, 'show', `${sha}:value.txt`).catch(() => '');
      return v.endsWith('-good')
        ? { checkRuns: [{ name: 'test', status: 'completed', conclusion: 'success' }], statuses: [{ context: 'lint', state: 'success' }] }
        : { checkRuns: [{ name: 'test', status: 'completed', conclusion: 'failure', output: { title: '1 test failed', text: `value.txt is "${v}": it must end in -good` } }], statuses: [{ context: 'lint', state: 'success' }] };
    });
    process.env.GANTRY_GITHUB_TOKEN = TOKEN;
    db = await freshDb('sqlite');
    store = await openStore(db.target, { pollMs: 100 });
    const p = await store.projects.create({ name: 'app', path: '', remote: gh.cloneUrl('acme', 'app'), defaultBranch: 'main', config: (await import('yaml')).parse(yaml(gh.apiUrl, root)) as Record<string, unknown> });
    projectId = p.id;
    c = fleet(store, { leaseTtlMs: 30_000, reapIntervalMs: 500 });
    c.start();
    parts = engineParts(store, join(root, 'f1'), 'f1');
    factory = startFactory(c, parts, join(root, 'f1'), 'f1', 1);
    await factory.start();
  });
  after(async () => {
    await factory.drain();
    await c.stop();
    await store.close();
    await db.dispose();
    await gh.close();
    if (saved === undefined) delete process.env.GANTRY_GITHUB_TOKEN;
    else process.env.GANTRY_GITHUB_TOKEN = saved;
    rmSync(root, { recursive: true, force: true });
  });

  const settle = async (id: string) => {
    try {
      return await until(async () => {
        const t = (await store.tasks.get(id))!;
        const run = await parts.runs.current(id);
        if (run?.run.state === 'parked') return 'parked';
        return ['shipped', 'failed', 'dead_letter'].includes(t.stage) ? t.stage : undefined;
      }, `task ${id} settles`, 120_000);
    } catch (e) {
      const snap = await parts.runs.current(id);
      const t = await store.tasks.get(id);
      throw new Error(`${String(e)}: task ${t?.stage}/${t?.blockedReason}, run ${snap?.run.state}, steps ${snap?.steps.map((s) => `${s.stepId}:${s.state}`).join(' ')}`);
    }
  };

  it('opens the PR, feeds red CI to the fixer until green, and merges through the API after a stale-head refusal', async () => {
    let raced = false;
    gh.beforeNextMerge(async () => {
      // Someone pushes to the PR branch right before the merge: GitHub answers 409.
      const pr = gh.pulls()[0]!;
      const other = join(root, 'racer');
      await gitAsync(root, 'clone', '-q', '-b', pr.head, gh.gitDir('acme', 'app'), other);
      writeFileSync(join(other, 'racer.txt'), 'late\n');
      await gitAsync(other, 'add', '-A');
      await gitAsync(other, 'commit', '-q', '-m', 'late push');
      await gitAsync(other, 'push', '-q', 'origin', pr.head);
      raced = true;
    });
    const t = (await store.tasks.submit(newTask(projectId, { title: 'Make value good', body: 'value.txt must end in -good', pipeline: 'pr', agent: 'scripted' }))).task;
    assert.equal(await settle(t.id), 'shipped');
    assert.ok(raced, 'the merge raced a push');

    const [pr, ...more] = gh.pulls();
    assert.equal(more.length, 0, 'one pull request for the task, reused on every round');
    assert.equal(pr!.title, 'Make value good');
    assert.match(pr!.body, new RegExp(`${t.id}`));
    assert.match(pr!.body, /value\.txt must end in -good/);
    assert.match(pr!.body, new RegExp(`http://dash\\.example/#/tasks/${t.id}`));
    assert.deepEqual(pr!.labels, ['gantry', 'agent-work']);
    assert.equal(pr!.merged, true);
    assert.equal(await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', 'main'), pr!.mergeCommitSha);
    assert.match(await gitAsync(gh.gitDir('acme', 'app'), 'show', 'main:value.txt'), /-good$/);

    const snap = (await parts.runs.current(t.id))!;
    const checks = snap.steps.find((s) => s.stepId === 'checks')!;
    const rounds = checks.output!.rounds as { ok: boolean; results: { tail: string }[] }[];
    assert.deepEqual(rounds.map((r) => r.ok), [false, true], 'red, then the fixer, then green');
    // The merge step reports the pull request's page: the board's card links it.
    const merge = snap.steps.find((s) => s.kind === 'merge')!;
    assert.equal(merge.output!.prUrl, `https://github.example/acme/app/pull/${pr!.number}`);
    assert.match(rounds[0]!.results[0]!.tail, /it must end in -good/, 'the failing CI output is what the fixer got');
    // The stale head was refused (409: nothing merged, the lost-race path), then the retry merged.
    assert.deepEqual(gh.requests.filter((r) => r.path.endsWith('/merge')).map((r) => r.status), [409, 200]);
    assert.ok(gh.requests.every((r) => r.authed), 'every API call carried the token');
  });

  it('branch protection refusing the merge parks the run; an approval and an answer merge it', async () => {
    gh.protect('acme', 'app', 'main', { requiredApprovals: 1 });
    const t = (await store.tasks.submit(newTask(projectId, { title: 'Protected change', body: 'needs a review', pipeline: 'plain', agent: 'scripted' }))).task;
    const end = await settle(t.id);
    const snap = (await parts.runs.current(t.id))!;
    assert.equal(end, 'parked', `${snap.run.failureKind}: ${snap.run.failureMessage}`);
    assert.equal(snap.run.waiting?.kind, 'merge_review');
    assert.match(snap.run.waiting!.question, /At least 1 approving review is required/);
    const merges = gh.requests.filter((r) => r.path.endsWith('/merge'));
    assert.equal(merges.at(-1)!.status, 405);
    const pr = gh.pulls().find((p) => p.title === 'Protected change')!;
    assert.equal(pr.merged, false);
    // Still parked a while later: no retry loop against the refusal.
    const before = gh.requests.filter((r) => r.path.endsWith('/merge')).length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(gh.requests.filter((r) => r.path.endsWith('/merge')).length, before, 'no merge retried while parked');

    await gh.review('acme', 'app', pr.number, { user: 'maintainer', state: 'APPROVED' });
    await until(async () => (await store.tasks.get(t.id))!.stage === 'blocked', 'the task is released, awaiting a person');
    await parts.actions.act(t.id, { action: 'merge' });
    assert.equal(await settle(t.id), 'shipped');
    assert.equal(gh.pulls().find((p) => p.title === 'Protected change')!.merged, true);
    gh.protect('acme', 'app', 'main', null);
  });

  it('changes requested with a line comment send the agent back with path:line; an approval passes the gate', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'Reviewed change', body: 'a reviewer will look', pipeline: 'reviewed', agent: 'scripted' }))).task;
    const pr = await until(() => gh.pulls().find((p) => p.title === 'Reviewed change'), 'the pull request is opened');
    const firstHead = await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', `refs/heads/${pr.head}`);
    await gh.review('acme', 'app', pr.number, { user: 'ann', state: 'CHANGES_REQUESTED', body: 'almost', comments: [{ path: 'reviewed.txt', line: 1, body: 'explain this value' }] });
    // The producer re-runs with the review as its feedback, and its new head is pushed to the same PR.
    await until(async () => Number((await parts.runs.current(t.id))!.steps[0]!.kindState.reworks ?? 0) >= 1, 'the implement step is sent back');
    await until(async () => (await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', `refs/heads/${pr.head}`)) !== firstHead, 'the reworked head is pushed');
    const snap = (await parts.runs.current(t.id))!;
    const feedback = String(snap.steps[0]!.kindState.feedback);
    assert.match(feedback, /Changes requested on pull request #\d+/);
    assert.match(feedback, /ann requested changes: almost/);
    assert.match(feedback, /- reviewed\.txt:1: explain this value/);
    assert.notEqual((await store.tasks.get(t.id))!.stage, 'shipped', 'not merged while the request stands on an earlier head');
    await gh.review('acme', 'app', pr.number, { user: 'ann', state: 'APPROVED' });
    assert.equal(await settle(t.id), 'shipped');
    assert.equal(gh.pulls().filter((p) => p.title === 'Reviewed change').length, 1, 'the same pull request throughout');
    assert.equal(gh.pulls().find((p) => p.title === 'Reviewed change')!.merged, true);
    const events = await store.events.list({ taskId: t.id, limit: 1000 });
    assert.ok(events.some((e) => e.type === 'step.rework' && e.payload.step === 'pr'), 'the rework came from the pr-review step');
  });

  it('a signed pull_request_review webhook wakes a pr-review step polling hourly, and it merges', async () => {
    // The webhook route as the coordinator mounts it (the process's forge wake), over real HTTP.
    const secret = 'e2e-webhook-secret';
    const api = createApiServer({ routes: forgeWebhookRoutes({ secrets: async () => [secret], wake: () => forgeWake.wake() }), tokens: { verify: async () => undefined }, logger: silentLogger });
    const { url } = await api.listen(0, '127.0.0.1');
    try {
      const t = (await store.tasks.submit(newTask(projectId, { title: 'Hooked change', body: 'reviewed later', pipeline: 'hooked', agent: 'scripted' }))).task;
      const pr = await until(() => gh.pulls().find((p) => p.title === 'Hooked change'), 'the pull request is opened');
      // The step has looked at the reviews once (none yet): its next look is an hour away.
      await until(() => gh.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/pulls/${pr.number}/reviews`)), 'the step looked at the reviews');
      await gh.review('acme', 'app', pr.number, { user: 'ann', state: 'APPROVED' });
      const body = JSON.stringify({ action: 'submitted', review: { state: 'approved' }, pull_request: { number: pr.number } });
      const bad = await fetch(`${url}/api/forge/github/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'pull_request_review', 'X-Hub-Signature-256': signBody('wrong', body) }, body });
      assert.equal(bad.status, 401);
      const res = await fetch(`${url}/api/forge/github/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'pull_request_review', 'X-Hub-Signature-256': signBody(secret, body) }, body });
      assert.equal(res.status, 200);
      assert.ok(Number(((await res.json()) as { woke: number }).woke) >= 1, 'a sleeping poll was woken');
      assert.equal(await settle(t.id), 'shipped');
      assert.equal(gh.pulls().find((p) => p.title === 'Hooked change')!.merged, true);
    } finally {
      await api.close();
    }
  });

  it('no review verdict within the timeout parks pr-review as an approval a person answers', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'Nobody reviews', body: 'quiet repo', pipeline: 'patient', agent: 'scripted' }))).task;
    assert.equal(await settle(t.id), 'parked');
    const run = (await parts.runs.current(t.id))!.run;
    assert.equal(run.waiting?.kind, 'approval');
    assert.equal(run.waiting?.stepId, 'pr');
    assert.match(run.waiting!.question, /0 of 1 approving review/);
    await until(async () => (await store.tasks.get(t.id))!.stage === 'blocked', 'the task is released, awaiting a person');
    await parts.actions.act(t.id, { action: 'approve' });
    assert.equal(await settle(t.id), 'shipped');
    assert.equal(gh.pulls().find((p) => p.title === 'Nobody reviews')!.merged, true);
  });

  it('issue intake: labelled issues become tasks once, over HTTP and by the poll; each outcome is echoed to its issue once', async () => {
    const home = join(root, 'coord');
    const first = gh.openIssue('acme', 'app', { title: 'Add a greeting', body: 'say hello', labels: ['gantry-task'] });
    gh.openIssue('acme', 'app', { title: 'Not for the bot', body: 'a person does this', labels: ['bug'] });
    // The route as the coordinator mounts it, over real HTTP.
    const api = createApiServer({ routes: intakeRoutes(store, { sync: (p) => syncProjectIssues(store, home, p) }), tokens: store.tokens, logger: silentLogger });
    const { url } = await api.listen(0, '127.0.0.1');
    const { token } = await store.tokens.create({ name: 'intake-e2e', role: 'operator' });
    const sync = async (project = projectId): Promise<{ status: number; body: IntakeReport & { error?: { message: string; hint?: string } } }> => {
      const res = await fetch(`${url}/api/projects/${project}/issues/sync`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: '{}' });
      return { status: res.status, body: (await res.json()) as IntakeReport & { error?: { message: string } } };
    };
    try {
      const [a, b] = await Promise.all([sync(), sync()]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      const taken = [...a.body.created, ...a.body.existing, ...b.body.created, ...b.body.existing];
      assert.deepEqual([...new Set(taken.map((x) => x.issue))], [first], 'only the labelled issue is taken in');
      assert.equal(new Set(taken.map((x) => x.taskId)).size, 1, 'one task for it, however many syncs race');
      const taskId = taken[0]!.taskId;
      const task = (await store.tasks.get(taskId))!;
      assert.equal(task.title, 'Add a greeting');
      assert.match(task.body, /say hello[\s\S]*From issue #\d+: https:\/\/github\.example\/acme\/app\/issues\/\d+/);
      assert.equal(await settle(taskId), 'shipped');

      const echoed = await sync();
      assert.deepEqual(echoed.body.echoed.map((e) => [e.issue, e.taskId, e.label]), [[first, taskId, 'gantry:shipped']]);
      const pr = gh.pulls().find((p) => p.title === 'Add a greeting')!;
      const issue = () => gh.issues().find((i) => i.number === first)!;
      assert.deepEqual(issue().comments.map((c) => c.body), [`Gantry shipped task ${taskId} (pull request https://github.example/acme/app/pull/${pr.number}, merge ${pr.mergeCommitSha}).`]);
      assert.ok(issue().labels.includes('gantry:shipped'));
      const again = await sync();
      assert.deepEqual([again.body.created.length, again.body.existing.length, again.body.echoed.length], [0, 1, 0], 'nothing new, nothing echoed twice');
      assert.equal(issue().comments.length, 1);

      // A project that takes no issues in: a clear error, and nothing changes.
      const other = await store.projects.create({ name: 'plain-app', path: '', remote: gh.cloneUrl('acme', 'app'), defaultBranch: 'main', config: {} });
      const refused = await sync(other.id);
      assert.equal(refused.status, 400);
      assert.match(JSON.stringify(refused.body), /takes no issues in.*scm\.github\.intake\.label/);
    } finally {
      await api.close();
    }

    // The coordinator's poll takes a new labelled issue in on its own.
    const later = gh.openIssue('acme', 'app', { title: 'Polled in', body: 'found by the poll', labels: ['gantry-task'] });
    const polls = startIntakePolls(store, home, { warn: (m, f) => assert.fail(`${m} ${JSON.stringify(f)}`) }, 50);
    try {
      const polled = await until(async () => (await store.tasks.list({ projectId, limit: 500 })).tasks.find((t) => t.title === 'Polled in'), 'the poll takes the issue in');
      assert.equal(polled.idempotencyKey, `github:acme/app#${later}`);
    } finally {
      polls.stop();
    }
  });

  it('the token is in no event and no log', async () => {
    const events = JSON.stringify(await store.events.list({ limit: 10_000 }));
    assert.ok(events.length > 1000, 'there are events to look through');
    assert.ok(!events.includes(TOKEN), 'no event holds the token');
    assert.ok(!events.includes(Buffer.from(`x-access-token:${TOKEN}`).toString('base64')), 'nor its basic-auth form');
    const agentEnv = readFileSync(join(root, 'agent-env.txt'), 'utf8');
    assert.match(agentEnv, /GANTRY_SESSION_ID=/, 'the agent\'s environment was captured');
    assert.ok(!agentEnv.includes(TOKEN), 'the agent never gets the token');
    const logs = allText(join(root, 'f1', 'logs'));
    assert.ok(logs.length > 0, 'there are logs to look through');
    assert.ok(!logs.includes(TOKEN), 'no log holds the token');
  });
});
