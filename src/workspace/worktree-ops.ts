// Repository-wide git operations (worktree add/remove/prune, branch deletion) serialized per
// repository across processes, so concurrent provisioning never trips over git's own locks.
import { existsSync } from 'node:fs';
import { realpath, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { branchExistsFs } from './git-paths.js';
import { git, GitError, gitOut } from './git.js';
import { withFileLock } from './file-lock.js';

const lockPaths = new Map<string, string>();

/** The lock file for a repository: in its common git dir, so every worktree and process agrees. */
export async function repoLockPath(repo: string): Promise<string> {
  let p = lockPaths.get(repo);
  if (!p) {
    p = join(await gitOut(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: repo }), 'gantry-repo.lock');
    lockPaths.set(repo, p);
  }
  return p;
}

export async function withRepoLock<T>(repo: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(await repoLockPath(repo), fn);
}

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  return branchExistsFs(dirname(await repoLockPath(repo)), branch);
}

/** A ref lock this old was left by a killed git process: git holds one for milliseconds. */
export const STALE_REF_LOCK_MS = 5_000;

/** The lock file a failed git command could not create ("Unable to create '…': File exists"), if that is why it failed. */
export function lockNamedBy(stderr: string): string | null {
  return /Unable to create '([^']+)': File exists/.exec(stderr)?.[1] ?? null;
}

/** Pure: a lock file of this age (null: gone) was left by a dead git process. */
export const isStaleLock = (ageMs: number | null): boolean => ageMs !== null && ageMs >= STALE_REF_LOCK_MS;

/**
 * `git worktree add` for a task's own branch. A git process killed while updating that branch
 * (a factory SIGKILLed mid-provisioning) leaves `refs/heads/<branch>.lock`, and every later add
 * fails on it. The caller holds the repository lock and the task has no worktree, so no live git
 * process can be updating the branch: a stale lock for exactly that ref is removed and the add
 * retried once. Returns the lock file it removed, if any.
 */
export async function addWorktree(repo: string, args: readonly string[], branch: string): Promise<string | null> {
  // C locale: the repair reads git's message.
  const opts = { cwd: repo, env: { LC_ALL: 'C' } };
  try {
    await git(args, opts);
    return null;
  } catch (e) {
    const named = e instanceof GitError ? lockNamedBy(e.stderr) : null;
    if (named === null) throw e;
    const lock = `${join(dirname(await repoLockPath(repo)), 'refs', 'heads', ...branch.split('/'))}.lock`;
    // git names the file by its working directory's path, which may run through a symlink.
    const same = await Promise.all([realpath(named), realpath(lock)]).then(([a, b]) => a === b, () => false);
    const age = same ? await stat(lock).then((st) => Date.now() - st.mtimeMs, () => null) : null;
    if (!isStaleLock(age)) throw e;
    await unlink(lock).catch(() => undefined);
    await git(args, opts);
    return lock;
  }
}

/**
 * Remove a worktree whatever state a crash left it in: locked mid-creation, directory gone, or
 * directory present but unregistered. Idempotent.
 */
export async function removeWorktree(repo: string, path: string, opts: { deleteBranch?: string } = {}): Promise<void> {
  await withRepoLock(repo, async () => {
    await git(['worktree', 'unlock', path], { cwd: repo, okCodes: [128] });
    if (existsSync(path)) await git(['worktree', 'remove', '--force', '--force', path], { cwd: repo, okCodes: [128] });
    await rm(path, { recursive: true, force: true });
    await git(['worktree', 'prune'], { cwd: repo });
    if (opts.deleteBranch) await git(['branch', '-D', opts.deleteBranch], { cwd: repo, okCodes: [1] });
  });
}

/** Worktree paths git has registered for the repository. */
export async function listWorktrees(repo: string): Promise<string[]> {
  const out = await gitOut(['worktree', 'list', '--porcelain', '-z'], { cwd: repo });
  return out
    .split('\0')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
}
