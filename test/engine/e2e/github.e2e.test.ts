// GitHub pull requests end to end (issue #13 item 5): a factory, the pipeline engine, the scripted
// agent as a real child process, real git over smart HTTP, and the GitHub adapter talking through
// Octokit to the local stand-in (test/support/github/stand-in.ts). Covers: the PR opened with the
// task and a dashboard link, hosted CI red → the fixer gets its output → green, a merge at a stale
// head refused (409) — someone else's push, which parks the run until a person says "overwrite" — then
// retried, branch protection refusing the merge parks it (no failure loop)
// until a person answers, and the token in no event, no log and not in the agent's environment.
// With the lifecycle wired as `gantry up` wires it: the PR's state and hosted CI reach the change axis
// (polls and webhooks) and the checks-failed reaction notifies; a PR a person closes parks the run
// (reopen goes on with the same PR, reject fails the task; a reopen GitHub refuses parks it again with
// the error); the `issues` webhook takes issues in.
// Runs on SQLite and PostgreSQL, one rig (stand-in, store, factory) per store.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../src/store/open.js';
import type { SqlStore } from '../../../src/store/sql-store.js';
import type { FleetCoordinator } from '../../../src/fleet/coordinator.js';
import type { Factory } from '../../../src/fleet/factory.js';
import { freshDb, storeCases, type TestDb } from '../../support/db.js';
import { randomUUID } from 'node:crypto';
import { Octokit } from '@octokit/rest';
import { forgeEvents } from '../../../src/app/forge-events.js';
import { lifecycleChanges, startLifecycle, type LifecycleRuntime } from '../../../src/app/lifecycle.js';
import { launchSessionId } from '../../../src/engine/agent-runner.js';
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
  refused:
    steps:
      - { id: implement, kind: agent, role: refused }
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
      hooked: [ { run: "echo \${GANTRY_SESSION_ID} > hooked.txt; echo \${GANTRY_SESSION_ID}-bad > value.txt" }, { commit: "hooked work, red CI" } ]
      refused: [ { run: "echo \${GANTRY_SESSION_ID} > refused.txt" }, { commit: "work whose PR is closed" } ]
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

const SECRET = 'e2e-webhook-secret';
const repository = { full_name: 'acme/app' };

