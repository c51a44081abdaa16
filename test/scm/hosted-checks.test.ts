// The hosted-checks provider against the GitHub stand-in with an injected clock: it pushes the head,
// opens the PR, polls while CI is pending (each sleep is a poll), and returns red output for the fixer;
// a timeout with nothing settled is a timed-out check, a PR a person merges meanwhile ends the wait as
// passed, and a non-forge adapter gets a clear refusal.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { GitHubScm, githubSettings } from '../../src/scm/github.js';
import { ChecksProviders, HostedChecks, type HostedClock } from '../../src/scm/hosted-checks.js';
import { ChecksRunner } from '../../src/scm/checks-runner.js';
import { Mirror } from '../../src/workspace/mirror.js';
import { makeRepo } from '../support/git.js';
import { gitAsync } from '../support/git-http.js';
import { startGitHubStandIn, type CheckRunFixture, type GitHubStandIn } from '../support/github/stand-in.js';

const TOKEN = 'ghp_hostedChecksToken';

/** A clock whose sleeps advance time and run a step of the scenario (CI moving on meanwhile). */
function scriptedClock(onSleep: (n: number) => void): HostedClock & { sleeps: number } {
  let t = 0;
  const c = {
    sleeps: 0,
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
      c.sleeps += 1;
      onSleep(c.sleeps);
    },
  };
  return c;
}

describe('hosted checks (GitHub stand-in, injected clock)', () => {
  let gh: GitHubStandIn;
  let root: string;
  let scm: GitHubScm;
  let ws: string;
  const branch = 'gantry/t-ci';

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-hosted-'));
    const seed = makeRepo({ 'README.md': '# app\n' });
    gh = await startGitHubStandIn(join(root, 'srv'), TOKEN);
    await gh.createRepo('acme', 'app', seed);
    rmSync(seed, { recursive: true, force: true });
    const mirror = Mirror.of(join(root, 'home'), { dirName: 'app', remote: gh.cloneUrl('acme', 'app') });
    await mirror.fetch(['main']);
    ws = join(root, 'ws');
    await gitAsync(mirror.path, 'worktree', 'add', '-q', '-b', branch, ws, 'main');
    writeFileSync(join(ws, 'f.txt'), 'f\n');
    await gitAsync(ws, 'add', '-A');
    await gitAsync(ws, 'commit', '-q', '-m', 'f');
    scm = new GitHubScm(mirror, githubSettings({ apiUrl: gh.apiUrl }, 'https://github.com/acme/app'), TOKEN);
  });
  after(async () => {
    await gh.close();
    rmSync(root, { recursive: true, force: true });
  });

  const target = () => ({ scm, taskId: 't-ci', branch, base: 'main', title: 'CI task' });

  it('polls while CI is pending, then hands the failing output on', async () => {
    let run: CheckRunFixture = { name: 'build', status: 'queued', conclusion: null };
    gh.setCi(async () => ({ checkRuns: [run] }));
    const clock = scriptedClock((n) => {
      if (n === 1) run = { name: 'build', status: 'in_progress', conclusion: null };
      if (n === 2) run = { name: 'build', status: 'completed', conclusion: 'failure', output: { title: 'build broke', text: 'src/x.ts(3,1): error TS2322' } };
    });
    const [r] = await new HostedChecks(clock).run(ws, [{ name: 'ci', hosted: true, pollSeconds: 5, timeout: 600 }], { logDir: join(root, 'logs1'), target: target() });
    assert.equal(clock.sleeps, 2, 'two polls saw it pending');
    assert.equal(r!.ok, false);
    assert.match(r!.tail, /error TS2322/);
    assert.match(readFileSync(r!.logFile, 'utf8'), /build broke/);
    assert.equal(gh.pulls().length, 1, 'the PR was opened for the head');
    assert.equal(await gitAsync(gh.gitDir('acme', 'app'), 'rev-parse', `refs/heads/${branch}`), await gitAsync(ws, 'rev-parse', 'HEAD'), 'the head was pushed');
  });

  it('passes when every run and status is green', async () => {
    gh.setCi(async () => ({ checkRuns: [{ name: 'build', status: 'completed', conclusion: 'success' }], statuses: [{ context: 'lint', state: 'success' }] }));
    const [r] = await new HostedChecks(scriptedClock(() => undefined)).run(ws, [{ name: 'ci', hosted: true, timeout: 600 }], { logDir: join(root, 'logs2'), target: target() });
    assert.equal(r!.ok, true);
  });

  it('times out when nothing settles', async () => {
    gh.setCi(async () => ({}));
    const clock = scriptedClock(() => undefined);
    const [r] = await new HostedChecks(clock).run(ws, [{ name: 'ci', hosted: true, pollSeconds: 10, timeout: 60 }], { logDir: join(root, 'logs3'), target: target() });
    assert.equal(r!.ok, false);
    assert.equal(r!.timedOut, true);
    assert.match(r!.tail, /no check run or status was reported/);
    assert.equal(clock.sleeps, 6, 'polled at 0, 10, … 60 s, then gave up');
  });

  it('routes command checks and hosted checks to their providers, in order', async () => {
    gh.setCi(async () => ({ statuses: [{ context: 'lint', state: 'success' }] }));
    const all = new ChecksProviders({ command: new ChecksRunner(), hosted: new HostedChecks(scriptedClock(() => undefined)) });
    const rs = await all.run(ws, [{ name: 'local', run: 'test -f f.txt', timeout: 30 }, { name: 'ci', hosted: true, timeout: 60 }], { logDir: join(root, 'logs4'), target: target() });
    assert.deepEqual(rs.map((r) => [r.name, r.ok]), [['local', true], ['ci', true]]);
  });

  it('a pull request a person merges while CI runs ends the wait as passed, even when CI then goes red (no fixer for a merged branch)', async () => {
    let run: CheckRunFixture = { name: 'build', status: 'in_progress', conclusion: null };
    gh.setCi(async () => ({ checkRuns: [run] }));
    const person = new Octokit({ auth: TOKEN, baseUrl: gh.apiUrl, request: { retries: 0 } });
    const pull = gh.pulls().find((p) => p.head === branch && p.state === 'open')!;
    let t = 0;
    // While Gantry sleeps between polls, an admin merges past the running CI, which then fails.
    const clock: HostedClock = {
      now: () => t,
      sleep: async (ms) => {
        t += ms;
        if (!pull.merged) await person.rest.pulls.merge({ owner: 'acme', repo: 'app', pull_number: pull.number });
        run = { name: 'build', status: 'completed', conclusion: 'failure', output: { title: 'build broke' } };
      },
    };
    const [r] = await new HostedChecks(clock).run(ws, [{ name: 'ci', hosted: true, pollSeconds: 5, timeout: 600 }], { logDir: join(root, 'logs6'), target: target() });
    assert.equal(pull.merged, true);
    assert.equal(r!.ok, true, r!.tail);
    assert.match(r!.tail, new RegExp(`pull request #${pull.number} was merged`));
  });

  it('a project without a forge adapter gets a clear refusal, not a hang', async () => {
    const [r] = await new HostedChecks(scriptedClock(() => undefined)).run(ws, [{ name: 'ci', hosted: true, timeout: 60 }], { logDir: join(root, 'logs5') });
    assert.equal(r!.ok, false);
    assert.match(r!.tail, /scm\.adapter: github/);
  });
});
