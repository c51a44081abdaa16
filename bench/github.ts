// PR round trip through the GitHub adapter against the local stand-in, beside the raw calls it makes
// (push with the token header, create the PR, merge it at the head SHA) done directly with git and
// Octokit — the adapter's overhead: the open-PR lookup, labels, the mirror fetch + merge-tree for
// mergeability, the PR read before merging. Alternating rounds, so both see the same machine.
// Run: node --import tsx bench/github.ts [--rounds N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { GitHubScm, githubSettings } from '../src/scm/github.js';
import { Mirror } from '../src/workspace/mirror.js';
import { makeRepo } from '../test/support/git.js';
import { gitAsync } from '../test/support/git-http.js';
import { startGitHubStandIn } from '../test/support/github/stand-in.js';

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const ROUNDS = arg('rounds', 10);
const TOKEN = 'ghp_benchToken';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const root = mkdtempSync(join(tmpdir(), 'gantry-bench-gh-'));
const gh = await startGitHubStandIn(join(root, 'srv'), TOKEN);
try {
  const seed = makeRepo({ 'README.md': '# bench\n' });
  await gh.createRepo('acme', 'app', seed);
  rmSync(seed, { recursive: true, force: true });
  const mirror = Mirror.of(join(root, 'home'), { dirName: 'app', remote: gh.cloneUrl('acme', 'app') });
  await mirror.fetch(['main']);
  const scm = new GitHubScm(mirror, githubSettings({ apiUrl: gh.apiUrl }, 'https://github.com/acme/app'), TOKEN);
  const api = new Octokit({ auth: TOKEN, baseUrl: gh.apiUrl, request: { retries: 0 } });
  const header = `Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;

  /** A worktree of the mirror on a new branch with one unique commit. */
  const branchWith = async (name: string): Promise<string> => {
    await mirror.fetch(['main']);
    const ws = join(root, name.replace(/\//g, '-'));
    await gitAsync(mirror.path, 'worktree', 'add', '-q', '-b', name, ws, 'main');
    writeFileSync(join(ws, `${name.replace(/\//g, '-')}.txt`), `${name}\n`);
    await gitAsync(ws, 'add', '-A');
    await gitAsync(ws, 'commit', '-q', '-m', name);
    return ws;
  };

  const gantry: number[] = [];
  const raw: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const a = `gantry/bench-${r}`;
    const wa = await branchWith(a);
    let t0 = performance.now();
    await scm.pushBranch(wa, a);
    const change = await scm.openChange({ taskId: `bench-${r}`, branch: a, base: 'main', title: `bench ${r}` });
    const m = await scm.mergeability(change);
    await scm.merge(change, { expectedHeadSha: m.headSha, expectedBaseSha: m.baseSha, message: `Merge bench ${r}` });
    gantry.push(performance.now() - t0);

    const b = `raw/bench-${r}`;
    const wb = await branchWith(b);
    t0 = performance.now();
    await gitAsync(wb, '-c', `http.extraHeader=${header}`, 'push', '-q', '--force', gh.cloneUrl('acme', 'app'), `HEAD:refs/heads/${b}`);
    const head = await gitAsync(wb, 'rev-parse', 'HEAD');
    const pr = await api.rest.pulls.create({ owner: 'acme', repo: 'app', head: b, base: 'main', title: `raw ${r}` });
    await api.rest.pulls.merge({ owner: 'acme', repo: 'app', pull_number: pr.data.number, sha: head, merge_method: 'merge' });
    raw.push(performance.now() - t0);
  }
  const g = median(gantry);
  const w = median(raw);
  console.log(`\nGitHub PR round trip (push, open, merge) against the local stand-in, ${ROUNDS} rounds, ms`);
  console.log(`${'path'.padEnd(44)}${'median'.padStart(10)}${'min'.padStart(10)}`);
  console.log(`${'gantry (GitHubScm: push, openChange, mergeability, merge)'.padEnd(44)}${g.toFixed(1).padStart(10)}${Math.min(...gantry).toFixed(1).padStart(10)}`);
  console.log(`${'raw (git push + pulls.create + pulls.merge)'.padEnd(44)}${w.toFixed(1).padStart(10)}${Math.min(...raw).toFixed(1).padStart(10)}`);
  console.log(`overhead: ${(g - w).toFixed(1)} ms median (${(g / w).toFixed(2)}×)`);
} finally {
  await gh.close();
  rmSync(root, { recursive: true, force: true });
}
