// The default git-remote SCM adapter and the checks runner against real git and real child processes.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, makeRepo } from '../support/git.js';
import { GitRemoteScm } from '../../src/scm/git-remote.js';
import { Mirror } from '../../src/workspace/mirror.js';
import { ChecksRunner } from '../../src/scm/checks-runner.js';
import { GantryError } from '../../src/domain/errors.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function repoWithBranches(): string {
  const repo = makeRepo({ 'a.txt': 'one\ntwo\nthree\n', 'b.txt': 'b\n' });
  dirs.push(repo);
  git(repo, 'checkout', '-q', '-b', 'gantry/t1');
  writeFileSync(join(repo, 'a.txt'), 'ONE\ntwo\nthree\n');
  git(repo, 'commit', '-qam', 'task 1');
  git(repo, 'checkout', '-q', 'main');
  git(repo, 'checkout', '-q', '-b', 'gantry/t2');
  writeFileSync(join(repo, 'a.txt'), 'uno\ntwo\nthree\n');
  git(repo, 'commit', '-qam', 'task 2 conflicts with task 1');
  git(repo, 'checkout', '-q', 'main');
  return repo;
}

describe('git-remote scm (the default: a mirror, landing by compare-and-set push)', () => {
  const mirrorOf = async (remote: string): Promise<GitRemoteScm> => {
    const home = mkdtempSync(join(tmpdir(), 'gantry-scm-home-'));
    dirs.push(home);
    const mirror = Mirror.of(home, { dirName: 'p', remote });
    await mirror.fetch(['main', 'gantry/t1', 'gantry/t2']);
    return new GitRemoteScm(mirror);
  };

  it('tests mergeability with merge-tree and merges at the expected SHAs exactly once', async () => {
    const repo = repoWithBranches();
    const scm = await mirrorOf(repo);
    const c1 = await scm.openChange({ taskId: 't1', branch: 'gantry/t1', base: 'main', title: 't1' });
    const c2 = await scm.openChange({ taskId: 't2', branch: 'gantry/t2', base: 'main', title: 't2' });
    const m1 = await scm.mergeability(c1);
    assert.equal(m1.clean, true);
    assert.equal((await scm.mergeability(c2)).clean, true); // both clean against the old base
    // Wrong expected head: refused, nothing moves.
    await assert.rejects(scm.merge(c1, { expectedHeadSha: m1.baseSha, expectedBaseSha: m1.baseSha, message: 'x' }), (e: GantryError) => e.code === 'conflict');
    assert.equal(git(repo, 'rev-parse', 'main'), m1.baseSha);
    const r = await scm.merge(c1, { expectedHeadSha: m1.headSha, expectedBaseSha: m1.baseSha, message: 'merge t1' });
    assert.equal(r.alreadyMerged, false);
    assert.equal(git(repo, 'rev-parse', 'main'), r.mergedSha);
    assert.equal(readFileSync(join(repo, 'a.txt'), 'utf8'), 'ONE\ntwo\nthree\n', 'the clean checkout of main follows the merge');
    assert.equal(git(repo, 'status', '--porcelain'), '');
    // A replay of the same merge is recognized, never merged twice.
    const again = await scm.merge(c1, { expectedHeadSha: m1.headSha, expectedBaseSha: m1.baseSha, message: 'merge t1' });
    assert.deepEqual(again, { mergedSha: r.mergedSha, alreadyMerged: true });
    assert.equal((await scm.changeState(c1)).state, 'merged');
    // Task 2 now conflicts with the new base; a stale expected base is refused.
    const m2 = await scm.mergeability(c2);
    assert.equal(m2.clean, false);
    assert.deepEqual(m2.conflicts, ['a.txt']);
    assert.match(m2.detail, /CONFLICT/);
    await assert.rejects(scm.merge(c2, { expectedHeadSha: m2.headSha, expectedBaseSha: m1.baseSha, message: 'x' }), (e: GantryError) => e.code === 'conflict');
    assert.equal(git(repo, 'rev-parse', 'main'), r.mergedSha);
  });

  it('a base someone else moved on a bare remote after the test is a lost race: refused, nothing lands', async () => {
    const seed = repoWithBranches();
    const bare = mkdtempSync(join(tmpdir(), 'gantry-bare-'));
    dirs.push(bare);
    git(bare, 'clone', '-q', '--bare', seed, '.');
    const scm = await mirrorOf(bare);
    const c1 = await scm.openChange({ taskId: 't1', branch: 'gantry/t1', base: 'main', title: 't1' });
    const m1 = await scm.mergeability(c1);
    // Someone pushes to main between the test and the merge.
    writeFileSync(join(seed, 'b.txt'), 'moved\n');
    git(seed, 'commit', '-qam', 'someone else');
    git(seed, 'push', '-q', bare, 'main');
    const moved = git(bare, 'rev-parse', 'main');
    await assert.rejects(scm.merge(c1, { expectedHeadSha: m1.headSha, expectedBaseSha: m1.baseSha, message: 'merge t1' }), (e: GantryError) => e.code === 'conflict');
    assert.equal(git(bare, 'rev-parse', 'main'), moved);
    // Re-tested against the new base, it lands on top.
    const again = await scm.mergeability(c1);
    const r = await scm.merge(c1, { expectedHeadSha: again.headSha, expectedBaseSha: again.baseSha, message: 'merge t1' });
    assert.equal(git(bare, 'rev-parse', 'main'), r.mergedSha);
    assert.equal(git(bare, 'rev-parse', `${r.mergedSha}^1`), moved);
  });
});

describe('checks runner', () => {
  it('runs real processes: pass, fail with tail, timeout kills the process group; logs stored', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'gantry-checks-'));
    dirs.push(ws);
    const logDir = join(ws, '.logs');
    const runner = new ChecksRunner({ killGraceMs: 200 });
    const results = await runner.run(
      ws,
      [
        { name: 'ok', run: 'echo fine', timeout: 30 },
        { name: 'red', run: 'for i in $(seq 1 2000); do echo line $i; done; echo "boom: expected 2" >&2; exit 3', timeout: 30 },
        { name: 'slow', run: 'sleep 30 & echo started; wait', timeout: 0.5 },
      ],
      { logDir },
    );
    assert.deepEqual(results.map((r) => [r.name, r.ok, r.exitCode === 0, r.timedOut]), [['ok', true, true, false], ['red', false, false, false], ['slow', false, false, true]]);
    const red = results[1]!;
    assert.equal(red.exitCode, 3);
    assert.match(red.tail, /boom: expected 2/);
    assert.ok(red.tail.length <= 4000 && !red.tail.includes('line 1\n'));
    assert.ok(readFileSync(red.logFile, 'utf8').includes('line 1\n'), 'the full log is stored');
    assert.ok(existsSync(results[2]!.logFile));
    assert.match(results[2]!.tail, /timed out/);
  });
});