for (const sc of storeCases()) describe(`GitHub pull requests through the engine (${sc.kind})`, { skip: sc.skip, timeout: 600_000 }, () => {
  let gh: GitHubStandIn;
  let life: LifecycleRuntime;
  let hooks: { url: string; close(): Promise<void> };
  let person: Octokit;
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
    db = await freshDb(sc.kind);
    store = await openStore(db.target, { pollMs: 100 });
    person = new Octokit({ auth: TOKEN, baseUrl: gh.apiUrl, request: { retries: 0 } });
    const p = await store.projects.create({ name: 'app', path: '', remote: gh.cloneUrl('acme', 'app'), defaultBranch: 'main', config: (await import('yaml')).parse(yaml(gh.apiUrl, root)) as Record<string, unknown> });
    projectId = p.id;
    c = fleet(store, { leaseTtlMs: 30_000, reapIntervalMs: 500 });
    c.start();
    life = await startLifecycle({ store, logger: silentLogger, tickMs: 200 });
    parts = engineParts(store, join(root, 'f1'), 'f1', { lifecycle: { sink: life.evidence, sessions: life.manager, changes: lifecycleChanges(life.manager) } });
    factory = startFactory(c, parts, join(root, 'f1'), 'f1', 1);
    await factory.start();
    // The webhook route as the coordinator mounts it (the process's forge wake, the change axis, intake), over real HTTP.
    const events = forgeEvents({ store, runs: parts.runs, home: join(root, 'coord'), changes: lifecycleChanges(life.manager), warn: (m, f) => assert.fail(`${m} ${JSON.stringify(f)}`) });
    const api = createApiServer({ routes: forgeWebhookRoutes({ secrets: async () => ({ secrets: [SECRET], configured: true }), wake: (target) => forgeWake.wake(target), events }), tokens: { verify: async () => undefined }, logger: silentLogger });
    hooks = { url: (await api.listen(0, '127.0.0.1')).url, close: () => api.close() };
  });
  after(async () => {
    await hooks?.close();
    await factory.drain();
    await life?.close();
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

  /** A signed delivery, as GitHub sends it. */
  const deliver = async (event: string, payload: unknown, secret = SECRET): Promise<{ status: number; body: Record<string, unknown> }> => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${hooks.url}/api/forge/github/webhook`, {
      method: 'POST', body,
      headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': event, 'X-GitHub-Delivery': randomUUID(), 'X-Hub-Signature-256': signBody(secret, body) },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** The change axis of the session that owns the task's change (the implementer), in order, and the task's notifications. */
  const changesOf = async (taskId: string): Promise<string[]> => {
    const owner = launchSessionId((await parts.runs.current(taskId))!.steps[0]!.sessionId!);
    const events = await store.events.list({ taskId, limit: 5000 });
    const seen = events.filter((e) => e.type === 'session.updated' && e.sessionId === owner && typeof e.payload.change === 'string').map((e) => String(e.payload.change));
    return seen.filter((x, i) => x !== 'none' && seen[i - 1] !== x);
  };
  const notesOf = (taskId: string) => store.db.all<{ kind: string; state: string }>('SELECT kind, state FROM notifications WHERE task_id = ? ORDER BY created_at, id', [taskId]);

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
    // The 409 sends the merge step round again; its push finds the racer's commit, which Gantry never
    // had: someone else's push is not overwritten — the run parks until a person answers.
    assert.equal(await settle(t.id), 'parked');
    assert.ok(raced, 'the merge raced a push');
    const parked = (await parts.runs.current(t.id))!.run.waiting!;
    assert.deepEqual([parked.kind, parked.stepId, parked.options], ['decision', 'merge', ['overwrite']]);
    assert.match(parked.question, /Someone else pushed [0-9a-f]{12} to gantry\//);
    const racerHead = await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', `refs/heads/${gh.pulls()[0]!.head}`);
    assert.equal(await gitAsync(gh.gitDir('acme', 'app'), 'show', `${racerHead}:racer.txt`), 'late', 'the racer\'s commit is still there');
    await until(async () => (await store.tasks.get(t.id))!.stage === 'blocked', 'the task is released, awaiting a person');
    await parts.actions.act(t.id, { action: 'answer', text: 'overwrite' });
    assert.equal(await settle(t.id), 'shipped');

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

  it('a signed pull_request_review webhook wakes a pr-review step polling hourly, and it merges; red CI on the PR fires the checks-failed reaction', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'Hooked change', body: 'reviewed later', pipeline: 'hooked', agent: 'scripted' }))).task;
    const pr = await until(() => gh.pulls().find((p) => p.title === 'Hooked change'), 'the pull request is opened');
    // The step has looked at the reviews once (none yet): its next look is an hour away.
    await until(() => gh.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/pulls/${pr.number}/reviews`)), 'the step looked at the reviews');
    // Its look read the PR and its CI too: red (value.txt is not "good"), and no step ahead repairs it,
    // so the checks-failed reaction fires — the implementer's session has ended, so a person is notified.
    await until(async () => (await notesOf(t.id)).some((n) => n.kind === 'checks-failed'), 'the checks-failed reaction notifies');
    assert.deepEqual(await changesOf(t.id), ['checks_failing']);
    await gh.review('acme', 'app', pr.number, { user: 'ann', state: 'APPROVED' });
    const payload = { action: 'submitted', repository, review: { state: 'approved' }, pull_request: { number: pr.number, head: { ref: pr.head } } };
    const bad = await deliver('pull_request_review', payload, 'wrong');
    assert.equal(bad.status, 401);
    const res = await deliver('pull_request_review', payload);
    assert.equal(res.status, 200);
    assert.ok(Number(res.body.woke) >= 1, 'a sleeping poll was woken');
    assert.deepEqual(res.body.observed, [t.id], "the delivery's task's pull request was looked at");
    assert.equal(await settle(t.id), 'shipped');
    assert.equal(gh.pulls().find((p) => p.title === 'Hooked change')!.merged, true);
    await until(async () => (await changesOf(t.id)).at(-1) === 'merged', 'the change axis says merged');
    assert.deepEqual(await changesOf(t.id), ['checks_failing', 'merged'], 'the approval did not hide the red CI');
    assert.equal((await notesOf(t.id)).filter((n) => n.kind === 'checks-failed').length, 1, 'the same red head notified once (poll and webhook)');
  });

  it('a pull request a person closes parks the run (reopen · reject); reopen goes on with the same pull request', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'Closed then reopened', body: 'a person closes it', pipeline: 'reviewed', agent: 'scripted' }))).task;
    const pr = await until(() => gh.pulls().find((p) => p.title === 'Closed then reopened'), 'the pull request is opened');
    await until(() => gh.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/pulls/${pr.number}/reviews`)), 'the step looks at the reviews');
    await person.rest.pulls.update({ owner: 'acme', repo: 'app', pull_number: pr.number, state: 'closed' });
    const hook = await deliver('pull_request', { action: 'closed', repository, pull_request: { number: pr.number, state: 'closed', merged: false, head: { ref: pr.head } } });
    assert.deepEqual(hook.body.observed, [t.id]);
    assert.equal(await settle(t.id), 'parked');
    const run = (await parts.runs.current(t.id))!.run;
    assert.equal(run.waiting?.kind, 'decision');
    assert.equal(run.waiting?.stepId, 'pr');
    assert.deepEqual(run.waiting?.options, ['reopen']);
    assert.match(run.waiting!.question, new RegExp(`#${pr.number} .*was closed without merging`));
    assert.equal((await changesOf(t.id)).at(-1), 'closed', 'the change axis says closed');
    await until(async () => (await store.tasks.get(t.id))!.stage === 'blocked', 'the task is released, awaiting a person');
    assert.equal(gh.pulls().filter((p) => p.title === 'Closed then reopened').length, 1, 'no second pull request was opened');
    await parts.actions.act(t.id, { action: 'answer', text: 'reopen' });
    await until(() => gh.pulls().find((p) => p.number === pr.number)?.state === 'open', 'Gantry reopens the pull request');
    await gh.review('acme', 'app', pr.number, { user: 'ann', state: 'APPROVED' });
    assert.equal(await settle(t.id), 'shipped');
    assert.equal(gh.pulls().filter((p) => p.title === 'Closed then reopened').length, 1, 'the same pull request throughout');
    assert.equal(gh.pulls().find((p) => p.number === pr.number)!.merged, true);
  });

  it('a reopen GitHub refuses (the branch was deleted) parks the run again with the error; reopen after restoring the branch goes on', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'Reopen refused', body: 'closed and branch deleted', pipeline: 'refused', agent: 'scripted' }))).task;
    const pr = await until(() => gh.pulls().find((p) => p.title === 'Reopen refused'), 'the pull request is opened');
    await until(() => gh.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/pulls/${pr.number}/reviews`)), 'the step looks at the reviews');
    await person.rest.pulls.update({ owner: 'acme', repo: 'app', pull_number: pr.number, state: 'closed' });
    const head = await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', `refs/heads/${pr.head}`);
    await gitAsync(gh.gitDir('acme', 'app'), 'update-ref', '-d', `refs/heads/${pr.head}`);
    assert.equal(await settle(t.id), 'parked');
    await until(async () => (await store.tasks.get(t.id))!.stage === 'blocked', 'the task is released, awaiting a person');
    await parts.actions.act(t.id, { action: 'answer', text: 'reopen' });
    const again = await until(async () => {
      const r = (await parts.runs.current(t.id))!.run;
      if (r.state === 'failed') assert.fail(`the run failed: ${r.failureMessage}`);
      return r.state === 'parked' && /could not reopen/i.test(r.waiting?.question ?? '') ? r : undefined;
    }, 'the run parks again on the refused reopen');
    assert.equal(again.waiting?.kind, 'decision');
    assert.equal(again.waiting?.stepId, 'pr');
    assert.deepEqual(again.waiting?.options, ['reopen']);
    assert.match(again.waiting!.question, /branch has been deleted/);
    assert.equal(gh.pulls().find((p) => p.number === pr.number)!.state, 'closed');
    // The person restores the branch and answers again: the same pull request goes on.
    await gitAsync(gh.gitDir('acme', 'app'), 'update-ref', `refs/heads/${pr.head}`, head);
    await until(async () => (await store.tasks.get(t.id))!.stage === 'blocked', 'the task is released again');
    await parts.actions.act(t.id, { action: 'answer', text: 'reopen' });
    await until(() => gh.pulls().find((p) => p.number === pr.number)?.state === 'open', 'Gantry reopens the pull request');
    await gh.review('acme', 'app', pr.number, { user: 'ann', state: 'APPROVED' });
    assert.equal(await settle(t.id), 'shipped', `${(await store.tasks.get(t.id))!.failureMessage}`);
    assert.equal(gh.pulls().filter((p) => p.title === 'Reopen refused').length, 1, 'the same pull request throughout');
  });

  it('a pull request closed while the run waits on a person: the merge step parks instead of opening another; reject fails the task', async () => {
    const t = (await store.tasks.submit(newTask(projectId, { title: 'Closed while parked', body: 'unwanted', pipeline: 'patient', agent: 'scripted' }))).task;
    assert.equal(await settle(t.id), 'parked');
    await until(async () => (await store.tasks.get(t.id))!.stage === 'blocked', 'the task is released, awaiting a person');
    const pr = gh.pulls().find((p) => p.title === 'Closed while parked')!;
    await person.rest.pulls.update({ owner: 'acme', repo: 'app', pull_number: pr.number, state: 'closed' });
    await parts.actions.act(t.id, { action: 'approve' });
    await until(async () => (await parts.runs.current(t.id))!.run.waiting?.kind === 'decision', 'the merge step parks on the closed pull request');
    assert.equal((await parts.runs.current(t.id))!.run.waiting!.stepId, 'merge');
    assert.equal(gh.pulls().filter((p) => p.title === 'Closed while parked').length, 1, 'no second pull request was opened');
    await until(async () => (await store.tasks.get(t.id))!.stage === 'blocked', 'the task is released again');
    await parts.actions.act(t.id, { action: 'reject', text: 'not wanted' });
    assert.equal(await settle(t.id), 'failed');
    assert.match(String((await store.tasks.get(t.id))!.failureMessage), /rejected at merge: not wanted/);
    assert.equal(gh.pulls().find((p) => p.number === pr.number)!.merged, false);
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

  it('the issues webhook takes a labelled issue in at once, idempotent with the poll; unlabeled and closed change nothing', async () => {
    const n = gh.openIssue('acme', 'app', { title: 'Hooked issue', body: 'from a webhook', labels: ['gantry-task'] });
    const payload = (action: string, labels: string[], state = 'open') => ({
      action, repository, issue: { number: n, title: 'Hooked issue', body: 'from a webhook', state, labels: labels.map((name) => ({ name })), html_url: `https://github.example/acme/app/issues/${n}` },
    });
    const forged = await deliver('issues', payload('opened', ['gantry-task']), 'wrong');
    assert.equal(forged.status, 401);
    assert.equal((await store.tasks.list({ projectId, limit: 500 })).tasks.filter((x) => x.title === 'Hooked issue').length, 0, 'an unsigned delivery takes nothing in');
    const opened = await deliver('issues', payload('opened', ['gantry-task']));
    assert.equal(opened.status, 200);
    const [taken] = opened.body.taken as { issue: number; taskId: string; created: boolean }[];
    assert.deepEqual([taken!.issue, taken!.created], [n, true]);
    const task = (await store.tasks.get(taken!.taskId))!;
    assert.equal(task.idempotencyKey, `github:acme/app#${n}`);
    const labelled = await deliver('issues', payload('labeled', ['gantry-task']));
    assert.deepEqual(labelled.body.taken, [{ issue: n, taskId: task.id, created: false }], 'the same task again');
    const synced = await syncProjectIssues(store, join(root, 'coord'), (await store.projects.get(projectId))!);
    assert.ok(synced.existing.some((x) => x.issue === n && x.taskId === task.id), 'the poll finds the same task');
    // A person edits the issue after it was taken in: its task stands, and neither the poll nor a delivery breaks.
    gh.issues().find((i) => i.number === n)!.title = 'Hooked issue, edited';
    const afterEdit = await syncProjectIssues(store, join(root, 'coord'), (await store.projects.get(projectId))!);
    assert.ok(afterEdit.existing.some((x) => x.issue === n && x.taskId === task.id), 'an edited issue keeps its task');
    assert.deepEqual((await deliver('issues', payload('reopened', ['gantry-task']))).body.taken, [{ issue: n, taskId: task.id, created: false }]);
    // The payload only says which issue: a delivery claiming the label for an issue that has none, or with
    // words of its own, takes in only what the API says now.
    const quiet = gh.openIssue('acme', 'app', { title: 'No label really', body: 'a person does this', labels: [] });
    const lying = await deliver('issues', { ...payload('labeled', ['gantry-task']), issue: { number: quiet, title: 'Injected', body: 'rm -rf', state: 'open', labels: [{ name: 'gantry-task' }] } });
    assert.equal(lying.status, 200);
    assert.deepEqual(lying.body.taken, []);
    assert.match(String(lying.body.ignored), /not open with the label/);
    gh.issues().find((i) => i.number === quiet)!.labels.push('gantry-task');
    const real = await deliver('issues', { ...payload('labeled', ['gantry-task']), issue: { number: quiet, title: 'Injected', body: 'rm -rf', state: 'open', labels: [{ name: 'gantry-task' }] } });
    const [took] = real.body.taken as { taskId: string }[];
    const injected = (await store.tasks.get(took!.taskId))!;
    assert.equal(injected.title, 'No label really', "the task says what the issue says, not the delivery");
    assert.doesNotMatch(injected.body, /rm -rf/);
    for (const [action, labels, state] of [['unlabeled', [], 'open'], ['closed', ['gantry-task'], 'closed']] as const) {
      const r = await deliver('issues', payload(action, [...labels], state));
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.taken, []);
      assert.match(String(r.body.ignored), /changes nothing/);
    }
    assert.notEqual((await store.tasks.get(task.id))!.stage, 'cancelled', 'nothing destructive');
    assert.equal((await store.tasks.list({ projectId, limit: 500 })).tasks.filter((x) => x.title === 'Hooked issue').length, 1);
    await settle(task.id);
    await settle(injected.id);
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
