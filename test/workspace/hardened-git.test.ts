// Defect (issue #13): a blocked agent planted a hook and core.fsmonitor in the repository, and Gantry's
// own git then ran them. Every program a repository's config or .git can name — hooks, fsmonitor,
// clean/smudge filters, merge drivers, textconv, credential helpers — is planted here, then Gantry
// provisions, checkpoints, diffs, guards, tests mergeability, merges and tears down: none may run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withStore } from '../support/db.js';
import { scmFor } from '../../src/scm/registry.js';
import { hardeningOverrides, parseScopedConfig } from '../../src/lib/git-hardening.js';
import { harness, sh } from './support.js';

/** Plants every program-naming hook and key into `gitDir`/its config; each writes its name into `marker`. */
export function plantPrograms(repo: string, gitDir: string, marker: string): void {
  const prog = (name: string) => {
    const p = join(gitDir, `planted-${name}.sh`);
    writeFileSync(p, `#!/bin/sh\necho ${name} >> '${marker}'\ncat\n`);
    chmodSync(p, 0o755);
    return p;
  };
  mkdirSync(join(gitDir, 'hooks'), { recursive: true });
  for (const hook of ['pre-commit', 'post-checkout', 'post-commit', 'reference-transaction', 'post-index-change', 'pre-push', 'post-merge', 'pre-auto-gc']) {
    writeFileSync(join(gitDir, 'hooks', hook), `#!/bin/sh\necho hook:${hook} >> '${marker}'\n`);
    chmodSync(join(gitDir, 'hooks', hook), 0o755);
  }
  sh(repo, 'config', 'core.fsmonitor', prog('fsmonitor'));
  sh(repo, 'config', 'filter.evil.clean', prog('clean'));
  sh(repo, 'config', 'filter.evil.smudge', prog('smudge'));
  sh(repo, 'config', 'merge.evil.driver', `${prog('merge-driver')} %O %A %B`);
  sh(repo, 'config', 'diff.evil.textconv', prog('textconv'));
  sh(repo, 'config', 'credential.helper', `!${prog('credential')}`);
}

describe('hardened git: Gantry never runs what a repository plants', () => {
  it('provision, checkpoint, diff, guard, merge-tree, merge and teardown run no hook, fsmonitor or driver', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store, { repoFiles: { '.gitattributes': '*.txt filter=evil merge=evil diff=evil\n', 'notes.txt': 'one\n' } });
      try {
        const marker = join(h.root, 'ran.log');
        const id = await h.newTaskId();
        const w = await h.ws.provision(h.request(id));
        // What an agent in the task's worktree can write: the mirror's config and hooks (its common dir).
        plantPrograms(w.path, h.mirror, marker);
        // Sanity: the planted programs do run for a plain git command in that worktree.
        sh(w.path, 'status', '--porcelain');
        assert.ok(existsSync(marker), 'the planted fsmonitor runs for plain git');
        writeFileSync(marker, '');

        writeFileSync(join(w.path, 'notes.txt'), 'two\n');
        writeFileSync(join(w.path, 'new.txt'), 'new\n');
        await h.ws.checkpoint(id, { reason: 'test' });
        await h.ws.diff(id);
        await h.ws.guard(id, { step: 'implement', response: 'warn' });
        plantPrograms(w.path, h.mirror, marker); // the guard undid the planting: plant again for what follows
        sh(w.path, '-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'filter.evil.clean=', 'add', '-A');
        // (The test's own commit disarms the filter too: a racily clean index entry is re-hashed through it.)
        sh(w.path, '-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'filter.evil.clean=', 'commit', '-qm', 'work');
        const project = (await store.projects.get(h.projectId))!;
        const scm = scmFor({ home: h.home, project });
        const change = await scm.openChange({ taskId: id, branch: w.branch, base: 'main', title: 't' });
        await scm.pushBranch(w.path, w.branch);
        const m = await scm.mergeability(change);
        assert.equal(m.clean, true, m.detail);
        await scm.merge(change, { expectedHeadSha: m.headSha, expectedBaseSha: m.baseSha, message: 'merge' });
        await h.ws.teardown(id, { force: true });
        assert.equal(readFileSync(marker, 'utf8'), '', 'nothing planted ran');
      } finally {
        h.dispose();
      }
    });
  });

  it('disarms program-naming keys only from the repository scopes and keeps the user\'s credential helpers', () => {
    const entries = parseScopedConfig(
      ['global', 'credential.helper\nstore', 'local', 'credential.helper\n!evil', 'global', 'filter.lfs.smudge\ngit-lfs smudge', 'local', 'filter.evil.clean\nevil', 'worktree', 'merge.x.driver\nevil', 'local', 'user.name\nme', ''].join('\0'),
    );
    const o = hardeningOverrides(entries);
    assert.deepEqual(o.find(([k]) => k === 'core.hooksPath'), ['core.hooksPath', '/dev/null']);
    assert.deepEqual(o.find(([k]) => k === 'core.fsmonitor'), ['core.fsmonitor', 'false']);
    assert.deepEqual(o.filter(([k]) => k === 'credential.helper'), [['credential.helper', ''], ['credential.helper', 'store']]);
    assert.deepEqual(o.find(([k]) => k === 'filter.evil.clean'), ['filter.evil.clean', '']);
    assert.deepEqual(o.find(([k]) => k === 'merge.x.driver'), ['merge.x.driver', 'false']);
    assert.equal(o.find(([k]) => k === 'filter.lfs.smudge'), undefined, 'the user\'s own filters (global scope) stay');
    assert.equal(o.find(([k]) => k === 'user.name'), undefined);
  });
});
