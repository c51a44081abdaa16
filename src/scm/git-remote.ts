// The git-remote SCM adapter (DESIGN §9), the default: the project is a git remote (URL or local path),
// this factory's bare mirror holds task branches, and landing is Gantry's own compare-and-set push of
// the base branch (`--force-with-lease=<base>:<expected old sha>`, DESIGN §5 invariant 8). Mergeability
// and merges are computed in the mirror against the base just fetched from the remote, so a ref an
// agent moved in the mirror never lands: the remote is the truth, and the fetch is forced.
//
// A local non-bare remote whose base branch is checked out (the user's own clone) is landed the way a
// careful git user would update it (see landCheckout): never leaving `git status` showing anything
// but the user's own edits.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { conflict, GantryError } from '../domain/errors.js';
import type { Change, ChangeState, Mergeability, Scm } from '../ports/engine.js';
import { git as hardened } from '../workspace/git.js';
import { MERGE_TREE_ARGS, mergeTreeVerdict } from './merge-tree.js';
import type { Mirror } from '../workspace/mirror.js';

const IDENTITY = { GIT_AUTHOR_NAME: 'Gantry', GIT_AUTHOR_EMAIL: 'gantry@localhost', GIT_COMMITTER_NAME: 'Gantry', GIT_COMMITTER_EMAIL: 'gantry@localhost', LC_ALL: 'C' };
const ANY = Array.from({ length: 255 }, (_, i) => i + 1);

async function git(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await hardened(args, { cwd, env: IDENTITY, okCodes: ANY });
  return { code: r.code, out: r.stdout.trimEnd(), err: r.stderr.trimEnd() };
}

async function must(cwd: string, args: string[]): Promise<string> {
  const r = await git(cwd, args);
  if (r.code !== 0) throw new GantryError('internal', `git ${args.slice(0, 2).join(' ')} failed: ${r.err || r.out}`);
  return r.out;
}

/** A local repository the remote names, when it has a working tree (not bare). */
async function localCheckout(remote: string): Promise<string | null> {
  const path = remote.startsWith('file://') ? decodeURIComponent(new URL(remote).pathname) : remote;
  if (!isAbsolute(path) || !existsSync(join(path, '.git'))) return null;
  return (await git(path, ['rev-parse', '--is-bare-repository'])).out === 'false' ? path : null;
}

export class GitRemoteScm implements Scm {
  constructor(private readonly mirror: Mirror) {}

  private get repo(): string {
    return this.mirror.path;
  }

  async pushBranch(workspace: string, _branch: string): Promise<{ headSha: string }> {
    // The workspace is a worktree of the mirror: its branch is already where merge looks.
    return { headSha: await must(workspace, ['rev-parse', 'HEAD']) };
  }

  async openChange(c: { taskId: string; branch: string; base: string; title: string }): Promise<Change> {
    return { taskId: c.taskId, branch: c.branch, base: c.base, ref: null };
  }

