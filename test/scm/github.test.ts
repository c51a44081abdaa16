// The GitHub SCM adapter against the local GitHub stand-in (test/support/github/stand-in.ts), through
// Octokit itself, with real git over smart HTTP: push, PR opened and reused, hosted CI, reviews with
// line comments, merge at a stale head refused (409) then retried, branch protection refusal (405),
// bad credentials (401), a push the remote rejects (not someone else's push), and the token in no error message.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { GitHubScm, githubSettings, githubToken } from '../../src/scm/github.js';
import { Mirror } from '../../src/workspace/mirror.js';
import { closedChangeOf, refusalOf } from '../../src/domain/forge/pr-state.js';
import { isGantryError } from '../../src/domain/errors.js';
import { issueEcho, issuesToTake } from '../../src/domain/forge/intake.js';
import { validateConfig } from '../../src/config/project-config.js';
import { makeRepo } from '../support/git.js';
import { gitAsync } from '../support/git-http.js';
import { startGitHubStandIn, type GitHubStandIn } from '../support/github/stand-in.js';

const TOKEN = 'ghp_standInToken0123456789';

describe('GitHub adapter against the stand-in', () => {
  let gh: GitHubStandIn;
  let root: string;
  let scm: GitHubScm;
  let mirror: Mirror;
  let ws: string;
  const branch = 'gantry/t-1';

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-gh-'));
    const seed = makeRepo({ 'README.md': '# app\n', 'a.txt': 'one\n' });
    gh = await startGitHubStandIn(join(root, 'srv'), TOKEN);
    await gh.createRepo('acme', 'app', seed);
    rmSync(seed, { recursive: true, force: true });
    mirror = Mirror.of(join(root, 'home'), { dirName: 'app', remote: gh.cloneUrl('acme', 'app') });
    await mirror.fetch(['main']);
    ws = join(root, 'ws');
    await gitAsync(mirror.path, 'worktree', 'add', '-q', '-b', branch, ws, 'main');
    writeFileSync(join(ws, 'feature.txt'), 'feature\n');
    await gitAsync(ws, 'add', '-A');
    await gitAsync(ws, 'commit', '-q', '-m', 'feature');
    const s = githubSettings({ apiUrl: gh.apiUrl, labels: ['gantry', 'bot'] }, 'https://github.com/acme/app.git');
    scm = new GitHubScm(mirror, s, TOKEN);
  });
  after(async () => {
    await gh.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses a request without the token (401), as GitHub does', async () => {
    const anon = new Octokit({ baseUrl: gh.apiUrl, request: { retries: 0 } });
    await assert.rejects(anon.rest.pulls.list({ owner: 'acme', repo: 'app' }), (e: { status: number }) => e.status === 401);
    const wrong = new GitHubScm(mirror, githubSettings({ apiUrl: gh.apiUrl }, 'git@github.com:acme/app.git'), 'ghp_wrong');
    await assert.rejects(wrong.openChange({ taskId: 't-1', branch, base: 'main', title: 'x' }), (e: unknown) => isGantryError(e) && e.code === 'unauthorized' && !e.message.includes('ghp_wrong'));
  });

  it('pushes the task branch with the token and opens one pull request, reused and updated after', async () => {
    const { headSha } = await scm.pushBranch(ws, branch);
    assert.equal(await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', `refs/heads/${branch}`), headSha);
    const c = await scm.openChange({ taskId: 't-1', branch, base: 'main', title: 'Add a feature', body: 'Please add feature.txt' });
    assert.equal(c.ref, '1');
    const pr = gh.pulls()[0]!;
    assert.equal(pr.title, 'Add a feature');
    assert.match(pr.body, /t-1/);
    assert.match(pr.body, /Please add feature\.txt/);
    assert.deepEqual(pr.labels, ['gantry', 'bot']);
    const again = await scm.openChange({ taskId: 't-1', branch, base: 'main', title: 'Add a feature, v2' });
    assert.equal(again.ref, '1', 'the open pull request is reused');
    assert.equal(gh.pulls().length, 1);
    assert.equal(gh.pulls()[0]!.title, 'Add a feature, v2', 'kept up to date');
    assert.deepEqual(await scm.changeState(c), { state: 'open', headSha, mergedSha: null });
    const m = await scm.mergeability(c);
    assert.equal(m.clean, true);
    assert.equal(m.headSha, headSha);
  });

  it('reads hosted CI (check runs + commit statuses) of the head', async () => {
    const c = { taskId: 't-1', branch, base: 'main', ref: '1' };
    const head = await gitAsync(ws, 'rev-parse', 'HEAD');
    gh.setCi(async (sha) => (sha === head ? { checkRuns: [{ name: 'build', status: 'completed', conclusion: 'failure', output: { title: 'tests failed', text: 'expected 2, got 3' } }], statuses: [{ context: 'lint', state: 'success' }] } : {}));
    const v = await scm.hostedChecks(c, head);
    assert.equal(v.verdict, 'failing');
    assert.ok(v.verdict === 'failing' && v.checks.find((x) => x.name === 'build')!.detail.includes('expected 2, got 3'));
    gh.setCi(async () => ({ checkRuns: [{ name: 'build', status: 'in_progress', conclusion: null }] }));
    assert.deepEqual(await scm.hostedChecks(c, head), { verdict: 'pending', waitingOn: ['build'] });
    gh.setCi(async () => ({}));
  });

  it('reads reviews with line comments as a changes request', async () => {
    const c = { taskId: 't-1', branch, base: 'main', ref: '1' };
    await gh.review('acme', 'app', 1, { user: 'ann', state: 'CHANGES_REQUESTED', body: 'not yet', comments: [{ path: 'feature.txt', line: 1, body: 'say hello instead' }] });
    const v = await scm.reviews(c);
    assert.equal(v.state, 'changes_requested');
    assert.match(v.feedback, /feature\.txt:1: say hello instead/);
    await gh.review('acme', 'app', 1, { user: 'ann', state: 'APPROVED' });
    assert.equal((await scm.reviews(c)).state, 'approved');
  });

  it('branch protection refusing the merge is a forge refusal (a park), not a conflict', async () => {
    const c = { taskId: 't-1', branch, base: 'main', ref: '1' };
    gh.protect('acme', 'app', 'main', { requiredChecks: ['build'] });
    const m = await scm.mergeability(c);
    await assert.rejects(scm.merge(c, { expectedHeadSha: m.headSha, expectedBaseSha: m.baseSha, message: 'Merge' }), (e: unknown) => {
      assert.ok(isGantryError(e) && e.code === 'forbidden', String(e));
      assert.equal(e.details?.refusedBy, 'forge');
      assert.match(e.message, /Required status check "build" is expected/);
      return true;
    });
    gh.protect('acme', 'app', 'main', null);
  });

  it('a head moved just before the merge is a lost race (409 → conflict); the retry merges', async () => {
    const c = { taskId: 't-1', branch, base: 'main', ref: '1' };
    const m = await scm.mergeability(c);
    // Someone pushes to the PR branch at the worst moment.
    gh.beforeNextMerge(async () => {
      const other = join(root, 'other');
      await gitAsync(root, 'clone', '-q', '-b', branch, gh.gitDir('acme', 'app'), other);
      writeFileSync(join(other, 'late.txt'), 'late\n');
      await gitAsync(other, 'add', '-A');
      await gitAsync(other, 'commit', '-q', '-m', 'late push');
      await gitAsync(other, 'push', '-q', 'origin', branch);
    });
    await assert.rejects(scm.merge(c, { expectedHeadSha: m.headSha, expectedBaseSha: m.baseSha, message: 'Merge' }), (e: unknown) => isGantryError(e) && e.code === 'conflict' && /Head branch was modified/.test(e.message));
    assert.equal((await scm.changeState(c)).state, 'open', 'nothing merged');
    // The late push is someone else's commit: the retry's push refuses to overwrite it (the run parks),
    // and overwrites it only once a person answers "overwrite".
    const late = await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', `refs/heads/${branch}`);
    await assert.rejects(scm.pushBranch(ws, branch), (e: unknown) => { const r = refusalOf(e); return r?.kind === 'foreign_push' && r.remoteSha === late; });
    assert.equal(await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', `refs/heads/${branch}`), late, 'not overwritten');
    await scm.adoptRemoteHead(ws, branch, late);
    // The engine's retry: push the task branch again, re-test, merge at the head it now expects.
    await scm.pushBranch(ws, branch);
    const m2 = await scm.mergeability(c);
    const r = await scm.merge(c, { expectedHeadSha: m2.headSha, expectedBaseSha: m2.baseSha, message: 'Merge t-1' });
    assert.equal(r.alreadyMerged, false);
    assert.equal(await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', 'main'), r.mergedSha);
    assert.equal(await gitAsync(gh.gitDir('acme', 'app'), 'show', 'main:feature.txt'), 'feature');
    assert.deepEqual(await scm.changeState(c), { state: 'merged', headSha: m2.headSha, mergedSha: r.mergedSha });
    assert.deepEqual(await scm.merge(c, { expectedHeadSha: m2.headSha, expectedBaseSha: m2.baseSha, message: 'again' }), { mergedSha: r.mergedSha, alreadyMerged: true }, 'never twice');
  });

  it('a push after the pull request merged does not bring back the branch GitHub deleted (the merge step pushes first)', async () => {
    const c = { taskId: 't-1', branch, base: 'main', ref: '1' };
    const head = await gitAsync(ws, 'rev-parse', 'HEAD');
    assert.deepEqual([(await scm.changeState(c)).state, (await scm.changeState(c)).headSha], ['merged', head]);
    // "Automatically delete head branches": GitHub deletes the branch once its pull request merged.
    const bare = gh.gitDir('acme', 'app');
    await gitAsync(bare, 'update-ref', '-d', `refs/heads/${branch}`);
    // A merge step that runs again (its holder died after the merge, or a person merged while a step waited) pushes first.
    assert.deepEqual(await scm.pushBranch(ws, branch), { headSha: head });
    assert.equal(await gitAsync(bare, 'for-each-ref', `refs/heads/${branch}`), '', 'the deleted branch stays deleted');
    assert.equal((await scm.openChange({ taskId: 't-1', branch, base: 'main', title: 'Add a feature' })).ref, '1', 'the merged pull request is still the change');
    assert.equal((await scm.changeState(c)).state, 'merged');
  });

  it('a first push of a branch still goes when GitHub cannot list its pull requests (outage 500, rate limit 403): that look is only an optimisation', async () => {
    const bare = gh.gitDir('acme', 'app');
    const head = await gitAsync(ws, 'rev-parse', 'HEAD');
    for (const [status, b] of [[500, 'gantry/t-outage'], [403, 'gantry/t-ratelimited']] as const) {
      gh.failPullList(status);
      const seen = gh.requests.length;
      try {
        assert.deepEqual(await scm.pushBranch(ws, b), { headSha: head });
      } finally {
        gh.failPullList(null);
      }
      assert.equal(await gitAsync(bare, 'rev-parse', `refs/heads/${b}`), head, `pushed despite ${status}`);
      assert.ok(gh.requests.slice(seen).some((r) => r.path.endsWith('/pulls') && r.status === status), `the failing list was asked (${status})`);
    }
  });

  it('a push the server refuses (a pre-receive hook, branch protection) is a bad_request with git\'s message, not someone else\'s push', async () => {
    // GitHub answers `[remote rejected]` for a protected branch, a hook, or a token without the workflow scope.
    const hook = join(gh.gitDir('acme', 'app'), 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "refusing: protected by policy" >&2\nexit 1\n', { mode: 0o755 });
    try {
      const b = 'gantry/t-hook';
      await assert.rejects(scm.pushBranch(ws, b), (e: unknown) => {
        assert.equal(refusalOf(e), null, 'not a foreign push');
        assert.ok(isGantryError(e) && e.code === 'bad_request', String(e));
        assert.match(e.message, /pre-receive hook declined|refusing: protected by policy/);
        return true;
      });
      // The same once the branch exists with Gantry's own head on it: still not "someone else pushed".
      rmSync(hook);
      await scm.pushBranch(ws, b);
      writeFileSync(join(ws, 'hooked.txt'), 'h\n');
      await gitAsync(ws, 'add', '-A');
      await gitAsync(ws, 'commit', '-q', '-m', 'hooked');
      writeFileSync(hook, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      await assert.rejects(scm.pushBranch(ws, b), (e: unknown) => refusalOf(e) === null && isGantryError(e) && e.code === 'bad_request' && /remote rejected/.test(e.message));
    } finally {
      rmSync(hook, { force: true });
    }
  });

  it('a merged pull request is the branch\'s change; one a person closed is refused (never a second one) until reopened', async () => {
    const merged = await scm.openChange({ taskId: 't-1', branch, base: 'main', title: 'Add a feature' });
    assert.equal(merged.ref, '1', 'the merged pull request, not a new one');
    writeFileSync(join(ws, 'second.txt'), 'two\n');
    await gitAsync(ws, 'add', '-A');
    await gitAsync(ws, 'commit', '-q', '-m', 'second');
    const b2 = 'gantry/t-2';
    await scm.pushBranch(ws, b2);
    const c = await scm.openChange({ taskId: 't-2', branch: b2, base: 'main', title: 'Second' });
    const person = new Octokit({ auth: TOKEN, baseUrl: gh.apiUrl, request: { retries: 0 } });
    await person.rest.pulls.update({ owner: 'acme', repo: 'app', pull_number: Number(c.ref), state: 'closed' });
    const before = gh.pulls().length;
    await assert.rejects(scm.openChange({ taskId: 't-2', branch: b2, base: 'main', title: 'Second' }), (e: unknown) => closedChangeOf(e)?.pull === c.ref);
    assert.equal(gh.pulls().length, before, 'no pull request opened around the refusal');
    assert.deepEqual(await scm.changeOf('t-2', b2, 'main'), { taskId: 't-2', branch: b2, base: 'main', ref: c.ref, url: c.url }, 'a webhook finds the closed pull request by its branch');
    assert.equal((await scm.pullFacts(c)).state, 'closed');
    await scm.reopenChange(c);
    assert.equal((await scm.openChange({ taskId: 't-2', branch: b2, base: 'main', title: 'Second' })).ref, c.ref, 'the same pull request goes on');
  });

  it('lists labelled open issues (not pull requests) and echoes an outcome back as a comment and a label', async () => {
    const wanted = gh.openIssue('acme', 'app', { title: 'Fix the login', body: 'it 500s', labels: ['gantry-task', 'bug'] });
    gh.openIssue('acme', 'app', { title: 'Unlabelled', labels: ['bug'] });
    // A labelled open pull request: GitHub lists it among issues, and it is never taken in.
    await gitAsync(gh.gitDir('acme', 'app'), 'branch', 'someone/pr', 'main');
    const octo = new Octokit({ auth: TOKEN, baseUrl: gh.apiUrl, request: { retries: 0 } });
    const pr = (await octo.rest.pulls.create({ owner: 'acme', repo: 'app', head: 'someone/pr', base: 'main', title: 'A person\'s PR' })).data;
    await octo.rest.issues.addLabels({ owner: 'acme', repo: 'app', issue_number: pr.number, labels: ['gantry-task'] });
    const listed = await scm.labelledIssues('gantry-task');
    assert.deepEqual(listed.filter((i) => !i.isPull).map((i) => [i.number, i.title, i.body, i.state]), [[wanted, 'Fix the login', 'it 500s', 'open']]);
    assert.ok(listed.some((i) => i.isPull && i.number === pr.number), 'the labelled pull request is marked isPull');
    assert.deepEqual(issuesToTake(listed, 'gantry-task', new Set()).map((i) => i.number), [wanted]);
    assert.deepEqual(issuesToTake(listed, 'gantry-task', new Set([wanted])), [], 'an issue with a task is not taken twice');
    await scm.echoToIssue(wanted, issueEcho({ type: 'shipped', pullUrl: 'https://github.example/acme/app/pull/1', mergedSha: 'abc123' }, 't-9'));
    const issue = gh.issues().find((i) => i.number === wanted)!;
    assert.deepEqual(issue.comments.map((c) => c.body), ['Gantry shipped task t-9 (pull request https://github.example/acme/app/pull/1, merge abc123).']);
    assert.ok(issue.labels.includes('gantry:shipped'));
    await assert.rejects(scm.echoToIssue(99_999, { comment: 'x', label: 'y' }), (e: unknown) => isGantryError(e) && e.code === 'not_found');
  });

  it('the stand-in only lets the token push', async () => {
    const other = join(root, 'anon');
    await gitAsync(root, 'clone', '-q', gh.cloneUrl('acme', 'app'), other);
    writeFileSync(join(other, 'x.txt'), 'x\n');
    await gitAsync(other, 'add', '-A');
    await gitAsync(other, 'commit', '-q', '-m', 'x');
    await assert.rejects(gitAsync(other, 'push', '-q', 'origin', 'HEAD:refs/heads/anon'));
  });
});

describe('GitHub adapter configuration', () => {
  it('refuses a token in gantry.yaml with a clear error', () => {
    assert.throws(() => validateConfig({ scm: { adapter: 'github', github: { token: 'ghp_x' } } }), /never put a token in gantry\.yaml/);
  });
  it('refuses a webhook secret in gantry.yaml, accepts a file naming it', () => {
    assert.throws(() => validateConfig({ scm: { adapter: 'github', github: { webhookSecret: 's3cret' } } }), /never put the webhook secret in gantry\.yaml/);
    assert.doesNotThrow(() => validateConfig({ scm: { adapter: 'github', github: { webhookSecretFile: '~/.config/gantry/hook' } } }));
  });
  it('derives owner/name from the remote, or asks for scm.github.repo', () => {
    assert.equal(githubSettings({}, 'https://github.com/acme/app.git').repo, 'acme/app');
    assert.equal(githubSettings({}, 'git@github.com:acme/app.git').repo, 'acme/app');
    assert.equal(githubSettings({ repo: 'o/r' }, '/some/path').repo, 'o/r');
    assert.throws(() => githubSettings({}, '/some/path'), /scm\.github\.repo/);
  });
  it('takes the token from the environment, else the file named in config, else says what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-tok-'));
    writeFileSync(join(dir, 'tok'), 'ghp_fromfile\n');
    assert.equal(githubToken({ tokenFile: 'tok' }, { GITHUB_TOKEN: 'ghp_env' }, dir), 'ghp_env');
    assert.equal(githubToken({ tokenFile: 'tok' }, { GANTRY_GITHUB_TOKEN: 'ghp_g', GITHUB_TOKEN: 'ghp_env' }, dir), 'ghp_g');
    assert.equal(githubToken({ tokenFile: 'tok' }, {}, dir), 'ghp_fromfile');
    assert.throws(() => githubToken({}, {}, dir), (e: unknown) => isGantryError(e) && /no token/.test(e.message) && /GANTRY_GITHUB_TOKEN/.test(e.hint ?? ''));
    rmSync(dir, { recursive: true, force: true });
  });
});
