import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalPath, decideGuard, flaggedExecutables, type ChangedEntry, type GuardRules } from '../../src/domain/guard.js';
import { withStore } from '../support/db.js';
import { harness, sh } from './support.js';

const rules = (over: Partial<GuardRules> = {}): GuardRules => ({ allow: [], stepAllow: [], deny: [], maxFileBytes: 100, quotaBytes: 10_000, ...over });
const file = (path: string, over: Partial<ChangedEntry> = {}): ChangedEntry => ({ path, status: 'added', kind: 'file', size: 10, resolvesInside: true, ...over });
const kinds = (f: Parameters<typeof decideGuard>[0], r: GuardRules) => decideGuard(f, r).map((v) => `${v.kind}:${v.paths.join(',')}`);
const facts = (changes: ChangedEntry[], over: Partial<Parameters<typeof decideGuard>[0]> = {}) => ({ changes, gitMetaChanged: [], diskBytes: null, exempt: [], ...over });

describe('guard decider (pure)', () => {
  const table: [string, Parameters<typeof decideGuard>[0], GuardRules, string[]][] = [
    ['clean change', facts([file('src/a.ts')]), rules(), []],
    ['write into .git metadata', facts([], { gitMetaChanged: ['.git/hooks/pre-commit'] }), rules(), ['git_dir:.git/hooks/pre-commit']],
    ['nested .git path', facts([file('sub/.GIT/config')]), rules(), ['git_dir:sub/.GIT/config']],
    ['nested repository', facts([file('vendor/x', { kind: 'gitlink', size: null })]), rules(), ['git_dir:vendor/x']],
    ['symlink out', facts([file('l', { kind: 'symlink', resolvesInside: false })]), rules(), ['symlink_escape:l']],
    ['file through a symlinked parent', facts([file('d/f', { resolvesInside: false })]), rules(), ['path_escape:d/f']],
    ['deleting is never an escape', facts([file('l', { status: 'deleted', kind: 'absent', resolvesInside: false })]), rules(), []],
    ['too large', facts([file('big.bin', { size: 101 })]), rules(), ['file_too_large:big.bin']],
    ['quota', facts([], { diskBytes: 10_001 }), rules(), ['quota:']],
    ['deny glob', facts([file('secrets/k.pem'), file('src/a.ts')]), rules({ deny: ['secrets/**'] }), ['denied:secrets/k.pem']],
    ['deny wins over allow', facts([file('src/gen.ts')]), rules({ allow: ['src/**'], deny: ['**/gen.ts'] }), ['denied:src/gen.ts']],
    ['outside project allow', facts([file('docs/x.md'), file('src/a.ts')]), rules({ allow: ['src/**'] }), ['not_allowed:docs/x.md']],
    ['step allow narrows', facts([file('src/a.ts'), file('src/b/c.ts')]), rules({ allow: ['src/**'], stepAllow: ['src/b/**'] }), ['not_allowed:src/a.ts']],
    ['dotfiles match globs', facts([file('.github/w.yml')]), rules({ allow: ['.github/**'] }), []],
    ['placed files are exempt', facts([file('.env', { kind: 'symlink', resolvesInside: false })], { exempt: ['.env'] }), rules(), []],
    ['escaping path', facts([file('../x')]), rules(), ['path_escape:../x']],
    ['review-only: every change, .git and a moved HEAD', facts([file('src/a.ts')], { gitMetaChanged: ['.git/config'], headMoved: true }), rules({ reviewOnly: true }), ['git_dir:.git/config', 'review_only:.git/config,HEAD,src/a.ts']],
    ['review-only: nothing changed', facts([]), rules({ reviewOnly: true }), []],
  ];
  for (const [name, f, r, want] of table) it(name, () => assert.deepEqual(kinds(f, r), want));

  it('flags executables the agent added or made executable, not deleted or exempt ones', () => {
    const f = facts([
      file('run.sh', { executable: true }),
      file('old.sh', { status: 'deleted', kind: 'absent', executable: true }),
      file('placed.sh', { executable: true }),
      file('a.txt'),
    ], { exempt: ['placed.sh'] });
    assert.deepEqual(flaggedExecutables(f), ['run.sh']);
  });

  it('canonicalizes paths', () => {
    assert.equal(canonicalPath('./a//b/../c'), 'a/c');
    assert.equal(canonicalPath('a/../../x'), null);
    assert.equal(canonicalPath('/etc/passwd'), null);
    assert.equal(canonicalPath('a\\b'), 'a/b');
  });
});

