// The local-git SCM adapter (DESIGN §9): the project repository is the remote; a change is a branch
// plus a record. Conflicts are tested with `git merge-tree --write-tree` (no worktree touched); a
// merge writes the merge commit with commit-tree and moves base with `update-ref <new> <old>`,
// an atomic compare-and-set on the expected base SHA, after checking the expected head SHA.
import { resolve } from 'node:path';
import { conflict, GantryError } from '../domain/errors.js';
import type { Change, ChangeState, Mergeability, Scm } from '../ports/engine.js';
import { git as hardened } from '../workspace/git.js';
import { MERGE_TREE_ARGS, mergeTreeVerdict } from './merge-tree.js';

const IDENTITY = { GIT_AUTHOR_NAME: 'Gantry', GIT_AUTHOR_EMAIL: 'gantry@localhost', GIT_COMMITTER_NAME: 'Gantry', GIT_COMMITTER_EMAIL: 'gantry@localhost' };

/** Hardened git (no repository hooks or programs); every exit code is an answer here. */
async function git(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await hardened(args, { cwd, env: IDENTITY, okCodes: Array.from({ length: 255 }, (_, i) => i + 1) });
    return { code: r.code, out: r.stdout.trimEnd(), err: r.stderr.trimEnd() };
  } catch (e) {
    throw new GantryError('internal', `git ${args[0]} could not run: ${e instanceof Error ? e.message : String(e)}`, { hint: 'is git installed and on PATH?' });
  }
}

async function must(cwd: string, args: string[]): Promise<string> {
  const r = await git(cwd, args);
  if (r.code !== 0) throw new GantryError('internal', `git ${args.join(' ')} failed: ${r.err || r.out}`);
  return r.out;
}

export class LocalGitScm implements Scm {
  constructor(private readonly repo: string) {}

  async pushBranch(workspace: string, branch: string): Promise<{ headSha: string }> {
    const headSha = await must(workspace, ['rev-parse', 'HEAD']);
    const common = resolve(workspace, await must(workspace, ['rev-parse', '--git-common-dir']));
    const repoCommon = resolve(this.repo, await must(this.repo, ['rev-parse', '--git-common-dir']));
    if (common === repoCommon) return { headSha }; // a worktree of the project: the branch is already there
    const ref = `refs/heads/${branch}`;
    const cur = await git(this.repo, ['rev-parse', '--verify', '-q', ref]);
    const lease = cur.code === 0 ? `--force-with-lease=${ref}:${cur.out}` : `--force-with-lease=${ref}:`;
    await must(workspace, ['push', '-q', lease, this.repo, `HEAD:${ref}`]);
    return { headSha };
  }

  async openChange(c: { taskId: string; branch: string; base: string; title: string }): Promise<Change> {
    return { taskId: c.taskId, branch: c.branch, base: c.base, ref: null };
  }

  private async sha(ref: string): Promise<string> {
    const r = await git(this.repo, ['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
    if (r.code !== 0) throw new GantryError('not_found', `git ref ${ref} not found in ${this.repo}`, { hint: 'was the branch pushed?' });
    return r.out;
  }

  private async isAncestor(a: string, b: string): Promise<boolean> {
    return (await git(this.repo, ['merge-base', '--is-ancestor', a, b])).code === 0;
  }

  async changeState(c: Change): Promise<{ state: ChangeState; headSha: string; mergedSha: string | null }> {
    const headSha = await this.sha(`refs/heads/${c.branch}`);
    const baseSha = await this.sha(`refs/heads/${c.base}`);
    return (await this.isAncestor(headSha, baseSha)) ? { state: 'merged', headSha, mergedSha: baseSha } : { state: 'open', headSha, mergedSha: null };
  }

  async mergeability(c: Change): Promise<Mergeability> {
    const baseSha = await this.sha(`refs/heads/${c.base}`);
    const headSha = await this.sha(`refs/heads/${c.branch}`);
    return mergeTreeVerdict(await git(this.repo, MERGE_TREE_ARGS(baseSha, headSha)), baseSha, headSha);
  }

  async merge(c: Change, o: { expectedHeadSha: string; expectedBaseSha: string; message: string }): Promise<{ mergedSha: string; alreadyMerged: boolean }> {
    const headSha = await this.sha(`refs/heads/${c.branch}`);
    if (headSha !== o.expectedHeadSha) throw conflict(`branch ${c.branch} is at ${headSha}, expected ${o.expectedHeadSha}`, 're-test mergeability and try again');
    const baseSha = await this.sha(`refs/heads/${c.base}`);
    if (await this.isAncestor(headSha, baseSha)) return { mergedSha: baseSha, alreadyMerged: true };
    if (baseSha !== o.expectedBaseSha) throw conflict(`${c.base} moved to ${baseSha}, expected ${o.expectedBaseSha}`, 're-test mergeability and try again');
    const mt = await git(this.repo, ['merge-tree', '--write-tree', baseSha, headSha]);
    if (mt.code !== 0) throw conflict(`${c.branch} conflicts with ${c.base}`, 'resolve the conflicts first');
    const tree = mt.out.split('\n')[0]!;
    const merged = await must(this.repo, ['commit-tree', tree, '-p', baseSha, '-p', headSha, '-m', o.message]);
    // The irreversible step, as a compare-and-set: fails if base moved since we looked.
    const up = await git(this.repo, ['update-ref', '-m', `gantry: merge ${c.branch}`, `refs/heads/${c.base}`, merged, baseSha]);
    if (up.code !== 0) throw conflict(`${c.base} moved during the merge: ${up.err}`, 're-test mergeability and try again');
    await this.syncCheckout(c.base, baseSha, merged);
    return { mergedSha: merged, alreadyMerged: false };
  }

  /** If base is checked out in the project's own clean worktree, move its files along with the ref. */
  private async syncCheckout(base: string, from: string, to: string): Promise<void> {
    const head = await git(this.repo, ['symbolic-ref', '-q', 'HEAD']);
    if (head.code !== 0 || head.out !== `refs/heads/${base}`) return;
    const bare = await git(this.repo, ['rev-parse', '--is-bare-repository']);
    if (bare.out === 'true') return;
    // Only a worktree that was clean at `from` is updated; otherwise the user's edits win and git status shows the difference.
    const dirty = await git(this.repo, ['diff-index', '--quiet', from, '--']);
    if (dirty.code !== 0) return;
    await git(this.repo, ['read-tree', '-m', '-u', from, to]);
  }
}