  private async sha(ref: string): Promise<string> {
    const r = await git(this.repo, ['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
    if (r.code !== 0) throw new GantryError('not_found', `git ref ${ref} not found in the mirror ${this.repo}`, { hint: 'was the task provisioned on this factory?' });
    return r.out;
  }

  private async isAncestor(a: string, b: string): Promise<boolean> {
    return (await git(this.repo, ['merge-base', '--is-ancestor', a, b])).code === 0;
  }

  async changeState(c: Change): Promise<{ state: ChangeState; headSha: string; mergedSha: string | null }> {
    await this.mirror.fetch([c.base]);
    const headSha = await this.sha(`refs/heads/${c.branch}`);
    const baseSha = await this.sha(`refs/heads/${c.base}`);
    return (await this.isAncestor(headSha, baseSha)) ? { state: 'merged', headSha, mergedSha: baseSha } : { state: 'open', headSha, mergedSha: null };
  }

  async mergeability(c: Change): Promise<Mergeability> {
    await this.mirror.fetch([c.base]);
    const baseSha = await this.sha(`refs/heads/${c.base}`);
    const headSha = await this.sha(`refs/heads/${c.branch}`);
    return mergeTreeVerdict(await git(this.repo, MERGE_TREE_ARGS(baseSha, headSha)), baseSha, headSha);
  }

  async merge(c: Change, o: { expectedHeadSha: string; expectedBaseSha: string; message: string }): Promise<{ mergedSha: string; alreadyMerged: boolean }> {
    const headSha = await this.sha(`refs/heads/${c.branch}`);
    if (headSha !== o.expectedHeadSha) throw conflict(`branch ${c.branch} is at ${headSha}, expected ${o.expectedHeadSha}`, 're-test mergeability and try again');
    await this.mirror.fetch([c.base]);
    const baseSha = await this.sha(`refs/heads/${c.base}`);
    if (await this.isAncestor(headSha, baseSha)) return { mergedSha: baseSha, alreadyMerged: true };
    if (baseSha !== o.expectedBaseSha) throw conflict(`${c.base} moved to ${baseSha}, expected ${o.expectedBaseSha}`, 're-test mergeability and try again');
    const mt = await git(this.repo, ['merge-tree', '--write-tree', baseSha, headSha]);
    if (mt.code !== 0) throw conflict(`${c.branch} conflicts with ${c.base}`, 'resolve the conflicts first');
    const merged = await must(this.repo, ['commit-tree', mt.out.split('\n')[0]!, '-p', baseSha, '-p', headSha, '-m', o.message]);
    const checkout = await localCheckout(this.mirror.remote);
    const checkedOut = checkout ? (await git(checkout, ['symbolic-ref', '-q', 'HEAD'])).out === `refs/heads/${c.base}` : false;
    if (checkout && checkedOut) await this.landCheckout(checkout, c, baseSha, merged);
    else await this.push(c.base, baseSha, merged);
    await this.mirror.setRef(`refs/heads/${c.base}`, merged, baseSha);
    return { mergedSha: merged, alreadyMerged: false };
  }

  /** The irreversible step, as a compare-and-set: the remote's base must still be at `expected`. */
  private async push(base: string, expected: string, merged: string): Promise<void> {
    const ref = `refs/heads/${base}`;
    const r = await git(this.repo, ['push', '--porcelain', '--no-verify', `--force-with-lease=${ref}:${expected}`, this.mirror.remote, `${merged}:${ref}`]);
    if (r.code === 0) return;
    const why = `${r.out}\n${r.err}`;
    if (/stale info|fetch first|non-fast-forward|rejected/.test(why) && !/checked out|denyCurrentBranch/.test(why)) {
      throw conflict(`${base} moved on the remote during the merge`, 're-test mergeability and try again');
    }
    throw new GantryError('bad_request', `the remote refused the landing push of ${base}: ${why.trim().split('\n').slice(-3).join(' | ')}`, {
      hint: 'check push access to the project remote (credentials, branch protection), then retry the task',
    });
  }

  /**
   * Landing on a branch checked out in the user's own clone. Like `git push` with
   * receive.denyCurrentBranch=updateInstead, but careful with the user's uncommitted edits the way
   * `git merge --ff-only` / `git checkout` are: the working tree and index move from the old base to the
   * merge with a two-way `read-tree -m -u`, which carries the user's edits along and refuses (changing
   * nothing) when an edit touches a file the merge changes. Then the branch moves by compare-and-set.
   */
  private async landCheckout(checkout: string, c: Change, baseSha: string, merged: string): Promise<void> {
    const ref = `refs/heads/${c.base}`;
    const park = `refs/gantry/landing/${c.taskId}`;
    // The merge's objects into the user's repository, under a hidden ref (a push never touches its files).
    await must(this.repo, ['push', '--quiet', '--no-verify', '--force', this.mirror.remote, `${merged}:${park}`]);
    try {
      if ((await must(checkout, ['rev-parse', 'HEAD'])) !== baseSha) throw conflict(`${c.base} moved in ${checkout} during the merge`, 're-test mergeability and try again');
      const rt = await git(checkout, ['read-tree', '-m', '-u', baseSha, merged]);
      if (rt.code !== 0) {
        throw new GantryError('bad_request', `not landed: your checkout ${checkout} has uncommitted changes to files this task changes`, {
          hint: `commit or stash them there (git -C ${checkout} status), then retry the task; Gantry never overwrites your edits`,
          details: { git: rt.err.split('\n').slice(0, 5).join(' | ') },
        });
      }
      const up = await git(checkout, ['update-ref', '-m', `gantry: land ${c.branch}`, ref, merged, baseSha]);
      if (up.code !== 0) {
        await git(checkout, ['read-tree', '-m', '-u', merged, baseSha]); // put the files back where the user's branch is
        throw conflict(`${c.base} moved in ${checkout} during the merge`, 're-test mergeability and try again');
      }
    } finally {
      await git(checkout, ['update-ref', '-d', park]);
    }
  }
}