describe('guard on a real workspace', () => {
  it('catches .git writes, symlink escapes (direct and through parent links), big files, deny globs and quota; records events; reverts', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id, { guard: { maxFileBytes: 1000, deny: ['secrets/**'] } }));
        await h.ws.checkpoint(id, { reason: 'start' });
        const outside = join(h.root, 'outside');
        mkdirSync(outside);
        writeFileSync(join(outside, 'target'), 'x');
        const hooks = sh(ws.path, 'rev-parse', '--path-format=absolute', '--git-common-dir');
        writeFileSync(join(hooks, 'hooks', 'post-checkout'), '#!/bin/sh\necho pwned\n');
        symlinkSync(join(outside, 'target'), join(ws.path, 'direct-link'));
        symlinkSync(outside, join(ws.path, 'dirlink')); // a directory link: paths "inside" it live outside
        symlinkSync('dirlink/target', join(ws.path, 'via-parent')); // relative, inside-looking, resolves out
        symlinkSync('dirlink/nothing-here', join(ws.path, 'dangling')); // dangling, still outside
        symlinkSync('src/a.ts', join(ws.path, 'fine-link'));
        writeFileSync(join(ws.path, 'big.bin'), Buffer.alloc(2000));
        mkdirSync(join(ws.path, 'secrets'));
        writeFileSync(join(ws.path, 'secrets', 'k.pem'), 'k');
        writeFileSync(join(ws.path, 'src', 'ok.ts'), 'ok');

        const warn = await h.ws.guard(id, { step: 'implement', response: 'warn' });
        const got = Object.fromEntries(warn.violations.map((v) => [v.kind, v.paths]));
        assert.deepEqual(got.git_dir, ['.git/hooks/post-checkout']);
        assert.deepEqual(got.symlink_escape, ['dangling', 'direct-link', 'dirlink', 'via-parent']);
        assert.deepEqual(got.file_too_large, ['big.bin']);
        assert.deepEqual(got.denied, ['secrets/k.pem']);
        assert.equal(warn.applied, 'warned');
        const evs = (await store.events.list({ taskId: id, limit: 500 })).filter((e) => e.type === 'workspace.guard_violation');
        assert.equal(evs.length, 4);
        assert.deepEqual(evs.find((e) => e.payload.kind === 'git_dir')?.payload.paths, ['.git/hooks/post-checkout']);

        const reverted = await h.ws.guard(id, { response: 'revert' });
        assert.equal(reverted.applied, 'reverted');
        for (const p of ['direct-link', 'dirlink', 'via-parent', 'dangling', 'big.bin', 'secrets/k.pem']) assert.equal(existsSync(join(ws.path, p)) || isLink(join(ws.path, p)), false, p);
        assert.equal(existsSync(join(hooks, 'hooks', 'post-checkout')), false, 'new hook removed');
        assert.equal(readFileSync(join(ws.path, 'src', 'ok.ts'), 'utf8'), 'ok', 'allowed work kept');
        assert.ok(isLink(join(ws.path, 'fine-link')));
        assert.equal(existsSync(join(outside, 'target')), true, 'never follows links out when deleting');
        assert.deepEqual((await h.ws.guard(id, {})).violations, []);

        writeFileSync(join(ws.path, 'docs.md'), 'd');
        const narrowed = await h.ws.guard(id, { allow: ['src/**'] });
        assert.deepEqual(narrowed.violations.map((v) => v.kind), ['not_allowed']);
      } finally {
        h.dispose();
      }
    });
  });

  it('block: nothing the step wrote survives — files, commits, another branch checked out, hooks, config, the worktree .git link', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id, { guard: { deny: ['secrets/**'] } }));
        const before = await h.ws.checkpoint(id, { step: 'implement', reason: 'start' });
        const common = sh(ws.path, 'rev-parse', '--path-format=absolute', '--git-common-dir');
        const link = readFileSync(join(ws.path, '.git'), 'utf8');
        const config = readFileSync(join(common, 'config'), 'utf8');
        const head = sh(ws.path, 'rev-parse', 'HEAD');
        mkdirSync(join(ws.path, 'secrets'));
        writeFileSync(join(ws.path, 'secrets', 'k.pem'), 'k');
        writeFileSync(join(ws.path, 'src', 'ok.ts'), 'ok');
        writeFileSync(join(ws.path, 'tool.sh'), '#!/bin/sh\n', { mode: 0o755 });
        sh(ws.path, 'add', '-A');
        sh(ws.path, '-c', 'user.name=a', '-c', 'user.email=a@b', 'commit', '-qm', 'agent work');
        writeFileSync(join(common, 'hooks', 'pre-push'), '#!/bin/sh\necho pwned\n', { mode: 0o755 });
        writeFileSync(join(common, 'config'), `${config}[core]\n\tfsmonitor = touch /tmp/pwned\n`);
        sh(ws.path, 'checkout', '-q', '-b', 'elsewhere');
        writeFileSync(join(ws.path, '.git'), 'gitdir: /nowhere\n'); // the link every git command follows

        const r = await h.ws.guard(id, { step: 'implement' });
        assert.equal(r.applied, 'blocked');
        const got = Object.fromEntries(r.violations.map((v) => [v.kind, v.paths]));
        assert.deepEqual(got.git_dir, ['.git', '.git/config', '.git/hooks/pre-push']);
        assert.deepEqual(got.denied, ['secrets/k.pem']);
        assert.deepEqual(r.executables, ['tool.sh']);
        assert.equal(readFileSync(join(ws.path, '.git'), 'utf8'), link, 'worktree link restored');
        assert.equal(readFileSync(join(common, 'config'), 'utf8'), config, 'config restored');
        assert.equal(existsSync(join(common, 'hooks', 'pre-push')), false, 'planted hook removed');
        assert.equal(sh(ws.path, 'symbolic-ref', 'HEAD'), `refs/heads/${ws.branch}`, 'HEAD back on the task branch');
        assert.equal(sh(ws.path, 'rev-parse', 'HEAD'), head, 'the agent commit is gone from the branch');
        for (const p of ['secrets/k.pem', 'src/ok.ts', 'tool.sh']) assert.equal(existsSync(join(ws.path, p)), false, p);
        assert.equal(sh(ws.path, 'status', '--porcelain'), '', 'worktree and index equal the baseline');
        const types = (await store.events.list({ taskId: id, limit: 500 })).map((e) => e.type);
        for (const t of ['workspace.guard_violation', 'workspace.guard_reverted', 'workspace.guard_flagged']) assert.ok(types.includes(t), `${t} in ${types.join(',')}`);
        // The reverted state is the latest checkpoint, so a resumed run starts from it.
        const latest = (await h.ws.listCheckpoints(id)).at(-1)!;
        assert.equal(sh(ws.path, 'rev-parse', `${latest.sha}^{tree}`), sh(ws.path, 'rev-parse', `${before.checkpoint.sha}^{tree}`));
        assert.deepEqual((await h.ws.guard(id, { step: 'implement' })).violations, []);
      } finally {
        h.dispose();
      }
    });
  });

  it('revert: a reverted path the agent committed is reverted on the branch too', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id, { guard: { deny: ['secrets/**'], response: 'revert' } }));
        await h.ws.checkpoint(id, { reason: 'start' });
        mkdirSync(join(ws.path, 'secrets'));
        writeFileSync(join(ws.path, 'secrets', 'k.pem'), 'k');
        writeFileSync(join(ws.path, 'src', 'ok.ts'), 'ok');
        sh(ws.path, 'add', '-A');
        sh(ws.path, '-c', 'user.name=a', '-c', 'user.email=a@b', 'commit', '-qm', 'agent work');
        const r = await h.ws.guard(id, { step: 'fix' });
        assert.equal(r.applied, 'reverted');
        assert.throws(() => sh(ws.path, 'cat-file', '-e', 'HEAD:secrets/k.pem'), 'the branch no longer has the denied file');
        assert.equal(sh(ws.path, 'show', 'HEAD:src/ok.ts'), 'ok', 'allowed committed work kept');
      } finally {
        h.dispose();
      }
    });
  });

  it('review-only: any change a reviewer makes (files or commits) is discarded; reviewerChanges: fail blocks', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        for (const reviewerChanges of ['discard', 'fail'] as const) {
          const id = await h.newTaskId();
          const ws = await h.ws.provision(h.request(id, { guard: { reviewerChanges } }));
          await h.ws.checkpoint(id, { reason: 'review' });
          const head = sh(ws.path, 'rev-parse', 'HEAD');
          writeFileSync(join(ws.path, 'src', 'a.ts'), 'reviewer rewrote this');
          sh(ws.path, '-c', 'user.name=a', '-c', 'user.email=a@b', 'commit', '-qam', 'reviewer commit');
          const r = await h.ws.guard(id, { step: 'review', reviewOnly: true });
          assert.equal(r.applied, reviewerChanges === 'fail' ? 'blocked' : 'reverted');
          assert.deepEqual(r.violations.map((v) => [v.kind, v.paths]), [['review_only', ['HEAD', 'src/a.ts']]]);
          assert.equal(sh(ws.path, 'rev-parse', 'HEAD'), head);
          assert.notEqual(readFileSync(join(ws.path, 'src', 'a.ts'), 'utf8'), 'reviewer rewrote this');
        }
      } finally {
        h.dispose();
      }
    });
  });

  it('a workspace over its disk quota is a violation that revert cannot fix', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id, { guard: { quotaBytes: 200_000, response: 'revert' } }));
        writeFileSync(join(ws.path, 'build.log'), Buffer.alloc(300_000)); // ignored, but it still fills the disk
        const r = await h.ws.guard(id, {});
        assert.deepEqual(r.violations.map((v) => v.kind), ['quota']);
        assert.equal(r.applied, 'blocked');
      } finally {
        h.dispose();
      }
    });
  });
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
